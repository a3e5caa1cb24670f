/// Results of a sweep as points — x a cost (GPUs, memory), y what they deliver
/// (tokens/s) — with the Pareto front drawn as a step line through the points that no
/// other beats, and those points labelled. Points that are out (do not fit in memory) are
/// crosses in grey: visible, so a reader sees what was tried, and never mistaken for
/// candidates.
///
/// Labels are placed greedily, front points left to right: each takes the first of a
/// fixed list of positions around its point whose box covers no point, no label placed
/// before, no run of the front line, and stays inside the plot; it is left out (its point
/// keeps its tooltip) when none is free.
public struct ScatterChart: Sendable {
    public struct Point: Hashable, Sendable {
        public var x: Double
        public var y: Double
        /// Drawn as a candidate (a dot) or as out (a cross).
        public var fits: Bool
        /// Whether the point is on the front: joined by the step line and labelled.
        public var onFront: Bool
        /// The label on the plot (front points only).
        public var label: String
        /// What the tooltip says.
        public var tooltip: String

        public init(x: Double, y: Double, fits: Bool, onFront: Bool, label: String, tooltip: String) {
            self.x = x
            self.y = y
            self.fits = fits
            self.onFront = onFront
            self.label = label
            self.tooltip = tooltip
        }
    }

    public enum XScale: Sendable {
        case linear
        /// Logarithmic with powers of `base` as ticks.
        case log(base: Double)
    }

    public var title: String
    public var subtitle: String
    public var xTitle: String
    public var yTitle: String
    public var xScale: XScale
    public var xFormat: TickFormat
    public var points: [Point]
    /// The legend's words for the front, such as "Pareto front: no run that fits has more
    /// tokens/s with fewer GPUs".
    public var frontDescription: String
    /// A limit on x drawn as a dashed vertical line with its label, such as the GPUs'
    /// memory: points right of it are out.
    public var xLimit: (value: Double, label: String)?
    public var width: Double
    public var height: Double

    public init(title: String, subtitle: String, xTitle: String, yTitle: String, xScale: XScale, xFormat: TickFormat = .plain,
                points: [Point], frontDescription: String = "Pareto front", xLimit: (value: Double, label: String)? = nil,
                width: Double = 960, height: Double = 600) {
        self.frontDescription = frontDescription
        self.xLimit = xLimit
        self.title = title
        self.subtitle = subtitle
        self.xTitle = xTitle
        self.yTitle = yTitle
        self.xScale = xScale
        self.xFormat = xFormat
        self.points = points
        self.width = width
        self.height = height
    }

    static let labelSize = 10.0

    /// A label's box, for overlap tests.
    struct Box {
        var x0, y0, x1, y1: Double
        func overlaps(_ other: Box) -> Bool { x0 < other.x1 && other.x0 < x1 && y0 < other.y1 && other.y0 < y1 }
    }

    /// The chart as an SVG document.
    public func svg() -> String {
        var legendEntries: [Legend.Entry] = [Legend.Entry("fits in memory", .dot(Palette.blue))]
        if points.contains(where: { !$0.fits }) { legendEntries.append(Legend.Entry("does not fit", .cross(Palette.grey))) }
        if points.contains(where: \.onFront) {
            legendEntries.append(Legend.Entry(frontDescription, .dotOnLine(dot: Palette.orange, line: Palette.ink)))
        }
        let legend = Legend(entries: legendEntries)
        let legendTop = ChartHeader.height(subtitle: subtitle, width: width)
        let top = legendTop + legend.height(width: width - 100) + 16
        let bottom = height - 58
        // Not from zero: a sweep's throughputs differ by tens of percent, and that spread
        // is what the reader compares.
        let yScale = LinearScale(covering: points.map(\.y), range: (bottom, top), includingZero: false, tickCount: 6, format: .si)
        let left = max(70, Axis.leftMargin(for: yScale) + 12)
        let right = width - 30
        let xs = points.map(\.x) + (xLimit.map { [$0.value] } ?? [])
        // Points inset from the axes, so none sits on one and is cut in half.
        let inset = 14.0
        let xAxis: any Scale = switch xScale {
        case .linear: LinearScale(covering: xs, range: (left + inset, right - inset), includingZero: true, tickCount: 8, format: xFormat)
        case let .log(base): LogScale(covering: xs, range: (left + inset, right - inset), base: base)
        }
        let area = PlotArea(left: left, top: top, width: right - left, height: bottom - top)

        var document = SVGDocument(width: width, height: height, title: title)
        ChartHeader.draw(title: title, subtitle: subtitle, width: width, in: &document)
        legend.draw(x: area.left, y: legendTop, width: area.width, in: &document)
        Axis.bottom(xAxis, area: area, title: xTitle, in: &document)
        Axis.left(yScale, area: area, title: yTitle, in: &document)

        // Boxes labels must not cover: every point, the limit's label, the front's line.
        var placed: [Box] = []
        if let xLimit {
            let x = xAxis.position(xLimit.value)
            document.line(x1: x, y1: area.top, x2: x, y2: area.bottom, stroke: Palette.red, width: 1, dash: "5,4")
            document.text(xLimit.label, x: x + 4, y: area.top + 12, size: Self.labelSize, fill: Palette.red)
            placed.append(Box(x0: x, y0: area.top, x1: x + 8 + TextMetrics.width(xLimit.label, size: Self.labelSize), y1: area.top + 16))
        }
        let place = { (point: Point) in (x: xAxis.position(point.x), y: yScale.position(point.y)) }
        // Out first, then candidates, then the front on top.
        document.beginGroup("runs")
        for point in points where !point.fits {
            let p = place(point)
            document.cross(cx: p.x, cy: p.y, r: 4, stroke: Palette.grey, tooltip: point.tooltip)
        }
        for point in points where point.fits && !point.onFront {
            let p = place(point)
            document.circle(cx: p.x, cy: p.y, r: 4, fill: Palette.blue, stroke: "#ffffff", tooltip: point.tooltip)
        }
        document.endGroup()

        let front = points.filter(\.onFront).sorted { ($0.x, -$0.y) < ($1.x, -$1.y) }
        guard !front.isEmpty else { return document.rendered() }
        document.beginGroup("front")
        var steps: [(x: Double, y: Double)] = []
        for (index, point) in front.enumerated() {
            let p = place(point)
            if index > 0 { steps.append((p.x, steps.last!.y)) }
            steps.append(p)
        }
        // The best throughput within any budget: flat after the last front point, up to the
        // limit when there is one (beyond it nothing counts).
        steps.append((xLimit.map { xAxis.position($0.value) } ?? area.right, steps.last!.y))
        document.polyline(steps, stroke: Palette.ink, width: 1.5)
        for point in front {
            let p = place(point)
            document.circle(cx: p.x, cy: p.y, r: 5, fill: Palette.orange, stroke: Palette.ink, tooltip: point.tooltip)
        }
        placed += points.map { point in
            let p = place(point)
            return Box(x0: p.x - 5, y0: p.y - 5, x1: p.x + 5, y1: p.y + 5)
        }
        // The step line's horizontal runs are where labels would hide it: avoid them too.
        for (a, b) in zip(steps, steps.dropFirst()) where a.y == b.y {
            placed.append(Box(x0: min(a.x, b.x), y0: a.y - 1, x1: max(a.x, b.x), y1: a.y + 1))
        }
        for point in front {
            let p = place(point)
            let textWidth = TextMetrics.width(point.label, size: Self.labelSize)
            let h = Self.labelSize
            let candidates: [(dx: Double, dy: Double, anchor: SVGDocument.Anchor)] = [
                (8, -8, .start), (8, 14, .start), (-8, -8, .end), (-8, 14, .end), (10, 4, .start), (-10, 4, .end),
                (8, -22, .start), (-8, -22, .end), (8, 28, .start), (-8, 28, .end),
                (8, -36, .start), (-8, -36, .end), (8, 42, .start), (-8, 42, .end),
            ]
            for candidate in candidates {
                let baseline = p.y + candidate.dy
                let x0 = candidate.anchor == .start ? p.x + candidate.dx : p.x + candidate.dx - textWidth
                let box = Box(x0: x0 - 1, y0: baseline - h, x1: x0 + textWidth + 1, y1: baseline + 3)
                guard box.x0 >= area.left, box.x1 <= area.right, box.y0 >= area.top, box.y1 <= area.bottom,
                      !placed.contains(where: { $0.overlaps(box) }) else { continue }
                placed.append(box)
                if abs(candidate.dy) > 14 {
                    // Far from its point: a leader line says whose label it is.
                    document.line(x1: p.x, y1: p.y, x2: p.x + candidate.dx, y2: baseline - (candidate.dy < 0 ? 0 : h),
                                  stroke: Palette.mutedInk, width: 0.75)
                }
                document.text(point.label, x: p.x + candidate.dx, y: baseline, size: Self.labelSize, anchor: candidate.anchor)
                break
            }
        }
        document.endGroup()
        return document.rendered()
    }
}

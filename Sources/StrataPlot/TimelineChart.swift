import Foundation

/// What each simulated GPU did over one iteration: a lane per GPU, a row per stream, a
/// rectangle per task coloured by its category, against time in milliseconds.
///
/// Big runs have many thousand tasks, most far narrower than a pixel. Per row, spans
/// are merged left to right: a span joins the rectangle before it when the gap between
/// them is under a pixel and it has the same category, or is itself under a pixel wide
/// (then it takes the colour of the rectangle it joins). The drawing then has at most a
/// few rectangles per pixel of width per row, whatever the task count, and the merged
/// rectangle's tooltip says how many tasks it holds.
public struct TimelineChart: Sendable {
    public struct Span: Hashable, Sendable {
        /// Seconds from the start of the iteration.
        public var start: Double
        public var end: Double
        /// Index into the chart's categories.
        public var category: Int
        /// What the tooltip says: the task's name.
        public var name: String

        public init(start: Double, end: Double, category: Int, name: String) {
            self.start = start
            self.end = end
            self.category = category
            self.name = name
        }
    }

    /// One stream of one GPU.
    public struct Row: Hashable, Sendable {
        public var label: String
        public var spans: [Span]

        public init(label: String, spans: [Span]) {
            self.label = label
            self.spans = spans
        }
    }

    /// One GPU (or class of identical GPUs).
    public struct Lane: Hashable, Sendable {
        public var label: String
        public var rows: [Row]

        public init(label: String, rows: [Row]) {
            self.label = label
            self.rows = rows
        }
    }

    public var title: String
    public var subtitle: String
    public var lanes: [Lane]
    public var categories: [Category]
    /// The iteration's length in seconds: the axis ends here even if the last GPU idles.
    public var duration: Double
    public var width: Double

    public init(title: String, subtitle: String, lanes: [Lane], categories: [Category], duration: Double, width: Double = 1200) {
        self.title = title
        self.subtitle = subtitle
        self.lanes = lanes
        self.categories = categories
        self.duration = duration
        self.width = width
    }

    static let rowHeight = 16.0
    static let rowGap = 2.0
    static let laneGap = 12.0

    /// A merged rectangle: pixel extent, category, and the tasks it stands for.
    struct Block: Hashable {
        var x0: Double
        var x1: Double
        var category: Int
        var count: Int
        var start: Double
        var end: Double
        var name: String
    }

    /// Merges `spans` (any order) into blocks as the type's comment describes, with
    /// `position` mapping seconds to pixels: first runs of one category with gaps under a
    /// pixel (so a stretch of tiny kernels of one pass stays one block of its colour),
    /// then blocks still under a pixel wide into the block before them.
    static func blocks(_ spans: [Span], position: (Double) -> Double) -> [Block] {
        let sorted = spans.sorted { ($0.start, $0.end, $0.category, $0.name) < ($1.start, $1.end, $1.category, $1.name) }
        var runs: [Block] = []
        for span in sorted {
            let x0 = position(span.start), x1 = position(span.end)
            if var last = runs.last, span.category == last.category, x0 - last.x1 < 1 {
                last.x1 = max(last.x1, x1)
                last.end = max(last.end, span.end)
                last.count += 1
                runs[runs.count - 1] = last
            } else {
                runs.append(Block(x0: x0, x1: x1, category: span.category, count: 1, start: span.start, end: span.end,
                                  name: span.name))
            }
        }
        var blocks: [Block] = []
        for run in runs {
            if var last = blocks.last, run.x1 - run.x0 < 1, run.x0 - last.x1 < 1 {
                last.x1 = max(last.x1, run.x1)
                last.end = max(last.end, run.end)
                last.count += run.count
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(run)
            }
        }
        return blocks
    }

    /// The unit the time axis counts in: milliseconds, unless the iteration is shorter
    /// than one (then microseconds) or longer than 10 s (then seconds).
    static func timeUnit(for duration: Double) -> (name: String, perSecond: Double) {
        duration < 1e-3 ? ("µs", 1e6) : duration > 10 ? ("s", 1) : ("ms", 1e3)
    }

    /// The chart as an SVG document.
    public func svg() -> String {
        // Lane labels at the left edge (bold), stream labels right-aligned against the plot.
        let labelWidth = max(120, lanes.map { lane in
            TextMetrics.width(lane.label, size: 11) + (lane.rows.map { TextMetrics.width($0.label, size: 10) }.max() ?? 0) + 40
        }.max() ?? 0)
        let used = Set(lanes.flatMap { $0.rows.flatMap { $0.spans.map(\.category) } })
        let legend = Legend(entries: categories.indices.filter(used.contains).map {
            Legend.Entry(categories[$0].name, .box(categories[$0].colour))
        })
        let area0 = PlotArea(left: labelWidth, top: 0, width: width - labelWidth - 24, height: 0)
        let legendTop = 56.0
        let top = legendTop + legend.height(width: area0.width) + 10
        let lanesHeight = lanes.reduce(0.0) { $0 + Double($1.rows.count) * (Self.rowHeight + Self.rowGap) }
            + Double(max(0, lanes.count - 1)) * Self.laneGap
        let area = PlotArea(left: labelWidth, top: top, width: area0.width, height: max(lanesHeight, Self.rowHeight))
        let height = area.bottom + 56
        let unit = Self.timeUnit(for: duration)
        let scale = LinearScale(covering: [0, duration * unit.perSecond], range: (area.left, area.right), tickCount: 10)

        var document = SVGDocument(width: width, height: height, title: title)
        document.text(title, x: 16, y: 24, size: 16, bold: true)
        document.text(subtitle, x: 16, y: 42, size: 12, fill: Palette.mutedInk)
        legend.draw(x: area.left, y: legendTop, width: area.width, in: &document)
        Axis.bottom(scale, area: area, title: "time (\(unit.name))", in: &document)

        var y = area.top
        for (laneIndex, lane) in lanes.enumerated() {
            if laneIndex > 0 {
                let separator = y - Self.laneGap / 2
                document.line(x1: 8, y1: separator, x2: area.right, y2: separator, stroke: "#cccccc")
            }
            document.beginGroup("lane")
            document.text(lane.label, x: 12, y: y + Self.rowHeight * 0.72, size: 11, bold: true)
            for row in lane.rows {
                document.text(row.label, x: labelWidth - 8, y: y + Self.rowHeight * 0.72, size: 10, anchor: .end,
                              fill: Palette.mutedInk)
                for block in Self.blocks(row.spans, position: { scale.position($0 * unit.perSecond) }) {
                    let tip = block.count == 1
                        ? "\(block.name): \(Self.milliseconds(block.start))–\(Self.milliseconds(block.end)) ms"
                        : "\(block.count) tasks: \(Self.milliseconds(block.start))–\(Self.milliseconds(block.end)) ms"
                    document.rect(x: block.x0, y: y + 1, width: max(block.x1 - block.x0, 0.5), height: Self.rowHeight - 2,
                                  fill: categories[block.category].colour, tooltip: tip)
                }
                y += Self.rowHeight + Self.rowGap
            }
            document.endGroup()
            y += Self.laneGap
        }
        return document.rendered()
    }

    static func milliseconds(_ seconds: Double) -> String {
        SVGNumber.format3(seconds * 1e3)
    }
}

extension SVGNumber {
    /// Three decimals, for times in tooltips (microseconds when in milliseconds).
    static func format3(_ value: Double) -> String {
        String(format: "%.3f", value)
    }
}

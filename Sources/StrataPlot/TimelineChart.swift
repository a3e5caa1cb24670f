import Foundation

/// What each simulated GPU did over one iteration: a lane per GPU, a row per stream, a
/// rectangle per task coloured by its category, against time.
///
/// Big runs have many thousand tasks, most far narrower than a pixel, and kernels of
/// different kinds interleave within a pixel (a backward's recomputed forwards, say). So
/// each row is drawn at pixel resolution: every pixel column takes the colour of the
/// category that covers most of its time (empty columns stay empty), and runs of columns
/// of one colour become one rectangle whose tooltip says how many tasks it holds. The
/// drawing then has at most one rectangle per pixel of width per row, whatever the task
/// count, and a short task alone in a gap still shows as a pixel.
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

    /// The rectangles of one row, as the type's comment describes, with `position`
    /// mapping seconds to pixels.
    ///
    /// - Complexity: O(*s* + *w* · *c*) for *s* spans over *w* pixels in *c* categories.
    static func blocks(_ spans: [Span], position: (Double) -> Double) -> [Block] {
        guard !spans.isEmpty else { return [] }
        let pixels = spans.map { (x0: position($0.start), x1: position($0.end)) }
        let origin = Int(floor(pixels.map(\.x0).min()!))
        let columns = max(Int(ceil(pixels.map(\.x1).max()!)), Int(floor(pixels.map(\.x0).max()!)) + 1) - origin
        let categories = (spans.map(\.category).max() ?? 0) + 1
        // Time (in pixels) each category covers in each column.
        var cover = [Double](repeating: 0, count: columns * categories)
        // Tasks starting in each column: how many, their extent, the first one's name.
        var starts = [(count: Int, start: Double, end: Double, name: String)](repeating: (0, .infinity, -.infinity, ""),
                                                                               count: columns)
        for (span, pixel) in zip(spans, pixels) {
            let first = min(columns - 1, max(0, Int(floor(pixel.x0)) - origin))
            let last = min(columns - 1, max(first, Int(ceil(pixel.x1)) - origin - 1))
            for column in first...last {
                let left = Double(column + origin), overlap = min(pixel.x1, left + 1) - max(pixel.x0, left)
                // A zero-length task still marks its column, barely.
                cover[column * categories + span.category] += max(overlap, 1e-6)
            }
            var entry = starts[first]
            if entry.count == 0 || span.start < entry.start { entry.name = span.name }
            entry.count += 1
            entry.start = min(entry.start, span.start)
            entry.end = max(entry.end, span.end)
            starts[first] = entry
        }
        var blocks: [Block] = []
        for column in 0..<columns {
            let row = cover[(column * categories)..<((column + 1) * categories)]
            guard let best = row.indices.max(by: { (row[$0], $1) < (row[$1], $0) }), row[best] > 0 else { continue }
            let category = best - column * categories
            let entry = starts[column]
            let x0 = Double(column + origin)
            if var last = blocks.last, last.category == category, last.x1 == x0 {
                last.x1 = x0 + 1
                last.count += entry.count
                if entry.count > 0 {
                    last.start = min(last.start, entry.start)
                    last.end = max(last.end, entry.end)
                }
                blocks[blocks.count - 1] = last
            } else {
                blocks.append(Block(x0: x0, x1: x0 + 1, category: category, count: entry.count,
                                    start: entry.count > 0 ? entry.start : .infinity, end: entry.count > 0 ? entry.end : -.infinity,
                                    name: entry.name))
            }
        }
        return blocks
    }

    /// The chart as an SVG document.
    public func svg() -> String {
        // Lane labels at the left edge (bold), stream labels right-aligned against the plot.
        let labelWidth = max(120, lanes.map { lane in
            TextMetrics.width(lane.label, size: 11) + (lane.rows.map { TextMetrics.width($0.label, size: 10) }.max() ?? 0) + 40
        }.max() ?? 0)
        let area0 = PlotArea(left: labelWidth, top: 0, width: width - labelWidth - 24, height: 0)
        let unit = TimeUnit(forSpan: duration)
        let scale = LinearScale(covering: [0, duration * unit.perSecond], range: (area0.left, area0.right), tickCount: 10)
        let blocks = lanes.map { lane in
            lane.rows.map { row in Self.blocks(row.spans, position: { scale.position($0 * unit.perSecond) }) }
        }
        // The legend names the colours drawn, not those outvoted in every pixel.
        let used = Set(blocks.joined().joined().map(\.category))
        let legend = Legend(entries: categories.indices.filter(used.contains).map {
            Legend.Entry(categories[$0].name, .box(categories[$0].colour))
        })
        let legendTop = ChartHeader.height(subtitle: subtitle, width: width)
        let top = legendTop + legend.height(width: area0.width) + 10
        let lanesHeight = lanes.reduce(0.0) { $0 + Double($1.rows.count) * (Self.rowHeight + Self.rowGap) }
            + Double(max(0, lanes.count - 1)) * Self.laneGap
        let area = PlotArea(left: labelWidth, top: top, width: area0.width, height: max(lanesHeight, Self.rowHeight))
        let height = area.bottom + 56

        var document = SVGDocument(width: width, height: height, title: title)
        ChartHeader.draw(title: title, subtitle: subtitle, width: width, in: &document)
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
            for (row, rowBlocks) in zip(lane.rows, blocks[laneIndex]) {
                document.text(row.label, x: labelWidth - 8, y: y + Self.rowHeight * 0.72, size: 10, anchor: .end,
                              fill: Palette.mutedInk)
                for block in rowBlocks {
                    let times = block.count > 0
                        ? "\(Self.time(block.start, unit))–\(Self.time(block.end, unit)) \(unit.name)" : "continued"
                    let tip = block.count == 1 ? "\(block.name): \(times)" : "\(block.count) tasks: \(times)"
                    document.rect(x: block.x0, y: y + 1, width: block.x1 - block.x0, height: Self.rowHeight - 2,
                                  fill: categories[block.category].colour, tooltip: tip)
                }
                y += Self.rowHeight + Self.rowGap
            }
            document.endGroup()
            y += Self.laneGap
        }
        return document.rendered()
    }

    /// A time in tooltips, in the axis' unit with three decimals.
    static func time(_ seconds: Double, _ unit: TimeUnit) -> String {
        String(format: "%.3f", seconds * unit.perSecond)
    }
}

import Foundation

/// Horizontal bars, one per item, each split into segments by category — where each run's
/// iteration time went — against a shared time axis (in the `TimeUnit` its longest bar
/// calls for), with each bar's total at its end.
public struct StackedBarChart: Sendable {
    public struct Bar: Hashable, Sendable {
        public var label: String
        /// One value per category, in the chart's category order (zeros allowed).
        public var segments: [Double]
        /// The text after the bar, such as its total.
        public var total: String

        public init(label: String, segments: [Double], total: String) {
            self.label = label
            self.segments = segments
            self.total = total
        }
    }

    public var title: String
    public var subtitle: String
    /// What the axis measures, such as "time per iteration"; the unit is added.
    public var axisTitle: String
    public var categories: [Category]
    /// Segments in seconds.
    public var bars: [Bar]
    public var width: Double

    public init(title: String, subtitle: String, axisTitle: String, categories: [Category], bars: [Bar], width: Double = 960) {
        self.title = title
        self.subtitle = subtitle
        self.axisTitle = axisTitle
        self.categories = categories
        self.bars = bars
        self.width = width
    }

    static let barHeight = 26.0
    static let barGap = 14.0

    /// The chart as an SVG document.
    public func svg() -> String {
        let used = categories.indices.filter { index in bars.contains { $0.segments.indices.contains(index) && $0.segments[index] > 0 } }
        let legend = Legend(entries: used.map { Legend.Entry(categories[$0].name, .box(categories[$0].colour)) })
        let labelWidth = min(420, max(80, (bars.map { TextMetrics.width($0.label, size: 11) }.max() ?? 0) + 24))
        let totalWidth = (bars.map { TextMetrics.width($0.total, size: 11) }.max() ?? 0) + 16
        let left = labelWidth, right = width - max(30, totalWidth)
        let legendTop = ChartHeader.height(subtitle: subtitle, width: width)
        let top = legendTop + legend.height(width: right - left) + 14
        let plotHeight = Double(bars.count) * Self.barHeight + Double(max(0, bars.count - 1)) * Self.barGap + Self.barGap
        let area = PlotArea(left: left, top: top, width: right - left, height: plotHeight)
        let height = area.bottom + 56
        let unit = TimeUnit(forSpan: bars.map { $0.segments.reduce(0, +) }.max() ?? 0)
        let axisScale = unit.perSecond
        let totals = bars.map { $0.segments.reduce(0, +) * axisScale }
        let scale = LinearScale(covering: totals, range: (area.left, area.right), tickCount: 8)

        var document = SVGDocument(width: width, height: height, title: title)
        ChartHeader.draw(title: title, subtitle: subtitle, width: width, in: &document)
        legend.draw(x: area.left, y: legendTop, width: area.width, in: &document)
        Axis.bottom(scale, area: area, title: "\(axisTitle) (\(unit.name))", in: &document)

        document.beginGroup("bars")
        var y = area.top + Self.barGap / 2
        for bar in bars {
            let label = TextMetrics.truncated(bar.label, size: 11, maxWidth: labelWidth - 16)
            document.text(label, x: labelWidth - 8, y: y + Self.barHeight / 2 + 4, size: 11, anchor: .end)
            var start = 0.0
            for (index, value) in bar.segments.enumerated() where value > 0 && categories.indices.contains(index) {
                let x0 = scale.position(start * axisScale), x1 = scale.position((start + value) * axisScale)
                document.rect(x: x0, y: y, width: x1 - x0, height: Self.barHeight, fill: categories[index].colour,
                              tooltip: "\(categories[index].name): \(String(format: "%.3f", value * axisScale)) \(unit.name)")
                start += value
            }
            document.text(bar.total, x: scale.position(start * axisScale) + 6, y: y + Self.barHeight / 2 + 4, size: 11,
                          fill: Palette.mutedInk)
            y += Self.barHeight + Self.barGap
        }
        document.endGroup()
        return document.rendered()
    }
}

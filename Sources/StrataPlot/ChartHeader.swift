/// A chart's title and subtitle at its top-left, the subtitle wrapped at spaces to the
/// chart's width, so long descriptions (a strategy, its mesh, its figures) stay readable.
enum ChartHeader {
    static let titleSize = 16.0
    static let subtitleSize = 12.0
    static let lineHeight = 16.0

    /// The subtitle's lines at `width`.
    static func lines(_ subtitle: String, width: Double) -> [String] {
        TextMetrics.wrapped(subtitle, size: subtitleSize, maxWidth: width - 32)
    }

    /// Where content below the header starts.
    static func height(subtitle: String, width: Double) -> Double {
        42 + Double(max(0, lines(subtitle, width: width).count - 1)) * lineHeight + 14
    }

    static func draw(title: String, subtitle: String, width: Double, in document: inout SVGDocument) {
        document.text(title, x: 16, y: 24, size: titleSize, bold: true)
        for (index, line) in lines(subtitle, width: width).enumerated() {
            document.text(line, x: 16, y: 42 + Double(index) * lineHeight, size: subtitleSize, fill: Palette.mutedInk)
        }
    }
}

/// A row of legend entries — a swatch and its label — wrapped onto more rows when they do
/// not fit the width, so every category a plot colours is named on the plot itself.
public struct Legend: Sendable {
    /// What stands for an entry.
    public enum Swatch: Sendable, Hashable {
        /// A filled square, for areas (spans, bar segments).
        case box(String)
        /// A filled dot, for points.
        case dot(String)
        /// A cross, for points that are out (do not fit).
        case cross(String)
        /// A short line, for lines.
        case line(String)
        /// A dot on a line: points joined by a line (a front).
        case dotOnLine(dot: String, line: String)
    }

    public struct Entry: Sendable, Hashable {
        public var label: String
        public var swatch: Swatch

        public init(_ label: String, _ swatch: Swatch) {
            self.label = label
            self.swatch = swatch
        }
    }

    public var entries: [Entry]
    static let size = 11.0
    static let rowHeight = 18.0
    static let swatchWidth = 12.0
    static let gap = 18.0

    public init(entries: [Entry]) {
        self.entries = entries
    }

    /// Entries' x offsets and row indices when wrapped to `width`.
    private func layout(width: Double) -> [(x: Double, row: Int)] {
        var x = 0.0, row = 0
        return entries.map { entry in
            let entryWidth = Self.swatchWidth + 5 + TextMetrics.width(entry.label, size: Self.size)
            if x > 0, x + entryWidth > width {
                x = 0
                row += 1
            }
            defer { x += entryWidth + Self.gap }
            return (x, row)
        }
    }

    /// The height the legend takes when wrapped to `width`.
    public func height(width: Double) -> Double {
        guard !entries.isEmpty else { return 0 }
        return Double((layout(width: width).last?.row ?? 0) + 1) * Self.rowHeight
    }

    /// Draws the legend with its top-left corner at (`x`, `y`), wrapped to `width`.
    public func draw(x: Double, y: Double, width: Double, in document: inout SVGDocument) {
        document.beginGroup("legend")
        for (entry, place) in zip(entries, layout(width: width)) {
            let left = x + place.x, middle = y + Double(place.row) * Self.rowHeight + Self.rowHeight / 2
            switch entry.swatch {
            case let .box(colour):
                document.rect(x: left, y: middle - 6, width: Self.swatchWidth, height: 12, fill: colour)
            case let .dot(colour):
                document.circle(cx: left + 6, cy: middle, r: 4.5, fill: colour, stroke: "#ffffff")
            case let .cross(colour):
                document.cross(cx: left + 6, cy: middle, r: 4, stroke: colour)
            case let .line(colour):
                document.line(x1: left, y1: middle, x2: left + Self.swatchWidth, y2: middle, stroke: colour, width: 2)
            case let .dotOnLine(dot, line):
                document.line(x1: left - 2, y1: middle, x2: left + Self.swatchWidth + 2, y2: middle, stroke: line, width: 1.5)
                document.circle(cx: left + 6, cy: middle, r: 4.5, fill: dot, stroke: line)
            }
            document.text(entry.label, x: left + Self.swatchWidth + 5, y: middle + Self.size * 0.35, size: Self.size)
        }
        document.endGroup()
    }
}

/// Draws an axis along one side of a plot area: its line, tick marks, tick labels, grid
/// lines across the area (behind the data, so draw axes first), and its title with units.
public enum Axis {
    static let tickLength = 4.0
    static let labelSize = 11.0
    static let titleSize = 12.0

    /// A horizontal axis under `area`; tick labels centred under their ticks.
    public static func bottom(_ scale: any Scale, area: PlotArea, title: String, in document: inout SVGDocument,
                              grid: Bool = true) {
        document.beginGroup("axis x")
        for tick in scale.ticks {
            let x = scale.position(tick)
            if grid { document.line(x1: x, y1: area.top, x2: x, y2: area.bottom, stroke: Palette.grid) }
            document.line(x1: x, y1: area.bottom, x2: x, y2: area.bottom + tickLength, stroke: Palette.mutedInk)
            document.text(scale.label(tick), x: x, y: area.bottom + tickLength + labelSize + 2, size: labelSize,
                          anchor: .middle, fill: Palette.mutedInk)
        }
        document.line(x1: area.left, y1: area.bottom, x2: area.right, y2: area.bottom, stroke: Palette.mutedInk)
        document.text(title, x: area.left + area.width / 2, y: area.bottom + tickLength + labelSize + titleSize + 12,
                      size: titleSize, anchor: .middle)
        document.endGroup()
    }

    /// A vertical axis left of `area`; tick labels right-aligned against their ticks and
    /// the title turned to read upwards, clear of the widest label.
    public static func left(_ scale: any Scale, area: PlotArea, title: String, in document: inout SVGDocument,
                            grid: Bool = true) {
        document.beginGroup("axis y")
        var widest = 0.0
        for tick in scale.ticks {
            let y = scale.position(tick)
            if grid { document.line(x1: area.left, y1: y, x2: area.right, y2: y, stroke: Palette.grid) }
            document.line(x1: area.left - tickLength, y1: y, x2: area.left, y2: y, stroke: Palette.mutedInk)
            let label = scale.label(tick)
            widest = max(widest, TextMetrics.width(label, size: labelSize))
            document.text(label, x: area.left - tickLength - 3, y: y + labelSize * 0.35, size: labelSize, anchor: .end,
                          fill: Palette.mutedInk)
        }
        document.line(x1: area.left, y1: area.top, x2: area.left, y2: area.bottom, stroke: Palette.mutedInk)
        let x = area.left - tickLength - 3 - widest - 10
        document.text(title, x: x, y: area.top + area.height / 2, size: titleSize, anchor: .middle, rotation: -90)
        document.endGroup()
    }

    /// The room a left axis needs for `scale`'s labels and a title.
    public static func leftMargin(for scale: any Scale) -> Double {
        let widest = scale.ticks.map { TextMetrics.width(scale.label($0), size: labelSize) }.max() ?? 0
        return tickLength + 3 + widest + 10 + titleSize + 8
    }
}

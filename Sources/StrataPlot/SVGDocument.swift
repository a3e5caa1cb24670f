/// Builds an SVG 1.1 document element by element.
///
/// Only what Strata's plots draw: rectangles, lines, polylines, circles and text, in
/// groups, each optionally with a `<title>` (the tooltip browsers show on hover). Numbers
/// go through `SVGNumber` and text through `XMLEscaping`, so the same calls always give
/// the same bytes and no label can break the markup.
public struct SVGDocument: Sendable {
    /// Horizontal placement of text relative to its anchor point.
    public enum Anchor: String, Sendable {
        case start, middle, end
    }

    public let width: Double
    public let height: Double
    private var lines: [String] = []
    private var depth = 1

    /// An empty document of `width` × `height` pixels with `title` for screen readers.
    public init(width: Double, height: Double, title: String) {
        self.width = width
        self.height = height
        lines.append("  <title>\(XMLEscaping.escape(title))</title>")
        rect(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
    }

    private static func n(_ value: Double) -> String { SVGNumber.format(value) }

    private mutating func append(_ element: String, tooltip: String?) {
        let pad = String(repeating: "  ", count: depth)
        if let tooltip {
            lines.append("\(pad)\(element)<title>\(XMLEscaping.escape(tooltip))</title></\(Self.tag(of: element))>")
        } else {
            lines.append("\(pad)\(element.dropLast())/>")
        }
    }

    /// The element name of an opening tag `<name …>`.
    private static func tag(of element: String) -> String {
        String(element.dropFirst().prefix { $0 != " " && $0 != ">" })
    }

    /// Opens a `<g>` whose children share `attributes` (such as `class`), until `endGroup()`.
    public mutating func beginGroup(_ name: String) {
        lines.append(String(repeating: "  ", count: depth) + "<g class=\"\(XMLEscaping.escape(name))\">")
        depth += 1
    }

    public mutating func endGroup() {
        precondition(depth > 1, "endGroup() without beginGroup()")
        depth -= 1
        lines.append(String(repeating: "  ", count: depth) + "</g>")
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
                              strokeWidth: Double = 1, tooltip: String? = nil) {
        let outline = stroke.map { " stroke=\"\($0)\" stroke-width=\"\(Self.n(strokeWidth))\"" } ?? ""
        append("<rect x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" width=\"\(Self.n(max(0, width)))\" height=\"\(Self.n(max(0, height)))\" fill=\"\(fill)\"\(outline)>",
               tooltip: tooltip)
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, stroke: String, width: Double = 1,
                              dash: String? = nil) {
        let dashes = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        append("<line x1=\"\(Self.n(x1))\" y1=\"\(Self.n(y1))\" x2=\"\(Self.n(x2))\" y2=\"\(Self.n(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\"\(dashes)>",
               tooltip: nil)
    }

    public mutating func polyline(_ points: [(x: Double, y: Double)], stroke: String, width: Double = 1, dash: String? = nil) {
        let list = points.map { "\(Self.n($0.x)),\(Self.n($0.y))" }.joined(separator: " ")
        let dashes = dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        append("<polyline points=\"\(list)\" fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\" stroke-linejoin=\"round\"\(dashes)>",
               tooltip: nil)
    }

    public mutating func circle(cx: Double, cy: Double, r: Double, fill: String, stroke: String? = nil, strokeWidth: Double = 1,
                                tooltip: String? = nil) {
        let outline = stroke.map { " stroke=\"\($0)\" stroke-width=\"\(Self.n(strokeWidth))\"" } ?? ""
        append("<circle cx=\"\(Self.n(cx))\" cy=\"\(Self.n(cy))\" r=\"\(Self.n(r))\" fill=\"\(fill)\"\(outline)>", tooltip: tooltip)
    }

    /// An × of half-size `r` centred on (`cx`, `cy`): the mark of a result that is out.
    public mutating func cross(cx: Double, cy: Double, r: Double, stroke: String, width: Double = 1.5, tooltip: String? = nil) {
        let d = "M\(Self.n(cx - r)),\(Self.n(cy - r))L\(Self.n(cx + r)),\(Self.n(cy + r))M\(Self.n(cx - r)),\(Self.n(cy + r))L\(Self.n(cx + r)),\(Self.n(cy - r))"
        append("<path d=\"\(d)\" stroke=\"\(stroke)\" stroke-width=\"\(Self.n(width))\" fill=\"none\">", tooltip: tooltip)
    }

    /// Text with its baseline at `y`; `rotation` in degrees about the anchor point.
    public mutating func text(_ text: String, x: Double, y: Double, size: Double = 12, anchor: Anchor = .start,
                              bold: Bool = false, fill: String = Palette.ink, rotation: Double? = nil) {
        var attributes = "x=\"\(Self.n(x))\" y=\"\(Self.n(y))\" font-size=\"\(Self.n(size))\" fill=\"\(fill)\""
        if anchor != .start { attributes += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { attributes += " font-weight=\"bold\"" }
        if let rotation { attributes += " transform=\"rotate(\(Self.n(rotation)) \(Self.n(x)) \(Self.n(y)))\"" }
        lines.append(String(repeating: "  ", count: depth) + "<text \(attributes)>\(XMLEscaping.escape(text))</text>")
    }

    /// The document, with the XML declaration, ending in a newline.
    public func rendered() -> String {
        precondition(depth == 1, "a group was left open")
        let header = """
            <?xml version="1.0" encoding="UTF-8"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Self.n(width))" height="\(Self.n(height))" viewBox="0 0 \(Self.n(width)) \(Self.n(height))" font-family="Helvetica, Arial, sans-serif">
            """
        return header + "\n" + lines.joined(separator: "\n") + "\n</svg>\n"
    }
}

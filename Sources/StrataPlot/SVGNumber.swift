import Foundation

/// Numbers as SVG attributes: at most two decimals, no trailing zeros, never `-0`, no
/// locale — a hundredth of a pixel is below what any renderer shows, and fixed rounding
/// keeps the same plot byte for byte the same.
enum SVGNumber {
    static func format(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        var text = String(format: "%.2f", value)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

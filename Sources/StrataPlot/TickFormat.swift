import Foundation

/// How tick labels print: plain numbers with thousands grouped, or SI-prefixed (1.5M) for
/// large quantities such as tokens per second; decimals just enough to tell ticks apart.
public struct TickFormat: Sendable {
    public enum Style: Sendable {
        /// 0, 2,500, 0.25
        case plain
        /// 0, 500k, 1.5M: each tick with its own SI prefix and no trailing zeros.
        case si
    }

    public var style: Style
    var decimals = 0
    var step = 1.0

    public static let plain = TickFormat(style: .plain)
    public static let si = TickFormat(style: .si)

    public init(style: Style) {
        self.style = style
    }

    /// This format fixed for ticks `step` apart: decimals enough to tell them apart.
    func resolved(step: Double) -> TickFormat {
        var format = self
        format.step = step
        format.decimals = NiceTicks.decimals(forStep: step)
        return format
    }

    static let prefixes: [(divisor: Double, suffix: String)] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]

    /// `value` as its label.
    public func string(_ value: Double) -> String {
        switch style {
        case .plain:
            var text = String(format: "%.\(decimals)f", value)
            if text.hasPrefix("-"), Double(text) == 0 { text.removeFirst() }
            if decimals == 0, abs(value) >= 1_000 { text = Self.grouped(text) }
            return text
        case .si:
            guard value != 0 else { return "0" }
            let prefix = Self.prefixes.first { abs(value) >= $0.divisor } ?? (1, "")
            let decimals = NiceTicks.decimals(forStep: step / prefix.divisor)
            var text = String(format: "%.\(decimals)f", value / prefix.divisor)
            if text.contains(".") {
                while text.hasSuffix("0") { text.removeLast() }
                if text.hasSuffix(".") { text.removeLast() }
            }
            return text + prefix.suffix
        }
    }

    private static func grouped(_ digits: String) -> String {
        let negative = digits.hasPrefix("-")
        let body = negative ? String(digits.dropFirst()) : digits
        var out = ""
        for (offset, character) in body.reversed().enumerated() {
            if offset > 0, offset % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return (negative ? "-" : "") + String(out.reversed())
    }
}

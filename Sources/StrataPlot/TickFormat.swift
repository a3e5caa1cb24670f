import Foundation

/// How tick labels print: plain numbers with thousands grouped, or SI-prefixed (1.5M) for
/// large quantities such as tokens per second; decimals just enough to tell ticks apart.
public struct TickFormat: Sendable {
    public enum Style: Sendable {
        /// 0, 2,500, 0.25
        case plain
        /// 0, 500k, 1.5M: the prefix of the largest tick, for every tick.
        case si
    }

    public var style: Style
    var decimals = 0
    var divisor = 1.0
    var suffix = ""

    public static let plain = TickFormat(style: .plain)
    public static let si = TickFormat(style: .si)

    public init(style: Style) {
        self.style = style
    }

    /// This format fixed for ticks `step` apart whose largest magnitude is `largest`.
    func resolved(step: Double, largest: Double) -> TickFormat {
        var format = self
        if style == .si {
            for (divisor, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where largest >= divisor {
                format.divisor = divisor
                format.suffix = suffix
                break
            }
        }
        format.decimals = NiceTicks.decimals(forStep: step / format.divisor)
        return format
    }

    /// `value` as its label.
    public func string(_ value: Double) -> String {
        let scaled = value / divisor
        var text = String(format: "%.\(decimals)f", scaled)
        if text.hasPrefix("-"), Double(text) == 0 { text.removeFirst() }
        if style == .plain, decimals == 0, abs(scaled) >= 10_000 { text = Self.grouped(text) }
        return text + suffix
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

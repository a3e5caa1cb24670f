/// The physical kinds of value that carry a unit in Strata's inputs.
public enum QuantityKind: String, Sendable, CaseIterable {
    case time, bytes, bandwidth, flopRate = "compute rate"

    /// Accepted unit spellings and the factor that converts each to the base unit
    /// (seconds, bytes, bytes per second, FLOP/s). Spellings are case-sensitive because
    /// `b` (bit) and `B` (byte) differ by eight.
    public var units: KeyValuePairs<String, Double> {
        switch self {
        case .time:
            ["s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9, "ps": 1e-12]
        case .bytes:
            [
                "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
                "KiB": 1024, "MiB": 1_048_576, "GiB": 1_073_741_824, "TiB": 1_099_511_627_776,
            ]
        case .bandwidth:
            [
                "Bps": 1, "KBps": 1e3, "MBps": 1e6, "GBps": 1e9, "TBps": 1e12,
                "GiBps": 1_073_741_824,
                "bps": 0.125, "Kbps": 125, "Mbps": 1.25e5, "Gbps": 1.25e8, "Tbps": 1.25e11,
            ]
        case .flopRate:
            ["FLOPS": 1, "GFLOPS": 1e9, "TFLOPS": 1e12, "PFLOPS": 1e15]
        }
    }

    /// An example the error messages offer, so the fix is concrete.
    public var example: String {
        switch self {
        case .time: "1.2us"
        case .bytes: "80GiB"
        case .bandwidth: "400Gbps or 450GBps"
        case .flopRate: "989TFLOPS"
        }
    }
}

/// Why a quantity such as `400Gbps` could not be read.
public enum QuantityError: Error, Equatable, Sendable {
    case missingUnit(value: String, kind: QuantityKind)
    case unknownUnit(value: String, unit: String, kind: QuantityKind, suggestion: String?)
    case malformedNumber(value: String, kind: QuantityKind)
    case negative(value: String, kind: QuantityKind)

    /// A sentence naming the rule that was broken and how to fix it.
    public var message: String {
        switch self {
        case let .missingUnit(value, kind):
            return "'\(value)' has no unit; a \(kind.rawValue) must carry one, for example \(kind.example) (units: \(kind.unitList))"
        case let .unknownUnit(value, unit, kind, suggestion):
            let hint = suggestion.map { "did you mean '\($0)'? " } ?? ""
            return "'\(value)' has the unknown \(kind.rawValue) unit '\(unit)'; \(hint)units are \(kind.unitList)"
        case let .malformedNumber(value, kind):
            return "'\(value)' is not a number followed by a unit; write a \(kind.rawValue) like \(kind.example)"
        case let .negative(value, kind):
            return "'\(value)' is negative; a \(kind.rawValue) must be zero or more"
        }
    }
}

extension QuantityKind {
    var unitList: String { units.map(\.key).joined(separator: " ") }
}

/// Reads values such as `900GBps`, `1.2us`, `80GiB` and `989TFLOPS` into base units.
public enum UnitParser {
    /// Parses `text` as a quantity of `kind` and returns it in the kind's base unit.
    ///
    /// - Throws: `QuantityError` when the number is malformed, the unit is missing, or the
    ///   unit is not one of `kind.units` (with the closest spelling as a suggestion).
    public static func parse(_ text: String, as kind: QuantityKind) throws(QuantityError) -> Double {
        let trimmed = text.trimmingWhitespace()
        let numberEnd = trimmed.firstIndex { !($0.isNumber || $0 == "." || $0 == "e" || $0 == "E" || $0 == "-" || $0 == "+") }
            ?? trimmed.endIndex
        // An exponent marker directly followed by a letter belongs to the unit ("5ExaB" is not a number).
        var splitAt = numberEnd
        while splitAt > trimmed.startIndex, "eE".contains(trimmed[trimmed.index(before: splitAt)]) {
            splitAt = trimmed.index(before: splitAt)
        }
        let numberText = String(trimmed[..<splitAt])
        let unit = String(trimmed[splitAt...])
        guard let number = Double(numberText), number.isFinite else {
            throw .malformedNumber(value: trimmed, kind: kind)
        }
        guard number >= 0 else { throw .negative(value: trimmed, kind: kind) }
        guard !unit.isEmpty else { throw .missingUnit(value: trimmed, kind: kind) }
        guard let factor = kind.units.first(where: { $0.key == unit })?.value else {
            let suggestion = Spelling.closest(to: unit, among: kind.units.map(\.key))
            throw .unknownUnit(value: trimmed, unit: unit, kind: kind, suggestion: suggestion)
        }
        return number * factor
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and newlines.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}

import Foundation

/// A JSON value written by hand, so reports keep their columns' order (a table's columns
/// read left to right; JSON keys come out in that same order) and numbers keep full
/// precision. Output is deterministic: no whitespace, doubles in Swift's shortest
/// round-tripping form.
indirect enum JSONValue: Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Keys in the given order.
    case object([(String, JSONValue)])

    static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.text == rhs.text }
    func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// The value as compact JSON text.
    var text: String {
        switch self {
        case .null: "null"
        case let .bool(value): value ? "true" : "false"
        case let .integer(value): String(value)
        case let .number(value): value.isFinite ? String(value) : "null"
        case let .string(value): Self.quoted(value)
        case let .array(values): "[" + values.map(\.text).joined(separator: ",") + "]"
        case let .object(pairs): "{" + pairs.map { Self.quoted($0.0) + ":" + $0.1.text }.joined(separator: ",") + "}"
        }
    }

    /// The value as one CSV field's text: strings bare, numbers as JSON writes them,
    /// `null` empty, nested values as JSON.
    var csvText: String {
        switch self {
        case .null: ""
        case let .string(value): value
        default: text
        }
    }

    /// A string literal with `"`, `\` and control characters escaped (RFC 8259 §7).
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

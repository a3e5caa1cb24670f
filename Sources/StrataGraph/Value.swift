import StrataCore
import StrataDSL

/// The value of an expression once parameters are substituted and arithmetic is done.
public enum Value: Hashable, Sendable, CustomStringConvertible {
    case integer(Int)
    case real(Double)
    case quantity(String)
    case string(String)
    case boolean(Bool)
    /// A bare name that is no parameter: a keyword value (`bf16`) or a mesh axis (`data`),
    /// interpreted by the setting that receives it.
    case symbol(String)
    case list([Value])

    public var description: String {
        switch self {
        case let .integer(value): String(value)
        case let .real(value): String(value)
        case let .quantity(text): text
        case let .string(text): "\"\(text)\""
        case let .boolean(value): String(value)
        case let .symbol(name): name
        case let .list(values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// What kind of value this is, for "expected an integer, found a string" messages.
    var kindName: String {
        switch self {
        case .integer: "an integer"
        case .real: "a number"
        case .quantity: "a quantity"
        case .string: "a string"
        case .boolean: "true or false"
        case .symbol: "a name"
        case .list: "a list"
        }
    }
}

/// Evaluates expressions against the file's parameters.
struct Evaluator {
    var parameters: [String: Value]

    /// The value of `expression`, or a diagnostic at the part that cannot be evaluated.
    func evaluate(_ expression: ExpressionNode) throws(Diagnostic) -> Value {
        switch expression {
        case let .integer(value, _): return .integer(value)
        case let .real(value, _): return .real(value)
        case let .quantity(text, _): return .quantity(text)
        case let .string(text, _): return .string(text)
        case let .name(name, _):
            if let value = parameters[name] { return value }
            if name == "true" || name == "false" { return .boolean(name == "true") }
            return .symbol(name)
        case let .list(elements, _):
            var values: [Value] = []
            for element in elements { values.append(try evaluate(element)) }
            return .list(values)
        case let .negate(operand, location):
            switch try evaluate(operand) {
            case let .integer(value): return .integer(-value)
            case let .real(value): return .real(-value)
            case let other: throw Diagnostic(at: location, "cannot negate \(other.kindName)", help: "'-' applies to numbers")
            }
        case let .binary(op, left, right, location):
            return try arithmetic(op, try evaluate(left), try evaluate(right), left: left, right: right, at: location)
        }
    }

    private func arithmetic(_ op: BinaryOperator, _ a: Value, _ b: Value, left: ExpressionNode, right: ExpressionNode,
                            at location: SourceLocation) throws(Diagnostic) -> Value {
        for (value, expression) in [(a, left), (b, right)] {
            if case let .symbol(name) = value {
                let hint = Spelling.closest(to: name, among: parameters.keys.sorted()).map { "did you mean '\($0)'? " } ?? ""
                throw Diagnostic(at: expression.location, "unknown parameter '\(name)' in arithmetic",
                                 help: "\(hint)declare it with 'let \(name) = …' before its use")
            }
        }
        switch (a, b) {
        case let (.integer(x), .integer(y)):
            switch op {
            case .add: return .integer(x + y)
            case .subtract: return .integer(x - y)
            case .multiply: return .integer(x * y)
            case .divide:
                guard y != 0 else { throw Diagnostic(at: location, "division by zero", help: "divide by a non-zero value") }
                return x % y == 0 ? .integer(x / y) : .real(Double(x) / Double(y))
            }
        default:
            guard let x = a.number, let y = b.number else {
                let culprit = a.number == nil ? a : b
                throw Diagnostic(at: location, "'\(op.rawValue)' needs numbers, found \(culprit.kindName)",
                                 help: "use arithmetic only on numbers")
            }
            switch op {
            case .add: return .real(x + y)
            case .subtract: return .real(x - y)
            case .multiply: return .real(x * y)
            case .divide:
                guard y != 0 else { throw Diagnostic(at: location, "division by zero", help: "divide by a non-zero value") }
                return .real(x / y)
            }
        }
    }
}

extension Value {
    /// The value as a message quotes it: a bare name in quotes ('h100'), text in double
    /// quotes, numbers and lists as written.
    var quoted: String {
        if case let .symbol(name) = self { "'\(name)'" } else { description }
    }

    var number: Double? {
        switch self {
        case let .integer(value): Double(value)
        case let .real(value): value
        default: nil
        }
    }
}

import Foundation
import StrataCore

/// A recursive-descent parser for strategy files.
///
/// Grammar (the reference is docs/strategy-language.md):
///
///     file       = item*
///     item       = "import" STRING | "let" NAME "=" expr | NAME "=" expr | block
///     block      = path [NAME | STRING] "{" item* "}"
///     path       = segment ("." segment)*
///     segment    = NAME ["[" selector "]"]
///     selector   = "*" | INT | INT ".." INT
///     expr       = term (("+" | "-") term)*
///     term       = unary (("*" | "/") unary)*
///     unary      = "-" unary | primary
///     primary    = NUMBER | STRING | NAME | "(" expr ")" | "[" [expr ("," expr)*] "]"
///
/// On an error the parser records a diagnostic and skips to the next line that starts a
/// member, so one file reports all its syntax errors at once.
public struct Parser {
    private var tokens: [Token]
    private var position = 0
    private let path: String
    public private(set) var diagnostics: [Diagnostic] = []

    private init(tokens: [Token], path: String, lexerDiagnostics: [Diagnostic]) {
        self.tokens = tokens
        self.path = path
        self.diagnostics = lexerDiagnostics
    }

    /// Parses `text`, read from `path`, into a syntax tree.
    ///
    /// - Throws: `DiagnosticError` with every syntax error found.
    public static func parse(_ text: String, path: String) throws(DiagnosticError) -> StrategyFile {
        var lexer = Lexer(text: text, file: path)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, path: path, lexerDiagnostics: lexer.diagnostics)
        let items = parser.parseItems(until: nil)
        if !parser.diagnostics.isEmpty { throw DiagnosticError(parser.diagnostics) }
        return StrategyFile(path: path, items: items)
    }

    /// Parses a lone expression, such as the value of `--set tp=4`, named `origin` in errors.
    public static func parseExpression(_ text: String, origin: String) throws(DiagnosticError) -> ExpressionNode {
        var lexer = Lexer(text: text, file: origin)
        let tokens = lexer.tokenize()
        var parser = Parser(tokens: tokens, path: origin, lexerDiagnostics: lexer.diagnostics)
        let expression = parser.parseExpressionOrRecord()
        if parser.diagnostics.isEmpty, parser.current.kind != .endOfFile {
            parser.diagnostics.append(Diagnostic(at: parser.current.location, "unexpected \(parser.current.spelling) after the value",
                                                 help: "give one value, such as 4, 2*8 or \"file.xml\""))
        }
        if !parser.diagnostics.isEmpty { throw DiagnosticError(parser.diagnostics) }
        return expression ?? .integer(0, parser.current.location)
    }

    // MARK: Items

    private var current: Token { tokens[position] }

    private mutating func parseItems(until closing: SourceLocation?) -> [Item] {
        var items: [Item] = []
        while true {
            switch current.kind {
            case .endOfFile:
                if let closing {
                    diagnostics.append(Diagnostic(at: closing, "this '{' is never closed", help: "add a '}' to end the block"))
                }
                return items
            case .symbol("}"):
                if closing != nil { return items }
                diagnostics.append(Diagnostic(at: current.location, "unmatched '}'", help: "remove it, or open a block before it"))
                position += 1
            case .identifier:
                if let item = parseItem() { items.append(item) } else { recover() }
            default:
                diagnostics.append(Diagnostic(at: current.location, "expected a setting, a block or 'let', found \(current.spelling)",
                                              help: "members look like 'name = value' or 'name { … }'"))
                recover()
            }
        }
    }

    private mutating func parseItem() -> Item? {
        let start = current
        guard case let .identifier(first) = start.kind else { return nil }
        if first == "import", case let .string(path) = tokens[position + 1].kind {
            position += 2
            return .importFile(Import(path: path, location: start.location))
        }
        if first == "let" {
            position += 1
            guard case let .identifier(name) = current.kind else {
                return fail("expected a parameter name after 'let', found \(current.spelling)", help: "write 'let name = value'")
            }
            position += 1
            guard expect("=", help: "write 'let \(name) = value'") else { return nil }
            guard let value = parseExpressionOrRecord() else { return nil }
            return .parameter(Parameter(name: name, value: value, location: start.location))
        }
        if case .symbol("=") = tokens[position + 1].kind {
            position += 2
            guard let value = parseExpressionOrRecord() else { return nil }
            return .assignment(Assignment(key: first, value: value, location: start.location))
        }
        return parseBlock().map(Item.block)
    }

    private mutating func parseBlock() -> Block? {
        let start = current.location
        var segments: [PathSegment] = []
        repeat {
            if !segments.isEmpty { position += 1 }  // the '.'
            guard case let .identifier(name) = current.kind else {
                return fail("expected a module name, found \(current.spelling)", help: "paths look like 'layers[*].mlp'")
            }
            let location = current.location
            position += 1
            var selector: Selector?
            if case .symbol("[") = current.kind {
                position += 1
                guard let parsed = parseSelector() else { return nil }
                selector = parsed
                guard expect("]", help: "close the selector with ']'") else { return nil }
            }
            segments.append(PathSegment(name: name, selector: selector, location: location))
        } while current.kind == .symbol(".")

        var label: String?
        switch current.kind {
        case let .identifier(name), let .string(name):
            label = name
            position += 1
        default:
            break
        }
        guard case .symbol("{") = current.kind else {
            let name = segments.map(\.name).joined(separator: ".")
            return fail("expected '=' or '{' after '\(name)', found \(current.spelling)",
                        help: "write '\(name) = value' for a setting or '\(name) { … }' for a block")
        }
        let open = current.location
        position += 1
        let members = parseItems(until: open)
        if case .symbol("}") = current.kind { position += 1 }
        return Block(path: segments, label: label, members: members, location: start)
    }

    private mutating func parseSelector() -> Selector? {
        if case .symbol("*") = current.kind {
            position += 1
            return .all
        }
        guard let low = parseInteger() else {
            return fail("expected '*', an index or a range such as 0..11, found \(current.spelling)",
                        help: "select all with [*], one with [3], or a range with [0..11]")
        }
        guard case .symbol("..") = current.kind else { return .index(low) }
        position += 1
        guard let high = parseInteger() else {
            return fail("expected the last index of the range, found \(current.spelling)", help: "write a range as [first..last]")
        }
        guard low <= high else {
            return fail("the range \(low)..\(high) is empty", help: "write the smaller index first: [\(high)..\(low)]")
        }
        return .range(low, high)
    }

    private mutating func parseInteger() -> Int? {
        guard case let .number(text, nil) = current.kind, let value = Int(text) else { return nil }
        position += 1
        return value
    }

    // MARK: Expressions

    private mutating func parseExpressionOrRecord() -> ExpressionNode? {
        parseSum()
    }

    private mutating func parseSum() -> ExpressionNode? {
        guard var left = parseProduct() else { return nil }
        while case let .symbol(text) = current.kind, text == "+" || text == "-" {
            let location = current.location
            position += 1
            guard let right = parseProduct() else { return nil }
            left = .binary(BinaryOperator(rawValue: text)!, left, right, location)
        }
        return left
    }

    private mutating func parseProduct() -> ExpressionNode? {
        guard var left = parseUnary() else { return nil }
        while case let .symbol(text) = current.kind, text == "*" || text == "/" {
            let location = current.location
            position += 1
            guard let right = parseUnary() else { return nil }
            left = .binary(BinaryOperator(rawValue: text)!, left, right, location)
        }
        return left
    }

    private mutating func parseUnary() -> ExpressionNode? {
        if case .symbol("-") = current.kind {
            let location = current.location
            position += 1
            return parseUnary().map { .negate($0, location) }
        }
        return parsePrimary()
    }

    private mutating func parsePrimary() -> ExpressionNode? {
        let token = current
        switch token.kind {
        case let .number(text, unit):
            position += 1
            if let unit { return .quantity(text: text + unit, token.location) }
            if let integer = Int(text) { return .integer(integer, token.location) }
            if let real = Double(text) { return .real(real, token.location) }
            return fail("'\(text)' is not a number", help: "write numbers like 12, 0.5 or 1e-3")
        case let .string(text):
            position += 1
            return .string(text, token.location)
        case let .identifier(name):
            position += 1
            return .name(name, token.location)
        case .symbol("("):
            position += 1
            guard let inner = parseSum() else { return nil }
            guard expect(")", help: "close the parenthesis") else { return nil }
            return inner
        case .symbol("["):
            position += 1
            var elements: [ExpressionNode] = []
            if current.kind != .symbol("]") {
                repeat {
                    if !elements.isEmpty { position += 1 }
                    guard let element = parseSum() else { return nil }
                    elements.append(element)
                } while current.kind == .symbol(",")
            }
            guard expect("]", help: "separate list elements with ',' and close the list with ']'") else { return nil }
            return .list(elements, token.location)
        default:
            return fail("expected a value, found \(token.spelling)", help: "values are numbers, \"text\", names or [lists]")
        }
    }

    // MARK: Errors

    private mutating func expect(_ symbol: String, help: String) -> Bool {
        if case .symbol(symbol) = current.kind {
            position += 1
            return true
        }
        diagnostics.append(Diagnostic(at: current.location, "expected '\(symbol)', found \(current.spelling)", help: help))
        return false
    }

    private mutating func fail<T>(_ message: String, help: String) -> T? {
        diagnostics.append(Diagnostic(at: current.location, message, help: help))
        return nil
    }

    /// Skips to the first token of a later line that can start a member, or to a brace.
    private mutating func recover() {
        let line = current.location.line
        if current.kind != .endOfFile { position += 1 }
        while current.kind != .endOfFile {
            if case .symbol("}") = current.kind { return }
            if case .identifier = current.kind, current.location.line > line { return }
            position += 1
        }
    }
}

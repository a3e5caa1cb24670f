import Foundation
import StrataCore

/// A recursive-descent parser for strategy files.
///
/// Grammar (the reference is docs/dsl.md):
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
/// member, so one file reports all its syntax errors at once. Every step of recovery
/// consumes a token and nesting is capped at `maximumDepth`, so no input can make the
/// parser loop or exhaust the stack.
///
/// Comments are kept as `Trivia` on items (see `Trivia` for where each kind goes). The tree
/// is normalized to what the canonical text reads back as: a blank line at the start of a
/// file or block is dropped, and comments inside an item move before it.
public struct Parser {
    private var tokens: [Token]
    private var position = 0
    private let path: String
    private var depth = 0
    public private(set) var diagnostics: [Diagnostic] = []

    /// How deeply blocks, parentheses, lists and negations may nest.
    public static let maximumDepth = 64

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
        let (items, closingComments) = parser.parseItems(until: nil)
        if !parser.diagnostics.isEmpty { throw DiagnosticError(parser.diagnostics) }
        return StrategyFile(path: path, items: items, closingComments: closingComments)
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

    /// Parses members up to the `}` at `closing`'s depth (not consumed), or to the end of
    /// the file when `closing` is `nil`, with the own-line comments that come after the last.
    private mutating func parseItems(until closing: SourceLocation?) -> (items: [Item], closingComments: [LineComment]) {
        var items: [Item] = []
        while true {
            // The same-line comment of this token, if any, was taken by the previous item
            // or by the block's '{'.
            let trivia = Self.split(current.trivia, afterToken: position > 0)
            var leading = trivia.ownLine
            var blankLineBefore = trivia.blankLineBeforeToken
            if items.isEmpty {
                // Nothing is printed between '{' (or the start of the file) and what follows.
                if leading.isEmpty { blankLineBefore = false } else { leading[0].blankLineBefore = false }
            }
            switch current.kind {
            case .endOfFile:
                if let closing {
                    diagnostics.append(Diagnostic(at: closing, "this '{' is never closed", help: "add a '}' to end the block"))
                }
                return (items, leading)
            case .symbol("}"):
                if closing != nil { return (items, leading) }
                diagnostics.append(Diagnostic(at: current.location, "unmatched '}'", help: "remove it, or open a block before it"))
                position += 1
            case .identifier:
                guard var item = parseItem() else {
                    recover()
                    continue
                }
                // Comments from inside the item come after its own leading ones; a blank
                // line before the item then separates those two groups.
                var trivia = item.trivia
                if blankLineBefore, !trivia.leadingComments.isEmpty {
                    trivia.leadingComments[0].blankLineBefore = true
                    blankLineBefore = false
                }
                trivia.leadingComments = leading + trivia.leadingComments
                trivia.blankLineBefore = blankLineBefore
                trivia.trailingComment = Self.split(current.trivia, afterToken: true).sameLine
                item.trivia = trivia
                items.append(item)
            default:
                diagnostics.append(Diagnostic(at: current.location, "expected a setting, a block or 'let', found \(current.spelling)",
                                              help: "members look like 'name = value' or 'name { … }'"))
                recover()
            }
        }
    }

    /// A token's trivia, read as: the comment that ends the previous token's line, then
    /// comments on lines of their own, then whether a blank line separates the token from
    /// the last of them.
    private static func split(_ pieces: [TriviaPiece], afterToken: Bool)
        -> (sameLine: LineComment?, ownLine: [LineComment], blankLineBeforeToken: Bool) {
        var sameLine: LineComment?
        var ownLine: [LineComment] = []
        var newlines = afterToken ? 0 : 1  // the start of the file is the start of a line
        for piece in pieces {
            switch piece {
            case let .newlines(count):
                newlines += count
            case let .comment(text):
                if newlines == 0 {
                    sameLine = LineComment(text)
                } else {
                    ownLine.append(LineComment(text, blankLineBefore: newlines >= 2))
                }
                newlines = 0
            }
        }
        return (sameLine, ownLine, newlines >= 2)
    }

    /// Every comment in the trivia of tokens `range`: comments written inside an item,
    /// which canonical form prints on their own lines before it.
    private func comments(inTokens range: Range<Int>) -> [LineComment] {
        tokens[range].flatMap { token in
            token.trivia.compactMap { piece -> LineComment? in
                if case let .comment(text) = piece { LineComment(text) } else { nil }
            }
        }
    }

    /// Parses one member; its trivia holds the comments written inside it.
    private mutating func parseItem() -> Item? {
        let first = position
        guard var item = parseItemSyntax() else { return nil }
        if case .block = item { return item }  // a block collects its header's comments itself
        item.trivia.leadingComments = comments(inTokens: first + 1 ..< position)
        return item
    }

    private mutating func parseItemSyntax() -> Item? {
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
        let first = position
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            return fail("blocks are nested more than \(Self.maximumDepth) deep", help: "close some blocks before opening more")
        }
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

        // A label shares the path's line: 'training' alone on a line followed by a setting
        // is a missing '{', not a block labelled with the setting's name.
        var label: String?
        switch current.kind {
        case let .identifier(name) where current.location.line == tokens[position - 1].location.line,
             let .string(name) where current.location.line == tokens[position - 1].location.line:
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
        var block = Block(path: segments, label: label, members: [], location: start)
        block.trivia.leadingComments = comments(inTokens: first + 1 ..< position)
        block.openingComment = Self.split(current.trivia, afterToken: true).sameLine
        (block.members, block.closingComments) = parseItems(until: open)
        if case .symbol("}") = current.kind { position += 1 }
        return block
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
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            return fail("the value is nested more than \(Self.maximumDepth) deep", help: "simplify the expression")
        }
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
            if let real = Double(text), real.isFinite { return .real(real, token.location) }
            let message = Double(text) != nil ? "'\(text)' is too large" : "'\(text)' is not a number"
            diagnostics.append(Diagnostic(at: token.location, message, help: "write numbers like 12, 0.5 or 1e-3, below 1.8e308"))
            return nil
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

    /// Skips to the first token of a later line that can start a member, or to the '}' of
    /// the enclosing block. A '{' skipped on the way (the body of a block whose header was
    /// wrong) is skipped with everything up to its own '}', so that '}' is not reported as
    /// unmatched. Always consumes at least one token unless at the end, so parsing makes
    /// progress.
    private mutating func recover() {
        let line = current.location.line
        // A '}' ends the enclosing block; stepping past it would leave that block unclosed.
        if case .symbol("}") = current.kind { return }
        var depth = 0
        var consumed = false
        while current.kind != .endOfFile {
            switch current.kind {
            case .symbol("}"):
                if depth == 0 { return }
                depth -= 1
            case .symbol("{"):
                depth += 1
            case .identifier where consumed && depth == 0 && current.location.line > line:
                return
            default:
                break
            }
            position += 1
            consumed = true
        }
    }
}

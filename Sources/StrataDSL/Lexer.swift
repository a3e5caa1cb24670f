import StrataCore

/// Splits strategy-file text into tokens. `//` starts a comment that runs to the end of
/// the line; whitespace, newlines included, only separates tokens. Comments and line
/// breaks are kept as each token's `trivia` for the formatter.
public struct Lexer {
    private let file: String
    private let scalars: [Unicode.Scalar]
    private var offset = 0
    private var line = 1
    private var column = 1
    private var pendingTrivia: [TriviaPiece] = []
    public private(set) var diagnostics: [Diagnostic] = []

    /// Punctuation, longest first so `..` wins over `.`.
    private static let symbols = ["..", "{", "}", "[", "]", "(", ")", "=", ",", ".", "+", "-", "*", "/", ":"]

    public init(text: String, file: String) {
        self.file = file
        self.scalars = Array(text.unicodeScalars)
    }

    /// All tokens, ending with `.endOfFile`. Characters that start no token are reported
    /// in `diagnostics` and skipped, so one stray character does not hide later errors.
    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while true {
            // A character that starts no token hands its trivia on to the next token, so
            // every comment stays attached to some token.
            let trivia = pendingTrivia + skipWhitespaceAndComments()
            pendingTrivia = []
            let start = SourceLocation(file: file, line: line, column: column)
            guard let scalar = peek() else {
                var end = Token(.endOfFile, at: start)
                end.trivia = trivia
                tokens.append(end)
                return tokens
            }
            let count = tokens.count
            defer {
                if tokens.count > count { tokens[count].trivia = trivia } else { pendingTrivia = trivia }
            }
            if scalar.properties.isAlphabetic || scalar == "_" {
                tokens.append(Token(.identifier(take { $0.properties.isAlphabetic || $0 == "_" || Self.isDigit($0) }), at: start))
            } else if Self.isDigit(scalar) {
                tokens.append(Token(lexNumber(), at: start))
            } else if scalar == "\"" {
                tokens.append(Token(.string(lexString(start: start)), at: start))
            } else if let symbol = Self.symbols.first(where: matches) {
                for _ in symbol.unicodeScalars { advance() }
                tokens.append(Token(.symbol(symbol), at: start))
            } else {
                diagnostics.append(Diagnostic(at: start, "unexpected character '\(Character(scalar))'",
                                              help: "remove it; names are letters, digits and '_', text goes in double quotes"))
                advance()
            }
        }
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool { ("0"..."9").contains(scalar) }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        offset + ahead < scalars.count ? scalars[offset + ahead] : nil
    }

    private func matches(_ symbol: String) -> Bool {
        for (index, scalar) in symbol.unicodeScalars.enumerated() where peek(index) != scalar { return false }
        return true
    }

    private mutating func advance() {
        if scalars[offset] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        offset += 1
    }

    private mutating func take(while predicate: (Unicode.Scalar) -> Bool) -> String {
        var text = ""
        while let scalar = peek(), predicate(scalar) {
            text.unicodeScalars.append(scalar)
            advance()
        }
        return text
    }

    /// Skips to the next token, returning the line breaks and comments it passed.
    private mutating func skipWhitespaceAndComments() -> [TriviaPiece] {
        var pieces: [TriviaPiece] = []
        while let scalar = peek() {
            if scalar == "\n" {
                if case let .newlines(count) = pieces.last {
                    pieces[pieces.count - 1] = .newlines(count + 1)
                } else {
                    pieces.append(.newlines(1))
                }
                advance()
            } else if scalar == " " || scalar == "\t" || scalar == "\r" {
                advance()
            } else if scalar == "/", peek(1) == "/" {
                var text = take { $0 != "\n" }
                while let last = text.unicodeScalars.last, last == " " || last == "\t" || last == "\r" {
                    text.unicodeScalars.removeLast()
                }
                pieces.append(.comment(text))
            } else {
                break
            }
        }
        return pieces
    }

    /// Digits with `_` separators, an optional fraction and exponent, then unit letters.
    /// A `..` after digits is a range, not a fraction: `0..11`.
    private mutating func lexNumber() -> Token.Kind {
        var text = take { Self.isDigit($0) || $0 == "_" }
        if peek() == ".", let next = peek(1), Self.isDigit(next) {
            advance()
            text += "." + take { Self.isDigit($0) || $0 == "_" }
        }
        if let e = peek(), e == "e" || e == "E",
           let next = peek(1), Self.isDigit(next) || ((next == "-" || next == "+") && peek(2).map(Self.isDigit) == true) {
            advance()
            text += "e"
            if let sign = peek(), sign == "-" || sign == "+" {
                text.unicodeScalars.append(sign)
                advance()
            }
            text += take { Self.isDigit($0) }
        }
        // Unit letters may continue with digits, so keywords such as `1f1b` stay one token.
        var unit = take { $0.properties.isAlphabetic }
        if !unit.isEmpty { unit += take { $0.properties.isAlphabetic || Self.isDigit($0) || $0 == "_" } }
        return .number(text: text.replacingUnderscores(), unit: unit.isEmpty ? nil : unit)
    }

    /// The text of a string literal. An unterminated one is reported and still returned,
    /// up to the end of its line, so the parser does not add a second error for the same slip.
    private mutating func lexString(start: SourceLocation) -> String {
        advance()
        var text = ""
        while let scalar = peek(), scalar != "\"", scalar != "\n" {
            if scalar == "\\", let escaped = peek(1) {
                advance()
                text.unicodeScalars.append(escaped == "n" ? "\n" : escaped)
            } else {
                text.unicodeScalars.append(scalar)
            }
            advance()
        }
        guard peek() == "\"" else {
            diagnostics.append(Diagnostic(at: start, "unterminated string", help: "close it with '\"' on the same line"))
            return text
        }
        advance()
        return text
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}

/// Where in an input file something was found. Lines and columns are 1-based; XML
/// diagnostics from libxml2 know only the line, so `column` is optional.
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?

    public init(file: String, line: Int, column: Int? = nil) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col` or `file:line`, the prefix editors and terminals turn into links.
    public var description: String {
        if let column { "\(file):\(line):\(column)" } else { "\(file):\(line)" }
    }
}

/// A finding about user input: the rule that was broken, where, and how to fix it.
///
/// Rendered as `file:line:col: error: rule` followed by an indented `help:` line with the
/// fix, the shape compilers and swift-format use, so editors can jump to the spot.
public struct Diagnostic: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    /// Where the problem is; `nil` only when the input as a whole is at fault (a file
    /// that does not exist has no line to point at) — then `file` names it.
    public var location: SourceLocation?
    public var file: String?
    public var severity: Severity
    /// The rule that was broken, as a sentence fragment in lower case.
    public var message: String
    /// How to fix it.
    public var help: String?

    public init(_ severity: Severity = .error, at location: SourceLocation, _ message: String, help: String? = nil) {
        self.location = location
        self.file = location.file
        self.severity = severity
        self.message = message
        self.help = help
    }

    /// A diagnostic about a whole file rather than a place in it.
    public init(_ severity: Severity = .error, file: String, _ message: String, help: String? = nil) {
        self.location = nil
        self.file = file
        self.severity = severity
        self.message = message
        self.help = help
    }

    /// (file, line, column), with whole-file diagnostics before any line of the file.
    var sortKey: SortKey { SortKey(file: file ?? "", line: location?.line ?? 0, column: location?.column ?? 0) }

    public var description: String {
        let prefix = location.map(\.description) ?? file ?? "simulate"
        var text = "\(prefix): \(severity.rawValue): \(message)"
        if let help { text += "\n  help: \(help)" }
        return text
    }
}

/// One or more diagnostics found while reading input; the CLI prints them all and exits 2.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    /// Diagnostics are kept in file order (by file, line and column), which is how a user
    /// walks through them; whole-file diagnostics come first.
    public init(_ diagnostics: [Diagnostic]) {
        precondition(!diagnostics.isEmpty, "a DiagnosticError needs at least one diagnostic")
        self.diagnostics = diagnostics.enumerated().sorted { left, right in
            let l = left.element.sortKey, r = right.element.sortKey
            return l != r ? l < r : left.offset < right.offset
        }.map(\.element)
    }

    public init(_ diagnostic: Diagnostic) { self.init([diagnostic]) }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Orders diagnostics by file, then line, then column.
struct SortKey: Comparable {
    var file: String
    var line: Int
    var column: Int

    static func < (lhs: SortKey, rhs: SortKey) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

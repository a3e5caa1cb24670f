import StrataCore

/// A lexical token of the strategy language, with where it starts.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable {
        case identifier(String)
        /// A number as written, with the unit letters that directly follow it (`25MiB`).
        case number(text: String, unit: String?)
        case string(String)
        case symbol(String)
        case endOfFile
    }

    public var kind: Kind
    public var location: SourceLocation
    /// The line breaks and comments between the previous token and this one.
    public var trivia: [TriviaPiece] = []

    public init(_ kind: Kind, at location: SourceLocation) {
        self.kind = kind
        self.location = location
    }

    /// How the token reads in an error message.
    public var spelling: String {
        switch kind {
        case let .identifier(name): "'\(name)'"
        case let .number(text, unit): "'\(text)\(unit ?? "")'"
        case let .string(text): "\"\(text)\""
        case let .symbol(text): "'\(text)'"
        case .endOfFile: "the end of the file"
        }
    }
}

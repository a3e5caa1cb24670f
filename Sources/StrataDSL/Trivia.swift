/// What the lexer finds between two tokens besides spaces: line breaks and `//` comments,
/// in source order. The parser turns these into the `Trivia` of items so that
/// `simulate fmt` can print comments back where the user put them.
public enum TriviaPiece: Hashable, Sendable {
    /// One or more line breaks in a row; two or more mean a blank line.
    case newlines(Int)
    /// A `//` comment, `//` included, without the line break or trailing spaces.
    case comment(String)
}

/// A `//` comment kept in the syntax tree.
public struct LineComment: Hashable, Sendable {
    /// The comment as written, starting with `//`, trailing spaces removed.
    public var text: String
    /// Whether a blank line separates the comment from what precedes it. Always `false` for
    /// the first thing in a file or a block: the formatter drops blank lines there.
    public var blankLineBefore: Bool

    /// A comment reading `text` (which starts with `//`).
    public init(_ text: String, blankLineBefore: Bool = false) {
        self.text = text
        self.blankLineBefore = blankLineBefore
    }
}

/// The comments and spacing attached to one item.
///
/// - Own-line comments before the item are `leadingComments`, each remembering whether a
///   blank line preceded it.
/// - `blankLineBefore` says whether a blank line (several collapse into one) separates the
///   item from its last leading comment, or from the previous item when it has none.
/// - A comment after the item's last token on the same line is `trailingComment`; for a
///   block that is the line of its `}`.
/// - Comments written inside an item (between two tokens of a multi-line list, say) have
///   no place of their own in canonical form; the parser moves them to the end of
///   `leadingComments`, so they print on their own lines just before the item.
public struct Trivia: Hashable, Sendable {
    /// Own-line comments before the item, then any written inside it.
    public var leadingComments: [LineComment]
    /// Whether a blank line comes right before the item's first line.
    public var blankLineBefore: Bool
    /// The comment after the item's last token, on the same line.
    public var trailingComment: LineComment?

    public init(leadingComments: [LineComment] = [], blankLineBefore: Bool = false, trailingComment: LineComment? = nil) {
        self.leadingComments = leadingComments
        self.blankLineBefore = blankLineBefore
        self.trailingComment = trailingComment
    }

    /// No comments and no blank line.
    public var isEmpty: Bool { leadingComments.isEmpty && !blankLineBefore && trailingComment == nil }
}

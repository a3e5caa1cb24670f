import StrataCore

/// The syntax tree of a strategy file: `let` parameters, blocks and assignments, each with
/// its location. The parser knows no keywords beyond `import` and `let`; what a block or key means is
/// decided when the tree is resolved, so the language grows without touching the grammar.
public struct StrategyFile: Hashable, Sendable {
    public var path: String
    public var items: [Item]
    /// Own-line comments after the last item, kept so `simulate fmt` can print them back.
    public var closingComments: [LineComment]

    public init(path: String, items: [Item], closingComments: [LineComment] = []) {
        self.path = path
        self.items = items
        self.closingComments = closingComments
    }
}

/// A top-level or block member.
public enum Item: Hashable, Sendable {
    case importFile(Import)
    case parameter(Parameter)
    case assignment(Assignment)
    case block(Block)

    /// The comments and blank line around the item, whichever case it is.
    public var trivia: Trivia {
        get {
            switch self {
            case let .importFile(item): item.trivia
            case let .parameter(item): item.trivia
            case let .assignment(item): item.trivia
            case let .block(item): item.trivia
            }
        }
        set {
            switch self {
            case var .importFile(item): item.trivia = newValue; self = .importFile(item)
            case var .parameter(item): item.trivia = newValue; self = .parameter(item)
            case var .assignment(item): item.trivia = newValue; self = .assignment(item)
            case var .block(item): item.trivia = newValue; self = .block(item)
            }
        }
    }
}

/// `import "path"`: the items of another strategy file, placed before this file's own, so
/// a variant can reuse a base and change only what differs. The path is relative to the
/// importing file's folder.
public struct Import: Hashable, Sendable {
    public var path: String
    public var location: SourceLocation
    public var trivia = Trivia()
}

/// `let name = value`: a named value the command line may override with `--set`.
public struct Parameter: Hashable, Sendable {
    public var name: String
    public var value: ExpressionNode
    public var location: SourceLocation
    public var trivia = Trivia()
}

/// `key = value` inside a block.
public struct Assignment: Hashable, Sendable {
    public var key: String
    public var value: ExpressionNode
    public var location: SourceLocation
    public var trivia = Trivia()
}

/// `path [label] { members }`, such as `model gpt { … }` or `layers[0..11].mlp { … }`.
public struct Block: Hashable, Sendable {
    public var path: [PathSegment]
    public var label: String?
    public var members: [Item]
    public var location: SourceLocation
    public var trivia = Trivia()
    /// A comment on the same line as the `{`, such as `mesh {  // outermost first`.
    public var openingComment: LineComment?
    /// Own-line comments after the last member, before the `}`.
    public var closingComments: [LineComment] = []

    /// The first segment's name: what kind of block this is.
    public var name: String { path[0].name }
}

/// One step of a module path: a name and, for repeated modules, which of them.
public struct PathSegment: Hashable, Sendable {
    public var name: String
    public var selector: Selector?
    public var location: SourceLocation
}

/// Which of a repeated module's instances a path selects.
public enum Selector: Hashable, Sendable, CustomStringConvertible {
    case all
    case index(Int)
    /// Inclusive on both ends, as in `layers[0..11]`.
    case range(Int, Int)

    /// The selector as written between the brackets: `*`, `3` or `0..11`.
    public var description: String {
        switch self {
        case .all: "*"
        case let .index(index): String(index)
        case let .range(low, high): "\(low)..\(high)"
        }
    }
}

/// An expression: a literal, a name, a list, or arithmetic on them.
public indirect enum ExpressionNode: Hashable, Sendable {
    case integer(Int, SourceLocation)
    case real(Double, SourceLocation)
    /// A number with unit letters, such as `25MiB`, read by whoever knows its kind.
    case quantity(text: String, SourceLocation)
    case string(String, SourceLocation)
    case name(String, SourceLocation)
    case list([ExpressionNode], SourceLocation)
    case negate(ExpressionNode, SourceLocation)
    case binary(BinaryOperator, ExpressionNode, ExpressionNode, SourceLocation)

    public var location: SourceLocation {
        switch self {
        case let .integer(_, location), let .real(_, location), let .quantity(_, location),
             let .string(_, location), let .name(_, location), let .list(_, location),
             let .negate(_, location), let .binary(_, _, _, location):
            location
        }
    }
}

public enum BinaryOperator: String, Hashable, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/"
}

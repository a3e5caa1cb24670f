/// Prints a syntax tree as canonical strategy-file text, comments included; what
/// `simulate fmt` writes.
///
/// The canonical form:
/// - one item per line, indented 4 spaces per block level; `key = value`, `let name = value`,
///   `import "path"`, `path[selector].sub label {` … `}`;
/// - single spaces around binary operators and only the parentheses the tree needs (`*` and
///   `/` bind tighter than `+` and `-`, all are left-associative, so `a - (b - c)` keeps its
///   parentheses and `(a * b) + c` loses them); lists as `[a, b, c]`;
/// - strings in double quotes with `"`, `\` and line breaks escaped (`\"`, `\\`, `\n`), the
///   inverse of what the lexer reads; a block label is bare when it reads as a name;
/// - numbers with units as written (`25MiB`); plain numbers as their value (`1_024` prints
///   `1024`), so printing never changes a value;
/// - comments where the user put them: own-line comments before an item, a trailing comment
///   two spaces after it, a comment after `{`, comments before `}` and at the end of the file;
/// - a blank line kept wherever the user left one or more, except at the start of a file
///   or block, and never two in a row;
/// - **the one-line rule**: a block prints as `name { a = 1  b = 2 }` when it has one to
///   three members, all assignments, with no comments or blank lines anywhere inside, and
///   the line (indentation and trailing comment included) fits in `lineWidth` columns;
///   every other block is printed over several lines, except that a block with no
///   members and no comments prints as `name {}`. The rule looks only at the tree, so the
///   output never depends on how the input was laid out.
/// - exactly one line break at the end (an empty file stays empty).
///
/// For every tree the parser returns, parsing the output gives the same tree (locations
/// aside), and formatting is idempotent.
public enum Formatter {
    /// The widest line the one-line rule may produce.
    public static let lineWidth = 100

    /// Spaces per block level.
    static let indentWidth = 4

    /// The canonical text of `file`, ending with one line break.
    public static func format(_ file: StrategyFile) -> String {
        var lines: [String] = []
        appendItems(file.items, closingComments: file.closingComments, depth: 0, to: &lines)
        // A file with nothing in it stays empty.
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    // MARK: Items

    private static func appendItems(_ items: [Item], closingComments: [LineComment], depth: Int, to lines: inout [String]) {
        let indent = String(repeating: " ", count: depth * indentWidth)
        for (index, item) in items.enumerated() {
            let trivia = item.trivia
            for (position, comment) in trivia.leadingComments.enumerated() {
                // Blank lines never open a file or block.
                if comment.blankLineBefore, index > 0 || position > 0 { lines.append("") }
                lines.append(indent + comment.text)
            }
            if trivia.blankLineBefore, index > 0 || !trivia.leadingComments.isEmpty { lines.append("") }
            appendItem(item, depth: depth, to: &lines)
        }
        for (position, comment) in closingComments.enumerated() {
            if comment.blankLineBefore, !items.isEmpty || position > 0 { lines.append("") }
            lines.append(indent + comment.text)
        }
    }

    private static func appendItem(_ item: Item, depth: Int, to lines: inout [String]) {
        let indent = String(repeating: " ", count: depth * indentWidth)
        let trailing = item.trivia.trailingComment.map { "  " + $0.text } ?? ""
        switch item {
        case let .importFile(node):
            lines.append(indent + "import " + quoted(node.path) + trailing)
        case let .parameter(node):
            lines.append(indent + "let " + node.name + " = " + expression(node.value) + trailing)
        case let .assignment(node):
            lines.append(indent + assignment(node) + trailing)
        case let .block(node):
            if let line = oneLine(node) {
                let candidate = indent + line + trailing
                if candidate.count <= lineWidth {
                    lines.append(candidate)
                    return
                }
            }
            if node.members.isEmpty, node.openingComment == nil, node.closingComments.isEmpty {
                lines.append(indent + header(node) + " {}" + trailing)
                return
            }
            lines.append(indent + header(node) + " {" + (node.openingComment.map { "  " + $0.text } ?? ""))
            appendItems(node.members, closingComments: node.closingComments, depth: depth + 1, to: &lines)
            lines.append(indent + "}" + trailing)
        }
    }

    private static func assignment(_ node: Assignment) -> String {
        node.key + " = " + expression(node.value)
    }

    /// `path[selector].sub label`.
    private static func header(_ block: Block) -> String {
        var text = block.path.map { segment in
            segment.name + (segment.selector.map { "[" + selector($0) + "]" } ?? "")
        }.joined(separator: ".")
        if let label = block.label {
            text += " " + (isName(label) ? label : quoted(label))
        }
        return text
    }

    /// The block on one line if the one-line rule allows it (width is checked by the caller).
    private static func oneLine(_ block: Block) -> String? {
        guard (1...3).contains(block.members.count), block.openingComment == nil, block.closingComments.isEmpty else {
            return nil
        }
        var parts: [String] = []
        for member in block.members {
            guard case let .assignment(node) = member, node.trivia.isEmpty else { return nil }
            parts.append(assignment(node))
        }
        return header(block) + " { " + parts.joined(separator: "  ") + " }"
    }

    static func selector(_ selector: Selector) -> String { selector.description }

    // MARK: Expressions

    /// How tightly an expression binds: a sum 1, a product 2, a negation 3, anything else 4.
    private static func precedence(_ node: ExpressionNode) -> Int {
        switch node {
        case let .binary(op, _, _, _): op == .add || op == .subtract ? 1 : 2
        case .negate: 3
        // A negative literal (only built by code, never parsed) prints with its sign.
        case let .integer(value, _) where value < 0: 3
        case let .real(value, _) where value < 0 || (value == 0 && value.sign == .minus): 3
        default: 4
        }
    }

    /// The canonical text of an expression.
    public static func expression(_ node: ExpressionNode) -> String {
        switch node {
        case let .integer(value, _):
            return String(value)
        case let .real(value, _):
            // Swift prints the shortest text that reads back as the same Double
            // (`0.001`, `1e+20`), and the lexer reads every such text.
            return value.description
        case let .quantity(text, _):
            return text
        case let .string(text, _):
            return quoted(text)
        case let .name(name, _):
            return name
        case let .list(elements, _):
            return "[" + elements.map(expression).joined(separator: ", ") + "]"
        case let .negate(operand, _):
            // `-(-x)` rather than `--x`, which reads like a decrement.
            return "-" + (precedence(operand) < 4 ? "(" + expression(operand) + ")" : expression(operand))
        case let .binary(op, left, right, _):
            let own = precedence(node)
            // Left-associative: the left operand needs parentheses only when it binds
            // more loosely, the right one also when it binds equally.
            let leftText = precedence(left) < own ? "(" + expression(left) + ")" : expression(left)
            let rightText = precedence(right) <= own ? "(" + expression(right) + ")" : expression(right)
            return leftText + " " + op.rawValue + " " + rightText
        }
    }

    // MARK: Text

    /// `text` in double quotes with the escapes the lexer reads back.
    public static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// Whether `text` lexes as one name, so a label can go without quotes.
    static func isName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, first.properties.isAlphabetic || first == "_" else { return false }
        return text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == "_" || ("0"..."9").contains($0) }
    }
}

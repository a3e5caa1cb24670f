import Foundation
import StrataCore
import StrataDSL

/// The syntax tree with every source location replaced by one placeholder, so trees
/// parsed from differently laid-out text compare equal when they mean the same.
extension StrategyFile {
    var withoutLocations: StrategyFile {
        StrategyFile(path: path, items: items.map(\.withoutLocations), closingComments: closingComments)
    }
}

let placeholder = SourceLocation(file: "", line: 0, column: 0)

extension Item {
    var withoutLocations: Item {
        switch self {
        case var .importFile(node):
            node.location = placeholder
            return .importFile(node)
        case var .parameter(node):
            node.location = placeholder
            node.value = node.value.withoutLocations
            return .parameter(node)
        case var .assignment(node):
            node.location = placeholder
            node.value = node.value.withoutLocations
            return .assignment(node)
        case var .block(node):
            node.location = placeholder
            node.path = node.path.map { segment in
                var segment = segment
                segment.location = placeholder
                return segment
            }
            node.members = node.members.map(\.withoutLocations)
            return .block(node)
        }
    }
}

extension ExpressionNode {
    var withoutLocations: ExpressionNode {
        switch self {
        case let .integer(value, _): .integer(value, placeholder)
        case let .real(value, _): .real(value, placeholder)
        case let .quantity(text, _): .quantity(text: text, placeholder)
        case let .string(text, _): .string(text, placeholder)
        case let .name(name, _): .name(name, placeholder)
        case let .list(elements, _): .list(elements.map(\.withoutLocations), placeholder)
        case let .negate(operand, _): .negate(operand.withoutLocations, placeholder)
        case let .binary(op, left, right, _): .binary(op, left.withoutLocations, right.withoutLocations, placeholder)
        }
    }
}

/// The package's folders, found from this file's path.
enum Package {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Every `.strata` file under `strategies/` and `Tests/Fixtures/`, as paths relative
    /// to the package root, sorted; new shipped strategies are picked up automatically.
    static func strategyFiles() -> [String] {
        var paths: [String] = []
        for folder in ["strategies", "Tests/Fixtures"] {
            let url = root.appendingPathComponent(folder)
            guard let enumerator = FileManager.default.enumerator(at: url, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in enumerator where file.pathExtension == "strata" {
                let relative = file.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1)
                paths.append(String(relative))
            }
        }
        return paths.sorted()
    }

    static func text(_ relativePath: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
    }
}

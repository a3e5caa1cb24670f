import Foundation
import StrataCore
import StrataDSL

/// The files a strategy's result depends on besides the strategy file itself: what it
/// imports and the topology its cluster block names.
///
/// Found without resolving the strategy, so that the inputs of a combination the resolver
/// rejects can be hashed too (a sweep stores rejected points and skips them on a rerun).
public struct StrategySources: Hashable, Sendable {
    /// Every imported file, recursively, in the order first imported (normalized paths).
    public var imports: [String]
    /// The topology path the cluster block sets, when it is a string literal (a computed
    /// path needs the full resolution to be known).
    public var topology: String?
    /// The `let` parameters declared, imports included, in order: the names `--set` and
    /// `--grid` may override.
    public var parameters: [String]

    public init(of file: StrategyFile) {
        var imports: [String] = []
        var seen: Set<String> = [Resolver.normalized(file.path)]
        func visit(_ file: StrategyFile) {
            for case let .importFile(directive) in file.items {
                let path = Resolver.resolvePath(directive.path, relativeTo: file.path)
                guard seen.insert(path).inserted else { continue }
                imports.append(path)
                guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
                      let imported = try? Parser.parse(text, path: path) else { continue }
                visit(imported)
            }
        }
        visit(file)
        self.imports = imports
        let expanded = (try? ImportExpander.expand(file))?.items ?? file.items
        topology = nil
        var parameters: [String] = []
        for case let .parameter(parameter) in expanded where !parameters.contains(parameter.name) {
            parameters.append(parameter.name)
        }
        self.parameters = parameters
        for case let .block(block) in expanded where block.name == "cluster" && block.path.count == 1 {
            for case let .assignment(assignment) in block.members where assignment.key == "topology" {
                if case let .string(text, location) = assignment.value {
                    topology = Resolver.resolvePath(text, relativeTo: location.file)
                }
            }
        }
    }
}

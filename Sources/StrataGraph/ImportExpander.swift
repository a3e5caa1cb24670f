import Foundation
import StrataCore
import StrataDSL

/// Expands `import "file"` lines: the imported file's items come first, then the
/// importing file's, so the importer can change anything the base sets.
///
/// - A parameter declared again by an importer overrides the imported declaration.
/// - A `model`, `training` or `cluster` block present in both merges: the importer's
///   settings (and nested blocks such as `moe`) replace the base's of the same name.
/// - A `strategy` block in the importer replaces the base's whole: a strategy is read as
///   one tree, and half of one laid over another would name axes that no longer exist.
enum ImportExpander {
    /// Reads `text` (from `path`) and every file it imports, recursively.
    static func expand(_ file: StrategyFile) throws(DiagnosticError) -> StrategyFile {
        var stack = [canonical(file.path)]
        let items = try expand(file, stack: &stack)
        return StrategyFile(path: file.path, items: items)
    }

    private static func expand(_ file: StrategyFile, stack: inout [String]) throws(DiagnosticError) -> [Item] {
        var result: [Item] = []
        var diagnostics: [Diagnostic] = []
        for item in file.items {
            guard case let .importFile(directive) = item else {
                result = merge(result, item)
                continue
            }
            let path = Resolver.resolvePath(directive.path, relativeTo: file.path)
            let key = canonical(path)
            if stack.contains(key) {
                let cycle = (stack.map { ($0 as NSString).lastPathComponent } + [(key as NSString).lastPathComponent]).joined(separator: " → ")
                diagnostics.append(Diagnostic(at: directive.location, "import cycle: \(cycle)",
                                              help: "move what both files need into a third file that both import"))
                continue
            }
            guard FileManager.default.fileExists(atPath: path) else {
                diagnostics.append(Diagnostic(at: directive.location, "the imported file '\(path)' does not exist",
                                              help: "import paths are relative to the importing file's folder (\(file.path))"))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                diagnostics.append(Diagnostic(at: directive.location, "cannot read the imported file '\(path)'",
                                              help: "check the file's permissions and that it is UTF-8 text"))
                continue
            }
            do {
                let imported = try Parser.parse(text, path: path)
                stack.append(key)
                defer { stack.removeLast() }
                for importedItem in try expand(imported, stack: &stack) { result = merge(result, importedItem) }
            } catch {
                diagnostics += error.diagnostics
            }
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
        return result
    }

    /// Adds `item` to `items`, merging it with an earlier declaration it overrides.
    private static func merge(_ items: [Item], _ item: Item) -> [Item] {
        var items = items
        switch item {
        case let .parameter(parameter):
            if let earlier = items.firstIndex(where: { if case let .parameter(p) = $0 { p.name == parameter.name } else { false } }),
               case let .parameter(old) = items[earlier], old.location.file != parameter.location.file {
                items[earlier] = item
                return items
            }
        case let .block(block) where block.path.count == 1:
            if let earlier = items.firstIndex(where: { if case let .block(b) = $0 { b.path.count == 1 && b.name == block.name } else { false } }),
               case let .block(old) = items[earlier], old.location.file != block.location.file {
                if block.name == "strategy" {
                    items[earlier] = item
                    return items
                }
                var merged = old
                merged.label = block.label ?? old.label
                // The merged block is the importer's from now on: its label and errors about
                // the whole block point here, and a second block of the same name in this
                // file is reported as a duplicate instead of merging silently.
                merged.location = block.location
                merged.members = mergeMembers(old.members, block.members)
                items[earlier] = .block(merged)
                return items
            }
        default:
            break
        }
        items.append(item)
        return items
    }

    /// The base's members that the overrides do not replace, then all the overrides. Only
    /// base members are replaced: a key set twice in the importer stays twice, so it is
    /// reported rather than the first silently dropped.
    private static func mergeMembers(_ base: [Item], _ overrides: [Item]) -> [Item] {
        var keys: Set<String> = [], paths: Set<[String]> = []
        for item in overrides {
            switch item {
            case let .assignment(assignment): keys.insert(assignment.key)
            case let .block(block): paths.insert(block.path.map(\.name))
            default: break
            }
        }
        let kept = base.filter { item in
            switch item {
            case let .assignment(assignment): !keys.contains(assignment.key)
            case let .block(block): !paths.contains(block.path.map(\.name))
            default: true
            }
        }
        return kept + overrides
    }

    private static func canonical(_ path: String) -> String {
        (path as NSString).standardizingPath
    }
}

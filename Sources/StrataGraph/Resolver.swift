import Foundation
import StrataCore
import StrataDSL
import StrataModel
import StrataTopology

/// A command-line override of a `let` parameter: `--set name=value`.
public struct Override: Hashable, Sendable {
    public var name: String
    public var text: String

    public init(name: String, text: String) {
        self.name = name
        self.text = text
    }

    /// Splits `name=value`; `nil` when there is no `=` or no name.
    public init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        self.init(name: String(argument[..<equals]).trimmingWhitespace(),
                  text: String(argument[argument.index(after: equals)...]))
    }
}

/// Turns a parsed strategy file into a `ResolvedStrategy`: expands imports, substitutes
/// parameters, reads each block with its types and defaults, applies the strategy tree's
/// attributes to the model's modules, loads the topology, and checks the rules that span
/// blocks (docs/dsl.md lists them).
///
/// Every problem found is reported, not only the first, so a user fixes a file in one pass.
public enum Resolver {
    static let topLevelBlocks = ["model", "training", "cluster", "strategy"]

    public static func resolve(_ parsed: StrategyFile, overrides: [Override] = [],
                               topologyOverride: String? = nil) throws(DiagnosticError) -> ResolvedStrategy {
        let file = try ImportExpander.expand(parsed)
        var diagnostics: [Diagnostic] = []
        let start = SourceLocation(file: file.path, line: 1, column: 1)

        // Parameters, in order, each able to use the ones before it. An override replaces
        // the declared expression, so later parameters computed from it follow it.
        let declared = file.items.compactMap { item -> String? in
            if case let .parameter(parameter) = item { parameter.name } else { nil }
        }
        let (replacements, overrideDiagnostics) = parse(overrides, declared: declared, file: file.path)
        diagnostics += overrideDiagnostics
        var evaluator = Evaluator(parameters: [:])
        var parameterOrder: [String] = []
        var blocks: [String: Block] = [:]
        for item in file.items {
            switch item {
            case let .parameter(parameter):
                if parameterOrder.contains(parameter.name) {
                    diagnostics.append(Diagnostic(at: parameter.location, "parameter '\(parameter.name)' is declared twice",
                                                  help: "remove one of the declarations"))
                    continue
                }
                do {
                    let expression = replacements[parameter.name] ?? parameter.value
                    evaluator.parameters[parameter.name] = try evaluator.evaluate(expression)
                    parameterOrder.append(parameter.name)
                } catch {
                    diagnostics.append(error)
                }
            case let .block(block):
                if topLevelBlocks.contains(block.name), block.path.count > 1 {
                    let inner = block.path.dropFirst().map(\.name).joined(separator: ".")
                    diagnostics.append(Diagnostic(at: block.location, "a top-level block has a one-word name, found '\(block.path.map(\.name).joined(separator: "."))'",
                                                  help: "nest the inner block: '\(block.name) { \(inner) { … } }'"))
                } else if !topLevelBlocks.contains(block.name) || block.path.count > 1 {
                    let suggestion = Spelling.closest(to: block.name, among: topLevelBlocks).map { "did you mean '\($0)'? " } ?? ""
                    diagnostics.append(Diagnostic(at: block.location, "unknown block '\(block.path.map(\.name).joined(separator: "."))'",
                                                  help: "\(suggestion)a strategy file has the blocks \(topLevelBlocks.joined(separator: ", "))"))
                } else if let earlier = blocks[block.name] {
                    diagnostics.append(Diagnostic(at: block.location, "block '\(block.name)' appears twice",
                                                  help: "merge it into the one at line \(earlier.location.line)"))
                } else {
                    blocks[block.name] = block
                }
            case let .assignment(assignment):
                diagnostics.append(Diagnostic(at: assignment.location, "setting '\(assignment.key)' outside any block",
                                              help: "put it inside a block, or declare a parameter with 'let \(assignment.key) = …'"))
            case .importFile:
                break  // expanded above
            }
        }
        for name in topLevelBlocks where blocks[name] == nil {
            diagnostics.append(Diagnostic(at: start, "the strategy file has no '\(name)' block", help: "add \(skeleton(of: name))"))
        }

        // Each block on its own.
        let model = blocks["model"].flatMap { ModelReader.read($0, evaluator: evaluator, diagnostics: &diagnostics) }
        let training = blocks["training"].flatMap { TrainingReader.readTraining($0, evaluator: evaluator, diagnostics: &diagnostics) }
        let cluster = blocks["cluster"].flatMap { TrainingReader.readCluster($0, evaluator: evaluator, diagnostics: &diagnostics) }

        // The topology, once its path is known.
        var loaded: (path: String, cluster: Cluster)?
        if let cluster {
            // Relative to the file that sets it, which may be an imported base in another folder.
            let path = topologyOverride ?? resolvePath(cluster.topology, relativeTo: cluster.topologyLocation.file)
            if topologyOverride == nil, !FileManager.default.fileExists(atPath: path) {
                diagnostics.append(Diagnostic(at: cluster.topologyLocation, "the topology file '\(path)' does not exist",
                                              help: "a path is relative to the folder of the file that sets it (\(cluster.topologyLocation.file)); shipped clusters are in topologies/"))
            } else {
                do {
                    loaded = (path, try TopologyLoader.load(path: path))
                } catch {
                    diagnostics += error.diagnostics
                }
            }
        }

        // The strategy tree needs the model's modules.
        var declarations: StrategyDeclarations?
        if let block = blocks["strategy"] {
            let placeholder = ModelConfig(family: .gpt, layers: 1, hidden: 1, heads: 1, kvHeads: 1, ffnHidden: 1,
                                          vocabulary: 1, sequence: 1, tiedEmbeddings: true)
            var reader = StrategyReader(modules: ModuleTree(model ?? placeholder), evaluator: evaluator,
                                        selectorsChecked: model != nil)
            declarations = reader.read(block)
            diagnostics += reader.diagnostics
        }

        guard let model, let training, let cluster, let loaded, let declarations, diagnostics.isEmpty else {
            throw DiagnosticError(diagnostics.isEmpty ? [Diagnostic(at: start, "the strategy could not be resolved", help: nil)] : diagnostics)
        }

        var validator = StrategyValidator(model: model, training: training, cluster: cluster, topology: loaded.cluster,
                                          declarations: declarations)
        let pipeline = validator.pipelineSettings()
        let rootPrecision = SubtreePrecision(weights: training.setup.precision, activations: training.setup.precision,
                                             gradients: training.setup.state.gradientPrecision)
        let tree = TreeResolver.resolve(modules: ModuleTree(model), declarations: declarations, rootPrecision: rootPrecision,
                                        pipeline: pipeline)
        validator.check(tree)
        if !validator.diagnostics.isEmpty { throw DiagnosticError(validator.diagnostics) }

        return ResolvedStrategy(
            path: file.path,
            parameters: parameterOrder.map { ($0, evaluator.parameters[$0]!) },
            model: model,
            training: training.setup,
            topologyPath: loaded.path,
            cluster: loaded.cluster,
            gpuCount: cluster.gpus,
            collectiveAlgorithm: cluster.collectiveAlgorithm,
            mesh: declarations.mesh,
            tree: tree,
            pipeline: pipeline,
            gradientSync: declarations.gradientSync,
            fsdp: declarations.fsdp?.settings)
    }

    // MARK: Overrides

    /// Parses each `--set` value as an expression; unknown names get a suggestion.
    private static func parse(_ overrides: [Override], declared: [String], file: String)
        -> (replacements: [String: ExpressionNode], diagnostics: [Diagnostic]) {
        var replacements: [String: ExpressionNode] = [:]
        var diagnostics: [Diagnostic] = []
        for override in overrides {
            guard declared.contains(override.name) else {
                let suggestion = Spelling.closest(to: override.name, among: declared).map { "did you mean '\($0)'? " } ?? ""
                let list = declared.isEmpty ? "the file declares none" : "its parameters are \(declared.joined(separator: ", "))"
                diagnostics.append(Diagnostic(file: "--set \(override.name)=\(override.text)",
                                              "\(file) has no parameter '\(override.name)'",
                                              help: "\(suggestion)\(list)"))
                continue
            }
            do {
                replacements[override.name] = try Parser.parseExpression(override.text, origin: "--set \(override.name)")
            } catch {
                diagnostics += error.diagnostics
            }
        }
        return (replacements, diagnostics)
    }

    // MARK: Helpers

    /// `path` as written in a strategy file: relative paths are relative to the file's folder.
    static func resolvePath(_ path: String, relativeTo strategyPath: String) -> String {
        if path.hasPrefix("/") { return normalized(path) }
        let folder = (strategyPath as NSString).deletingLastPathComponent
        return normalized(folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path))
    }

    /// `path` with `.` and `folder/..` removed lexically, so stored paths read cleanly.
    public static func normalized(_ path: String) -> String {
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." {
                parts.removeLast()
            } else if part == "..", path.hasPrefix("/") {
                continue
            } else {
                parts.append(part)
            }
        }
        let joined = parts.joined(separator: "/")
        return path.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
    }

    private static func skeleton(of block: String) -> String {
        switch block {
        case "model": "'model gpt { layers = 24  hidden = 2048  heads = 16  vocab = 50257  seq = 2048 }'"
        case "training": "'training { global_batch = 512  micro_batch = 1 }'"
        case "cluster": "'cluster { topology = \"topologies/dgx-h100.xml\"  gpus = 8 }'"
        default: "'strategy { mesh { data = 8 }  data_parallel = data }'"
        }
    }
}

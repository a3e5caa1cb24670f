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

/// Turns a parsed strategy file into a `ResolvedStrategy`: substitutes parameters, reads
/// each block's settings with their types and defaults, loads the topology and checks the
/// rules that span blocks (the mesh covers the GPUs, the batch divides evenly).
///
/// Every problem found is reported, not only the first, so a user fixes a file in one pass.
public enum Resolver {
    static let topLevelBlocks = ["model", "training", "cluster", "strategy"]

    public static func resolve(_ file: StrategyFile, overrides: [Override] = [],
                               topologyOverride: String? = nil) throws(DiagnosticError) -> ResolvedStrategy {
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
                if !topLevelBlocks.contains(block.name) || block.path.count > 1 {
                    let suggestion = Spelling.closest(to: block.name, among: topLevelBlocks).map { "did you mean '\($0)'? " } ?? ""
                    diagnostics.append(Diagnostic(at: block.location, "unknown block '\(block.path.map(\.name).joined(separator: "."))'",
                                                  help: "\(suggestion)a strategy file has the blocks \(topLevelBlocks.joined(separator: ", "))"))
                } else if let earlier = blocks[block.name] {
                    diagnostics.append(Diagnostic(at: block.location, "block '\(block.name)' appears twice",
                                                  help: "merge it into the one at line \(earlier.location.line)"))
                } else {
                    blocks[block.name] = block
                }
            case let .importFile(file):
                diagnostics.append(Diagnostic(at: file.location, "imports are not supported by this version of the resolver",
                                              help: "copy the settings of '\(file.path)' into this file"))
            case let .assignment(assignment):
                diagnostics.append(Diagnostic(at: assignment.location, "setting '\(assignment.key)' outside any block",
                                              help: "put it inside a block, or declare a parameter with 'let \(assignment.key) = …'"))
            }
        }

        for name in topLevelBlocks where blocks[name] == nil {
            diagnostics.append(Diagnostic(at: start, "the strategy has no '\(name)' block", help: "add \(skeleton(of: name))"))
        }

        // Each block on its own.
        var model: GPTConfig?
        if let block = blocks["model"] { model = readModel(block, evaluator: evaluator, diagnostics: &diagnostics) }
        var training: TrainingSettings?
        if let block = blocks["training"] { training = readTraining(block, evaluator: evaluator, diagnostics: &diagnostics) }
        var cluster: ClusterSettings?
        if let block = blocks["cluster"] { cluster = readCluster(block, evaluator: evaluator, diagnostics: &diagnostics) }
        var strategy: StrategySettings?
        if let block = blocks["strategy"] { strategy = readStrategy(block, evaluator: evaluator, diagnostics: &diagnostics) }

        // The topology, once its path is known.
        var loaded: (path: String, cluster: Cluster)?
        if let cluster {
            let path = topologyOverride ?? resolvePath(cluster.topology, relativeTo: file.path)
            if topologyOverride == nil, !FileManager.default.fileExists(atPath: path) {
                diagnostics.append(Diagnostic(at: cluster.topologyLocation, "the topology file '\(path)' does not exist",
                                              help: "paths in a strategy are relative to the strategy file's folder; shipped clusters are in topologies/"))
            } else {
                do {
                    loaded = (path, try TopologyLoader.load(path: path))
                } catch {
                    diagnostics += error.diagnostics
                }
            }
        }

        guard let model, let training, let cluster, let strategy, let loaded, diagnostics.isEmpty else {
            throw DiagnosticError(diagnostics.isEmpty ? [Diagnostic(at: start, "the strategy could not be resolved", help: nil)] : diagnostics)
        }
        diagnostics += crossCheck(model: model, training: training, cluster: cluster, strategy: strategy, topology: loaded.cluster)
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }

        return ResolvedStrategy(
            path: file.path,
            parameters: parameterOrder.map { ($0, evaluator.parameters[$0]!) },
            model: model,
            globalBatch: training.globalBatch,
            microBatch: training.microBatch,
            precision: training.precision.value,
            training: training.state,
            topologyPath: loaded.path,
            cluster: loaded.cluster,
            gpuCount: cluster.gpus,
            mesh: strategy.mesh,
            dataParallelAxis: strategy.dataParallelAxis.value)
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

    // MARK: Blocks

    private static func readModel(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> GPTConfig? {
        var fields = Fields(block.members, context: "the model block", location: block.location, evaluator: evaluator)
        let families = ["gpt"]
        if block.label != "gpt" {
            let found = block.label.map { "'\($0)'" } ?? "none"
            let suggestion = block.label.flatMap { Spelling.closest(to: $0, among: families) }.map { "did you mean '\($0)'? " } ?? ""
            diagnostics.append(Diagnostic(at: block.location, "the model family must be one of \(families.joined(separator: ", ")), found \(found)",
                                          help: "\(suggestion)write 'model gpt { … }'"))
        }
        let layers = fields.positiveInteger("layers", example: "24")
        let hidden = fields.positiveInteger("hidden", example: "2048")
        let heads = fields.positiveInteger("heads", example: "16")
        let ffn = fields.positiveInteger("ffn", required: false, example: "8192")
        let vocab = fields.positiveInteger("vocab", example: "50257")
        let seq = fields.positiveInteger("seq", example: "2048")
        let tied = fields.boolean("tied_embeddings", default: true)
        if let hidden, let heads, hidden % heads != 0 {
            fields.diagnostics.append(Diagnostic(at: fields.location(of: "heads"), "hidden size \(hidden) is not divisible by \(heads) heads",
                                                 help: "choose heads that divide hidden, such as \(divisors(of: hidden, near: heads))"))
        }
        diagnostics += fields.finish()
        guard let layers, let hidden, let heads, let vocab, let seq else { return nil }
        return GPTConfig(layers: layers, hidden: hidden, heads: heads, ffnHidden: ffn ?? 4 * hidden,
                         vocabulary: vocab, sequence: seq, tiedEmbeddings: tied)
    }

    struct TrainingSettings {
        var globalBatch: Int
        var microBatch: Int
        var precision: (value: Precision, location: SourceLocation)
        var state: TrainingState
        var globalBatchLocation: SourceLocation
    }

    private static func readTraining(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> TrainingSettings? {
        var fields = Fields(block.members, context: "the training block", location: block.location, evaluator: evaluator)
        let globalBatch = fields.positiveInteger("global_batch", example: "512")
        let microBatch = fields.positiveInteger("micro_batch", example: "1")
        let precision = fields.choice("precision", among: [Precision.bf16, .fp16, .fp32], default: .bf16)
        let optimizer = fields.choice("optimizer", among: OptimizerKind.allCases, default: .adamw)
        let master = fields.boolean("master_weights", default: precision?.0 != .fp32)
        let globalBatchLocation = fields.location(of: "global_batch")
        diagnostics += fields.finish()
        guard let globalBatch, let microBatch, let precision, let optimizer else { return nil }
        let state = TrainingState(optimizer: optimizer.0, weightPrecision: precision.0, gradientPrecision: precision.0, masterWeights: master)
        return TrainingSettings(globalBatch: globalBatch, microBatch: microBatch, precision: precision, state: state,
                                globalBatchLocation: globalBatchLocation)
    }

    struct ClusterSettings {
        var topology: String
        var topologyLocation: SourceLocation
        var gpus: Int
        var gpusLocation: SourceLocation
    }

    private static func readCluster(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> ClusterSettings? {
        var fields = Fields(block.members, context: "the cluster block", location: block.location, evaluator: evaluator)
        let topology = fields.string("topology", example: "\"topologies/dgx-h100.xml\"")
        let gpus = fields.positiveInteger("gpus", example: "8")
        let gpusLocation = fields.location(of: "gpus")
        diagnostics += fields.finish()
        guard let topology, let gpus else { return nil }
        return ClusterSettings(topology: topology.0, topologyLocation: topology.1, gpus: gpus, gpusLocation: gpusLocation)
    }

    struct StrategySettings {
        var mesh: [MeshAxis]
        var meshLocation: SourceLocation
        var dataParallelAxis: (value: String, location: SourceLocation)
    }

    private static func readStrategy(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> StrategySettings? {
        var fields = Fields(block.members, context: "the strategy block", location: block.location, evaluator: evaluator)
        let axis = fields.name("data_parallel", example: "data")
        var mesh: [MeshAxis] = []
        let meshBlocks = fields.blocks.filter { $0.name == "mesh" }
        for extra in meshBlocks.dropFirst() {
            fields.diagnostics.append(Diagnostic(at: extra.location, "the strategy has more than one mesh",
                                                 help: "declare every axis in one 'mesh { … }' block"))
        }
        let meshLocation = meshBlocks.first?.location ?? block.location
        if let meshBlock = meshBlocks.first {
            var axes = Fields(meshBlock.members, context: "the mesh", location: meshBlock.location, evaluator: evaluator)
            for (name, value, location) in axes.all() {
                guard case let .integer(size) = value, size > 0 else {
                    axes.diagnostics.append(Diagnostic(at: location, "mesh axis '\(name)' must have a positive integer size, found \(value)",
                                                       help: "write '\(name) = 4'"))
                    continue
                }
                mesh.append(MeshAxis(name: name, size: size))
            }
            diagnostics += axes.finish()
        } else {
            fields.diagnostics.append(Diagnostic(at: block.location, "the strategy has no mesh",
                                                 help: "add 'mesh { data = 8 }' naming the axes laid onto the GPUs"))
        }
        if let axis, !mesh.isEmpty, !mesh.contains(where: { $0.name == axis.0 }) {
            let names = mesh.map(\.name)
            let suggestion = Spelling.closest(to: axis.0, among: names).map { "did you mean '\($0)'? " } ?? ""
            fields.diagnostics.append(Diagnostic(at: axis.1, "data_parallel names the axis '\(axis.0)', which the mesh does not declare",
                                                 help: "\(suggestion)the mesh's axes are \(names.joined(separator: ", "))"))
        }
        for unused in mesh where axis != nil && mesh.contains(where: { $0.name == axis!.0 })
            && unused.name != axis!.0 && unused.size > 1 {
            fields.diagnostics.append(Diagnostic(at: meshLocation, "mesh axis '\(unused.name)' (size \(unused.size)) is used by no parallelism",
                                                 help: "this version places data parallelism only; give '\(unused.name)' size 1 or remove it"))
        }
        diagnostics += fields.finish(allowingBlocks: ["mesh"])
        guard let axis, !mesh.isEmpty else { return nil }
        return StrategySettings(mesh: mesh, meshLocation: meshLocation, dataParallelAxis: axis)
    }

    // MARK: Rules across blocks

    private static func crossCheck(model: GPTConfig, training: TrainingSettings, cluster: ClusterSettings,
                                   strategy: StrategySettings, topology: Cluster) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        if cluster.gpus > topology.gpus.count {
            diagnostics.append(Diagnostic(at: cluster.gpusLocation, "the job asks for \(cluster.gpus) GPUs but \(topology.name) has \(topology.gpus.count)",
                                          help: "use at most \(topology.gpus.count) GPUs, or a larger topology"))
        }
        let meshSize = strategy.mesh.reduce(1) { $0 * $1.size }
        if meshSize != cluster.gpus {
            let shape = strategy.mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × ")
            diagnostics.append(Diagnostic(at: strategy.meshLocation, "the mesh (\(shape)) covers \(meshSize) GPUs but the cluster block uses \(cluster.gpus)",
                                          help: "make the product of the mesh axes equal 'gpus' (\(cluster.gpus))"))
        }
        let dp = strategy.mesh.first { $0.name == strategy.dataParallelAxis.value }?.size ?? 1
        let perStep = dp * training.microBatch
        if training.globalBatch % perStep != 0 {
            let lower = training.globalBatch / perStep * perStep
            let options = [lower, lower + perStep].filter { $0 > 0 }.map(String.init).joined(separator: " or ")
            diagnostics.append(Diagnostic(at: training.globalBatchLocation,
                                          "global batch \(training.globalBatch) does not divide into \(dp) data-parallel replicas × micro-batches of \(training.microBatch)",
                                          help: "make global_batch a multiple of \(perStep), such as \(options), or change micro_batch or the data-parallel degree"))
        }
        if let spec = topology.gpus.first?.spec, spec.peak[training.precision.value] == nil {
            diagnostics.append(Diagnostic(at: training.precision.location, "\(spec.name) has no \(training.precision.value.rawValue) peak in \(topology.name)",
                                          help: "choose a precision the GPU supports (\(spec.peak.keys.map(\.rawValue).sorted().joined(separator: ", ")))"))
        }
        return diagnostics
    }

    // MARK: Helpers

    /// `path` as written in a strategy file: relative paths are relative to the file's folder.
    static func resolvePath(_ path: String, relativeTo strategyPath: String) -> String {
        if path.hasPrefix("/") { return normalized(path) }
        let folder = (strategyPath as NSString).deletingLastPathComponent
        return normalized(folder.isEmpty ? path : (folder as NSString).appendingPathComponent(path))
    }

    /// `path` with `.` and `folder/..` removed lexically, so stored paths read cleanly.
    static func normalized(_ path: String) -> String {
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

    private static func divisors(of value: Int, near target: Int) -> String {
        let candidates = (1...value).filter { value % $0 == 0 }
        let sorted = candidates.sorted { abs($0 - target) < abs($1 - target) || (abs($0 - target) == abs($1 - target) && $0 < $1) }
        return sorted.prefix(2).sorted().map(String.init).joined(separator: " or ")
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

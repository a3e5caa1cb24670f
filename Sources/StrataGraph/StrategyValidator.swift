import StrataCore
import StrataModel
import StrataTopology

/// The rules that tie the strategy to the model, the batch and the cluster: the mesh
/// covers the GPUs, every axis has one role, degrees divide what they split, the pipeline
/// has layers in every stage and enough micro-batches for its schedule, the GPU computes
/// in the chosen precisions. Each violation points at the line that caused it.
struct StrategyValidator {
    let model: ModelConfig
    let training: TrainingSettings
    let cluster: ClusterSettings
    let topology: Cluster
    let declarations: StrategyDeclarations
    private(set) var diagnostics: [Diagnostic] = []
    private var reported: Set<String> = []
    /// Per rule and place: the index of its diagnostic and how many more modules broke it.
    private var perModule: [String: (index: Int, more: Int)] = [:]

    init(model: ModelConfig, training: TrainingSettings, cluster: ClusterSettings, topology: Cluster,
         declarations: StrategyDeclarations) {
        self.model = model
        self.training = training
        self.cluster = cluster
        self.topology = topology
        self.declarations = declarations
    }

    private func size(_ axis: String) -> Int { declarations.mesh.first { $0.name == axis }?.size ?? 1 }

    /// Reports a diagnostic once, however many modules break the same rule at the same place.
    private mutating func report(_ diagnostic: Diagnostic) {
        if reported.insert(diagnostic.description).inserted { diagnostics.append(diagnostic) }
    }

    /// Reports a rule broken by the module named at the end of `diagnostic`'s message once
    /// per place, naming the first module (parents come before children, so the topmost)
    /// and counting the rest: one line written on `layers[*]` must not give 48 errors.
    private mutating func report(_ diagnostic: Diagnostic, rule: String) {
        let key = "\(diagnostic.location.map(\.description) ?? "")|\(rule)"
        if let entry = perModule[key] {
            perModule[key] = (entry.index, entry.more + 1)
        } else {
            perModule[key] = (diagnostics.count, 0)
            diagnostics.append(diagnostic)
        }
    }

    /// Adds "and N more modules" to the per-module diagnostics that several modules broke.
    private mutating func countRepeats() {
        for (index, more) in perModule.values where more > 0 {
            diagnostics[index].message += " and \(more) more module\(more == 1 ? "" : "s")"
        }
        perModule = [:]
    }

    // MARK: Pipeline

    /// The pipeline, with its stages checked against the model's layers.
    mutating func pipelineSettings() -> PipelineSettings? {
        guard let p = declarations.pipeline else { return nil }
        let stages = size(p.axis)
        if p.schedule == .interleaved, p.virtualStages < 2 {
            report(Diagnostic(at: p.virtualStagesLocation, "interleaved_1f1b needs at least 2 virtual stages, found \(p.virtualStages)",
                              help: "write 'virtual_stages = 2' or more, or use schedule = 1f1b"))
        }
        if p.schedule != .interleaved, p.virtualStages != 1 {
            report(Diagnostic(at: p.virtualStagesLocation, "virtual_stages applies only to interleaved_1f1b, not \(p.schedule.rawValue)",
                              help: "remove 'virtual_stages', or write 'schedule = interleaved_1f1b'"))
        }
        let chunks = stages * p.virtualStages
        var perChunk: [Int]
        if let explicit = p.layersPerChunk {
            perChunk = explicit
            if explicit.count != chunks {
                let what = p.virtualStages > 1 ? "\(stages) stages × \(p.virtualStages) virtual stages = \(chunks) chunks" : "\(stages) stages"
                report(Diagnostic(at: p.stagesLocation, "'stages' lists \(explicit.count) entries but the pipeline has \(what)",
                                  help: "give one layer count per \(p.virtualStages > 1 ? "chunk" : "stage"), \(chunks) in all"))
            }
            if let empty = explicit.firstIndex(of: 0) {
                report(Diagnostic(at: p.stagesLocation, "pipeline stage \(empty) has no layers",
                                  help: "give every stage at least one layer"))
            }
            let total = explicit.reduce(0, +)
            if total != model.layers {
                report(Diagnostic(at: p.stagesLocation, "'stages' places \(total) layers but the model has \(model.layers)",
                                  help: "make the layer counts add up to \(model.layers)"))
            }
        } else {
            if chunks > model.layers {
                report(Diagnostic(at: p.axisLocation, "\(chunks) pipeline chunks leave some without layers: the model has \(model.layers)",
                                  help: "use at most \(model.layers) stages × virtual stages"))
                return nil
            }
            if model.layers % chunks != 0 {
                let base = model.layers / chunks, extra = model.layers % chunks
                let example = (0..<chunks).map { String(base + ($0 >= chunks - extra ? 1 : 0)) }.joined(separator: ", ")
                report(Diagnostic(at: p.location, "\(model.layers) layers do not divide evenly into \(chunks) pipeline chunks",
                                  help: "list layers per \(p.virtualStages > 1 ? "chunk" : "stage") explicitly, such as 'stages = [\(example)]', or change the stage count"))
                return nil
            }
            perChunk = Array(repeating: model.layers / chunks, count: chunks)
        }
        guard perChunk.count == chunks, perChunk.reduce(0, +) == model.layers, !perChunk.contains(0) else { return nil }
        return PipelineSettings(axis: p.axis, stages: stages, schedule: p.schedule, virtualStages: p.virtualStages,
                                layersPerChunk: perChunk)
    }

    // MARK: The tree

    mutating func check(_ tree: StrategyTree) {
        checkMesh(tree)
        checkBatch(tree)
        for index in tree.modules.nodes.indices { checkNode(index, in: tree) }
        checkFSDP(tree)
        countRepeats()
    }

    private mutating func checkMesh(_ tree: StrategyTree) {
        // An axis named twice is reported as a key set twice in the mesh block.
        let mesh = declarations.mesh
        let product = mesh.reduce(1) { $0 * $1.size }
        if cluster.gpus > topology.gpus.count {
            report(Diagnostic(at: cluster.gpusLocation, "the job asks for \(cluster.gpus) GPUs but \(topology.name) has \(topology.gpus.count)",
                              help: "use at most \(topology.gpus.count) GPUs, or a larger topology"))
        }
        if product != cluster.gpus {
            let shape = mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × ")
            report(Diagnostic(at: declarations.meshLocation, "the mesh (\(shape)) covers \(product) GPUs but the cluster block uses \(cluster.gpus)",
                              help: "make the product of the mesh axes equal 'gpus' (\(cluster.gpus))"))
        }
        // Every axis must give the ranks along it different work for the model as a whole.
        let root = tree.attributes[ModuleTree.rootIndex]
        var roles = root.dataParallel
        roles += [root.tensorParallel, root.contextParallel, declarations.pipeline?.axis].compactMap { $0 }
        for axis in mesh where axis.size > 1 && !roles.contains(axis.name) {
            report(Diagnostic(at: declarations.meshLocation, "mesh axis '\(axis.name)' (size \(axis.size)) has no role for the model as a whole",
                              help: "use it in data_parallel, tensor_parallel, context_parallel or the pipeline at the top of the strategy"))
        }
    }

    private mutating func checkBatch(_ tree: StrategyTree) {
        let root = tree.attributes[ModuleTree.rootIndex]
        let dp = root.dataParallel.reduce(1) { $0 * size($1) }
        let micro = training.setup.microBatch, global = training.setup.globalBatch
        let perStep = dp * micro
        if global % perStep != 0 {
            let lower = global / perStep * perStep
            let options = [lower, lower + perStep].filter { $0 > 0 }.map(String.init).joined(separator: " or ")
            report(Diagnostic(at: training.globalBatchLocation,
                              "global batch \(global) does not divide into \(dp) data-parallel replicas × micro-batches of \(micro)",
                              help: "make global_batch a multiple of \(perStep), such as \(options), or change micro_batch or the data-parallel degree"))
            return
        }
        guard let pipeline = declarations.pipeline else { return }
        let stages = size(pipeline.axis), microBatches = global / perStep
        switch pipeline.schedule {
        case .oneFOneB where microBatches < stages, .zeroBubble where microBatches < stages:
            report(Diagnostic(at: pipeline.scheduleLocation,
                              "\(pipeline.schedule.rawValue) over \(stages) stages needs at least \(stages) micro-batches per iteration, but each replica runs \(microBatches)",
                              help: "raise global_batch to at least \(stages * perStep), lower micro_batch, or use fewer stages"))
        case .interleaved where microBatches % stages != 0:
            report(Diagnostic(at: pipeline.scheduleLocation,
                              "interleaved_1f1b needs the micro-batches per replica (\(microBatches)) to be a multiple of the \(stages) stages",
                              help: "make global_batch a multiple of \(stages * perStep), as Megatron-LM requires"))
        default:
            break
        }
    }

    private mutating func checkNode(_ index: Int, in tree: StrategyTree) {
        let a = tree.attributes[index]
        let node = tree.modules.nodes[index]
        let path = tree.modules.path(of: index)
        func at(_ key: String) -> SourceLocation {
            tree.source(of: key, at: index) ?? declarations.meshLocation
        }
        let pipelineAxis = declarations.pipeline?.axis

        // One role per axis on each module.
        var roles: [(String, String)] = a.dataParallel.map { ($0, "data_parallel") }
        if let tp = a.tensorParallel { roles.append((tp, "tensor_parallel")) }
        if let cp = a.contextParallel { roles.append((cp, "context_parallel")) }
        if let pipelineAxis { roles.append((pipelineAxis, "the pipeline")) }
        for (offset, role) in roles.enumerated() {
            if let other = roles[..<offset].first(where: { $0.0 == role.0 }) {
                let key = role.1 == "the pipeline" ? other.1 : role.1
                report(Diagnostic(at: at(key), "axis '\(role.0)' is used by both \(other.1) and \(role.1) on \(path)",
                                  help: "give each parallelism its own mesh axis"), rule: "roles \(role.0) \(other.1) \(role.1)")
            }
        }
        if let ep = a.expertParallel, !a.dataParallel.contains(ep) {
            let axes = a.dataParallel.isEmpty ? "none" : a.dataParallel.joined(separator: ", ")
            report(Diagnostic(at: at("expert_parallel"), "expert_parallel = \(ep) is not one of the data-parallel axes (\(axes)) of \(path)",
                              help: "experts borrow data-parallel ranks: add '\(ep)' to data_parallel, or choose one of its axes"),
                   rule: "expert axis")
        }
        // Set on a subtree without routed experts (attention, say), it would silently do nothing.
        if model.moe != nil, tree.sources[index]["expert_parallel"] != nil, a.expertParallel != nil,
           !path.contains("experts"), !hasExperts(below: index, in: tree.modules) {
            report(Diagnostic(at: at("expert_parallel"), "expert_parallel applies only to routed experts, and there are none in \(path)",
                              help: "set it on the experts, such as 'layers[*].mlp.experts { expert_parallel = \(a.expertParallel!) }'"),
                   rule: "expert parallel without experts")
        }
        if tree.sources[index]["tp_style"] != nil, a.tensorParallel == nil {
            report(Diagnostic(at: tree.source(of: "tp_style", at: index)!, "tp_style has no effect without tensor_parallel on \(path)",
                              help: "set tensor_parallel on it or above it, or remove tp_style"), rule: "tp style without tensor parallel")
        }
        // Wherever it is written: on a dense model it would silently do nothing.
        if model.moe == nil, tree.sources[index]["expert_parallel"] != nil, a.expertParallel != nil {
            report(Diagnostic(at: at("expert_parallel"), "expert_parallel needs a mixture-of-experts model",
                              help: "add 'moe { experts = 8  top_k = 2 }' to the model, or remove expert_parallel"))
        }
        // Inherited into a subtree without tensor parallelism, sequence parallelism simply
        // has nothing to split; set there explicitly, it is a mistake.
        if a.sequenceParallel, a.tensorParallel == nil, tree.sources[index]["sequence_parallel"] != nil {
            report(Diagnostic(at: at("sequence_parallel"), "sequence_parallel needs tensor_parallel on \(path)",
                              help: "sequence parallelism splits the tensor-parallel group's norms by sequence: set tensor_parallel too"),
                   rule: "sequence parallel without tensor parallel")
        }
        if a.sequenceParallel, let tp = a.tensorParallel, model.sequence % size(tp) != 0 {
            report(Diagnostic(at: at("sequence_parallel"), "sequence length \(model.sequence) does not divide over \(size(tp)) tensor-parallel ranks",
                              help: "use a sequence length that is a multiple of \(size(tp))"))
        }
        if let cp = a.contextParallel, model.sequence % (2 * size(cp)) != 0 {
            report(Diagnostic(at: at("context_parallel"), "sequence length \(model.sequence) does not divide into 2 × \(size(cp)) chunks for load-balanced ring attention",
                              help: "use a sequence length that is a multiple of \(2 * size(cp)), as Megatron's context parallelism requires"))
        }

        // Precision the GPU can compute in.
        if node.kind.isOp, let spec = topology.gpus.first?.spec, spec.peak[a.precision.compute] == nil {
            report(Diagnostic(at: tree.source(of: "precision", at: index) ?? training.precisionLocation,
                              "\(spec.name) in \(topology.name) has no \(a.precision.compute.rawValue) peak, but \(a.precision.compute.rawValue) is the compute precision of \(path)",
                              help: "choose a precision the GPU supports (\(spec.peak.keys.map(\.rawValue).sorted().joined(separator: ", ")))"),
                   rule: "precision \(a.precision.compute.rawValue)")
        }

        guard case let .op(role) = node.kind, let style = tree.styles[index], let tp = a.tensorParallel, style != .replicated else {
            checkExperts(index, a, tree)
            return
        }
        let t = size(tp)
        let location = tree.source(of: "tp_style", at: index) ?? at("tensor_parallel")
        let expert = tree.layouts[index]?.splits.first?.dimension == "experts"
        let shared = path.contains(".shared_experts.")
        let inner = expert ? model.moe!.expertFFN : shared ? model.moe!.expertFFN * model.moe!.sharedExperts : model.ffnHidden
        switch (role, style) {
        case (.qkv, _), (.attention, _), (.out, _):
            if model.heads % t != 0 {
                report(Diagnostic(at: location, "\(model.heads) attention heads do not divide over \(t) tensor-parallel ranks on \(path)",
                                  help: "use a tensor-parallel degree that divides \(model.heads)"), rule: "heads")
            } else if model.kvHeads % t != 0, t % model.kvHeads != 0 {
                report(Diagnostic(at: location, "\(model.kvHeads) key/value heads neither divide over nor replicate evenly across \(t) tensor-parallel ranks on \(path)",
                                  help: "use a tensor-parallel degree that divides or is a multiple of \(model.kvHeads)"), rule: "kv heads")
            }
        case (.expand, _), (.contract, _), (.activation, _):
            if inner % t != 0 {
                report(Diagnostic(at: location, "MLP size \(inner) does not divide over \(t) tensor-parallel ranks on \(path)",
                                  help: "use a tensor-parallel degree that divides \(inner)"), rule: "mlp \(inner)")
            }
        case (.embedding, .vocab), (.head, .vocab), (.loss, .vocab):
            if model.vocabulary % t != 0 {
                let padded = (model.vocabulary + 128 * t - 1) / (128 * t) * (128 * t)
                report(Diagnostic(at: location, "vocabulary \(model.vocabulary) does not divide over \(t) tensor-parallel ranks on \(path)",
                                  help: "pad it as Megatron-LM does: 'vocab = \(padded)' (a multiple of 128 × \(t))"), rule: "vocab")
            }
        default:
            break
        }
        checkExperts(index, a, tree)
    }

    private func hasExperts(below index: Int, in modules: ModuleTree) -> Bool {
        modules.nodes[index].children.contains { modules.nodes[$0].name == "experts" || hasExperts(below: $0, in: modules) }
    }

    private mutating func checkExperts(_ index: Int, _ a: NodeAttributes, _ tree: StrategyTree) {
        let node = tree.modules.nodes[index]
        guard node.name == "mlp", let moe = model.moe, node.children.count > 1,
              let expertChild = node.children.first(where: { tree.modules.nodes[$0].name == "experts" }),
              let ep = tree.attributes[expertChild].expertParallel else { return }
        if moe.experts % size(ep) != 0 {
            report(Diagnostic(at: tree.source(of: "expert_parallel", at: expertChild) ?? declarations.meshLocation,
                              "\(moe.experts) experts do not divide over \(size(ep)) expert-parallel ranks",
                              help: "use an expert-parallel axis whose size divides \(moe.experts)"))
        }
    }

    private mutating func checkFSDP(_ tree: StrategyTree) {
        guard let (_, location) = declarations.fsdp else { return }
        for (index, sources) in tree.sources.enumerated() where sources["zero"] != nil {
            report(Diagnostic(at: sources["zero"]!, "fsdp already shards weights, gradients and optimizer state, but zero is also set on \(tree.modules.path(of: index))",
                              help: "remove 'zero', or remove the fsdp block (at line \(location.line)) and use zero = 3"), rule: "zero with fsdp")
        }
        if tree.attributes[ModuleTree.rootIndex].dataParallel.isEmpty {
            report(Diagnostic(at: location, "fsdp shards over the data-parallel axes, but the model has none",
                              help: "set data_parallel at the top of the strategy"))
        }
    }
}

import StrataCore
import StrataModel
import StrataTopology

/// Compiles a resolved strategy into the execution graph of one training iteration.
///
/// Each GPU runs its pipeline stage's model chunks in the order of the pipeline schedule
/// (one stage and one chunk without a pipeline). A chunk's forward runs its units — the
/// embedding, transformer layers, the final norm, head and loss — op by op on the shapes
/// this GPU computes, with tensor-parallel collectives where activation layouts change,
/// expert all-to-alls around routed experts and ring exchanges for context parallelism;
/// its backward runs them in reverse, recomputing what the strategy recomputes. Gradients
/// are reduced over the data-parallel axes in buckets as backward produces them (all-reduce,
/// or reduce-scatter when ZeRO or FSDP shards them), then the optimizer updates this GPU's
/// shard. Activations are allocated by each op's forward and freed by its backward.
///
/// GPUs that differ only in which ranks they talk to — every data-, tensor- and
/// context-parallel rank of a stage — share one program (a `RankClass`).
public enum Compiler {
    public static func compile(_ strategy: ResolvedStrategy) throws(DiagnosticError) -> ExecutionGraph {
        try checkSupported(strategy)
        let mesh = Mesh(strategy.mesh)
        let pipeline = strategy.pipeline
        let stages = pipeline?.stages ?? 1
        let shapes = OpShapes(model: strategy.model, tree: strategy.tree, mesh: mesh, microBatch: strategy.microBatch,
                              pipelined: stages > 1)
        let microBatches = strategy.microBatchesPerReplica
        let schedule: [[PipelineAction]] = pipeline.map {
            PipelineScheduler.actions($0.schedule, stages: $0.stages, microBatches: microBatches, virtualStages: $0.virtualStages)
        } ?? [(0..<microBatches).flatMap { [PipelineAction(.forward, microBatch: $0, chunk: 0), PipelineAction(.backward, microBatch: $0, chunk: 0)] }]

        // Ranks with the same stage and the same experts' token counts run the same program.
        var classOfRank = [Int](repeating: 0, count: mesh.rankCount)
        var classIndex: [String: Int] = [:]
        var representatives: [(rank: Int, stage: Int, label: String)] = []
        var members: [[Int]] = []
        let expertSignature = expertSignatures(strategy: strategy, mesh: mesh, shapes: shapes)
        for rank in 0..<mesh.rankCount {
            let stage = pipeline.map { mesh.coordinate(of: rank, along: $0.axis) } ?? 0
            let key = "\(stage)|\(expertSignature(rank))"
            if let existing = classIndex[key] {
                members[existing].append(rank)
                classOfRank[rank] = existing
                continue
            }
            let label = (stages > 1 ? "stage \(stage)" : "all stages") + (key.hasSuffix("|") ? "" : ", experts of rank \(rank)")
            classIndex[key] = representatives.count
            classOfRank[rank] = representatives.count
            representatives.append((rank, stage, label))
            members.append([rank])
        }
        // Each class's program on its own core: they share nothing but read-only inputs,
        // and each lands in its own slot, so the result does not depend on the order.
        let programs = ConcurrentMap.map(representatives) { representative in
            program(of: representative.rank, stage: representative.stage, strategy: strategy, mesh: mesh, shapes: shapes,
                    schedule: schedule[representative.stage])
        }
        let classes = representatives.indices.map { index in
            RankClass(label: representatives[index].label, members: members[index], tasks: programs[index].tasks,
                      persistentBytes: programs[index].memory.bytes, parameters: programs[index].memory.parameters)
        }

        var modelFLOPs = 0.0
        for rankClass in classes {
            var perRank = 0.0
            for task in rankClass.tasks {
                if case let .compute(kernel) = task.action { perRank += kernel.modelFLOPs }
            }
            modelFLOPs += perRank * Double(rankClass.members.count)
        }
        // Every data-parallel replica ran `microBatches`; the classes hold one replica's share each.
        return ExecutionGraph(mesh: mesh, classes: classes, classOfRank: classOfRank, modelFLOPsPerIteration: modelFLOPs,
                              tokensPerIteration: strategy.tokensPerIteration, samplesPerIteration: strategy.globalBatch,
                              precision: strategy.precision, libraryWorkspaceBytes: strategy.training.libraryWorkspaceBytes)
    }

    /// The program `rank` runs as pipeline stage `stage` (its schedule's actions), and the
    /// weights, gradients and optimizer state it holds. The compiler builds it for one
    /// representative of each class; tests build it for other members to check they match.
    static func program(of rank: Int, stage: Int, strategy: ResolvedStrategy, mesh: Mesh, shapes: OpShapes,
                        schedule: [PipelineAction]) -> (tasks: [GraphTask], memory: (bytes: Int64, parameters: Int64)) {
        let pipeline = strategy.pipeline
        let stages = pipeline?.stages ?? 1
        let chunks = pipeline.map { $0.stages * $0.virtualStages } ?? 1
        let layersPerChunk = pipeline?.layersPerChunk ?? [strategy.model.layers]
        let lowering = UnitLowering(strategy: strategy, mesh: mesh, shapes: shapes, rank: rank)
        var units = [[LoweredUnit]](repeating: [], count: chunks)
        for chunk in stride(from: stage, to: chunks, by: stages) {
            units[chunk] = lowering.units(ofChunk: chunk, chunks: chunks, layersPerChunk: layersPerChunk)
        }
        let boundaries = (0..<chunks).map { lowering.boundaryBytes(ofChunk: $0, layersPerChunk: layersPerChunk) }
        var builder = ProgramBuilder(strategy: strategy, mesh: mesh, shapes: shapes, rank: rank, stage: stage, chunkUnits: units,
                                     boundaryBytes: boundaries)
        let actions = schedule.map { action -> (pass: Pass, microBatch: Int, chunk: Int) in
            let pass: Pass = switch action.pass {
            case .forward: .forward
            case .backward: .backward
            case .backwardInput: .backwardInput
            case .backwardWeight: .backwardWeight
            }
            return (pass, action.microBatch, action.chunk)
        }
        let tasks = builder.build(actions: actions, microBatches: strategy.microBatchesPerReplica)
        return (tasks, persistentMemory(units.flatMap { $0 }, strategy: strategy, mesh: mesh, shapes: shapes))
    }

    /// What the experts each rank holds receive and how they run — each MoE layer's local
    /// experts' token counts, precision and kernel — as a function of the rank, when that
    /// differs between ranks of an expert-parallel group (skewed routing, or per-expert
    /// precision or kernels); empty for every rank when all of them match, so that they
    /// share one program.
    ///
    /// - Complexity: O(MoE layers × experts) to prepare, then O(MoE layers) per rank.
    static func expertSignatures(strategy: ResolvedStrategy, mesh: Mesh, shapes: OpShapes) -> (Int) -> String {
        guard let moe = strategy.model.moe else { return { _ in "" } }
        let tree = strategy.tree
        let nodes = tree.modules.nodes
        // Per expert-parallel MoE layer: its axis and the description of each group index.
        var layers: [(axis: String, descriptions: [String])] = []
        for mlp in nodes.indices where nodes[mlp].name == "mlp" {
            guard let router = nodes[mlp].children.first(where: { nodes[$0].name == "router" }) else { continue }
            let experts = nodes[mlp].children.filter { nodes[$0].name == "experts" }
            guard let axis = tree.attributes[experts[0]].expertParallel, mesh.size(of: axis) > 1 else { continue }
            let tensorRanks = tree.attributes[mlp].tensorParallel.map { mesh.size(of: $0) } ?? 1
            let routing = ExpertRouting(moe: moe, tokens: shapes.tokens(of: router) / tensorRanks, groupSize: mesh.size(of: axis))
            let perRank = routing.expertsPerRank
            let descriptions = (0..<mesh.size(of: axis)).map { index -> String in
                let local = experts[index * perRank..<(index + 1) * perRank].map { expert in
                    "\(tree.attributes[expert].precision.description) \(tree.attributes[expert].kernel ?? "")"
                }
                return "\(routing.receivedTokens(rank: index)) \(local)"
            }
            layers.append((axis, descriptions))
        }
        guard layers.contains(where: { Set($0.descriptions).count > 1 }) else { return { _ in "" } }
        return { rank in layers.map { $0.descriptions[mesh.index(of: rank, inGroupOver: [$0.axis])] }.joined(separator: ";") }
    }

    /// Weights, gradients and optimizer state of the ops in `units`: each op's whole state
    /// divided over the axes its layout shards it across.
    static func persistentMemory(_ units: [LoweredUnit], strategy: ResolvedStrategy, mesh: Mesh, shapes: OpShapes)
        -> (bytes: Int64, parameters: Int64) {
        let state = strategy.training.state
        let tree = strategy.tree
        var bytes = 0.0, parameters = 0.0
        var seen: Set<Int> = []
        var indices: [Int] = []
        for unit in units { indices += stateIndices(of: unit, tree: tree, seen: &seen) }
        for index in indices {
            guard let layout = tree.layouts[index] else { continue }
            let whole = Double(shapes.whole(index).parameters)
            guard whole > 0 else { continue }
            let weights = Double(mesh.size(of: layout.weights))
            parameters += whole / Double(mesh.size(of: layout.weights.filter { !tree.attributes[index].dataParallel.contains($0) || $0 == tree.attributes[index].expertParallel }))
            // FSDP2 keeps each shard in the master's precision and casts it as it gathers: with
            // master weights, the 16-bit weights exist only while a unit is gathered.
            if strategy.fsdp == nil || !state.masterWeights {
                bytes += whole * state.weightBytesPerParameter / weights
            }
            // Dropped gradients (set_to_none) are allocated where the first backward writes
            // them instead (ProgramBuilder), and freed with the next zeroing.
            if strategy.training.gradientZeroing != .setToNone {
                bytes += keptGradientBytes(index, strategy: strategy, mesh: mesh, shapes: shapes)
            }
            bytes += whole * state.optimizerBytesPerParameter / Double(mesh.size(of: layout.optimizerState))
        }
        return (Int64(bytes.rounded(.up)), Int64(parameters.rounded()))
    }

    /// The ops whose weights, gradients and optimizer state `unit` holds, each once over
    /// the calls that share `seen`: its ops, and every expert of its MoE layer, which is
    /// lowered as a group.
    static func stateIndices(of unit: LoweredUnit, tree: StrategyTree, seen: inout Set<Int>) -> [Int] {
        var indices: [Int] = []
        for case let .op(index, _, _) in unit.steps where seen.insert(index).inserted { indices.append(index) }
        for case let .op(index, _, _) in unit.steps where tree.modules.path(of: index).contains(".experts[") {
            let mlp = tree.modules.nodes[tree.modules.nodes[index].parent!].parent!
            for expert in tree.modules.nodes[mlp].children where tree.modules.nodes[expert].name == "experts" {
                for op in tree.modules.nodes[expert].children where seen.insert(op).inserted { indices.append(op) }
            }
        }
        return indices
    }

    /// The bytes of op `index`'s gradients one GPU keeps across the iteration's micro-batches:
    /// divided over the axes its layout shards gradients across, except that gradients
    /// reduced over the data-parallel axes only after the last of several micro-batches
    /// accumulate unsharded over those axes until then (FSDP2's no-sync micro-batches):
    /// nothing can be scattered before it is reduced. (An expert-parallel axis splits the
    /// experts themselves, not replicas.)
    static func keptGradientBytes(_ index: Int, strategy: ResolvedStrategy, mesh: Mesh, shapes: OpShapes) -> Double {
        guard let layout = strategy.tree.layouts[index] else { return 0 }
        let whole = Double(shapes.whole(index).parameters)
        let accumulatesLocally = strategy.gradientSync.afterLastMicroBatch && strategy.microBatchesPerReplica > 1
        let attributes = strategy.tree.attributes[index]
        let gradientAxes = accumulatesLocally
            ? layout.gradients.filter { !attributes.dataParallel.contains($0) || $0 == attributes.expertParallel } : layout.gradients
        return whole * strategy.training.state.gradientBytesPerParameter / Double(mesh.size(of: gradientAxes))
    }

    /// What this version does not lower yet is diagnosed at the line that asks for it,
    /// rather than silently ignored.
    static func checkSupported(_ strategy: ResolvedStrategy) throws(DiagnosticError) {
        let tree = strategy.tree
        let fallback = SourceLocation(file: strategy.path, line: 1, column: 1)
        var diagnostics: [Diagnostic] = []
        var seen: Set<String> = []
        for index in tree.attributes.indices where !tree.attributes[index].offload.isEmpty {
            let location = tree.source(of: "offload", at: index) ?? fallback
            let diagnostic = Diagnostic(at: location, "offload is not compiled yet: host-memory transfers are not modelled",
                                        help: "'simulate check' accepts this strategy; remove 'offload' to run it")
            if seen.insert(diagnostic.description).inserted { diagnostics.append(diagnostic) }
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
    }
}

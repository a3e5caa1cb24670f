import StrataCore
import StrataModel
import StrataTopology

/// Compiles a resolved strategy into the execution graph of one training iteration.
///
/// Data parallelism (this version's slice of the language): every replica runs all
/// micro-batches of its share of the batch — each micro-batch's forward, then its backward
/// in reverse op order — accumulating gradients; after the last backward the gradients are
/// all-reduced across the replicas in one bucket, then the optimizer updates the full
/// model on every GPU. Activations are allocated by each op's forward and freed by its
/// backward, so the memory high-water mark is the persistent state plus one micro-batch's
/// saved activations.
public enum Compiler {
    public static func compile(_ strategy: ResolvedStrategy) throws(DiagnosticError) -> ExecutionGraph {
        try checkSupported(strategy)
        let builder = TransformerBuilder(config: strategy.model, microBatch: strategy.microBatch, precision: strategy.precision)
        let ops = builder.ops()
        let parameters = ops.reduce(Int64(0)) { $0 + $1.parameters }
        let state = strategy.training.state
        let persistent = Int64((Double(parameters) * (state.weightBytesPerParameter + state.gradientBytesPerParameter
            + state.optimizerBytesPerParameter)).rounded(.up))
        let gradientBytes = Int64((Double(parameters) * state.gradientBytesPerParameter).rounded(.up))
        let microBatches = strategy.microBatchesPerReplica
        let group = Array(0..<strategy.gpuCount)
        let synchronises = strategy.dataParallel > 1
        let step = state.step(parameters: parameters)

        var collectives: [Collective] = []
        if synchronises {
            collectives.append(Collective(id: 0, kind: .allReduce, bytes: gradientBytes, group: group, name: "gradients"))
        }

        var ranks: [RankProgram] = []
        for gpu in group {
            var tasks: [GraphTask] = []
            func append(_ name: String, _ stream: StreamKind, _ action: TaskAction, after dependencies: [Int] = [],
                        allocates: Int64 = 0, frees: Int64 = 0) {
                tasks.append(GraphTask(id: tasks.count, name: name, stream: stream, action: action,
                                       dependencies: dependencies, allocates: allocates, frees: frees))
            }
            for microBatch in 0..<microBatches {
                for op in ops {
                    append("\(op.name) forward mb\(microBatch)", .compute, .compute(op.forward), allocates: op.savedBytes)
                }
                for op in ops.reversed() {
                    append("\(op.name) backward mb\(microBatch)", .compute, .compute(op.backward), frees: op.savedBytes)
                }
            }
            var optimizerDependencies: [Int] = []
            if synchronises {
                append("gradients all_reduce", .gradientSync, .collective(0), after: [tasks.count - 1])
                optimizerDependencies = [tasks.count - 1]
            }
            append(step.name + " step", .compute, .compute(step.forward), after: optimizerDependencies)
            ranks.append(RankProgram(gpu: gpu, tasks: tasks, persistentBytes: persistent))
        }

        let modelFLOPsPerMicroBatch = ops.filter(\.family.countsAsModelFLOPs)
            .reduce(0.0) { $0 + $1.forward.flops + $1.backward.flops }
        let microBatchesPerIteration = strategy.globalBatch / strategy.microBatch
        return ExecutionGraph(
            ranks: ranks,
            collectives: collectives,
            modelFLOPsPerIteration: modelFLOPsPerMicroBatch * Double(microBatchesPerIteration),
            tokensPerIteration: strategy.tokensPerIteration,
            samplesPerIteration: strategy.globalBatch,
            precision: strategy.precision)
    }

    /// This version compiles data parallelism of dense models. Everything else the language
    /// expresses is diagnosed at the line that asks for it, rather than silently ignored.
    static func checkSupported(_ strategy: ResolvedStrategy) throws(DiagnosticError) {
        let tree = strategy.tree
        let root = tree.attributes[ModuleTree.rootIndex]
        let fallback = SourceLocation(file: strategy.path, line: 1, column: 1)
        var diagnostics: [Diagnostic] = []
        var seen: Set<String> = []
        func unsupported(_ what: String, _ key: String, at index: Int) {
            let location = tree.source(of: key, at: index) ?? fallback
            let diagnostic = Diagnostic(at: location, "\(what) is not compiled yet: this version of 'simulate run' executes data parallelism of dense models only",
                                        help: "'simulate check' accepts this strategy; remove '\(key)' to run it, or wait for the compiler to support it")
            if seen.insert(diagnostic.description).inserted { diagnostics.append(diagnostic) }
        }
        if strategy.model.moe != nil {
            diagnostics.append(Diagnostic(at: fallback, "mixture-of-experts models are not compiled yet: this version of 'simulate run' executes dense models only",
                                          help: "'simulate check' accepts this strategy; remove the moe block to run the dense model"))
        }
        if strategy.pipeline != nil {
            diagnostics.append(Diagnostic(at: fallback, "pipeline parallelism is not compiled yet: this version of 'simulate run' executes data parallelism only",
                                          help: "'simulate check' accepts this strategy; remove the pipeline block to run it"))
        }
        if strategy.fsdp != nil {
            diagnostics.append(Diagnostic(at: fallback, "FSDP is not compiled yet: this version of 'simulate run' executes plain data parallelism only",
                                          help: "'simulate check' accepts this strategy; remove the fsdp block to run it"))
        }
        for index in tree.attributes.indices {
            let a = tree.attributes[index]
            if a.tensorParallel != nil { unsupported("tensor parallelism", "tensor_parallel", at: index) }
            if a.contextParallel != nil { unsupported("context parallelism", "context_parallel", at: index) }
            if a.expertParallel != nil { unsupported("expert parallelism", "expert_parallel", at: index) }
            if a.sequenceParallel { unsupported("sequence parallelism", "sequence_parallel", at: index) }
            if a.zero > 0 { unsupported("ZeRO", "zero", at: index) }
            if a.recompute != .none { unsupported("recompute", "recompute", at: index) }
            if !a.offload.isEmpty { unsupported("offload", "offload", at: index) }
            if a.kernel != nil { unsupported("a kernel table", "kernel", at: index) }
            if a.precision != root.precision { unsupported("a per-subtree precision", "precision", at: index) }
            if a.dataParallel != root.dataParallel { unsupported("a per-subtree data-parallel layout", "data_parallel", at: index) }
            if tree.sources[index]["split"] != nil { unsupported("an explicit split", "split", at: index) }
            if tree.sources[index]["place"] != nil { unsupported("an explicit placement", "place", at: index) }
            if tree.sources[index]["tp_style"] != nil { unsupported("a tensor-parallel style", "tp_style", at: index) }
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
    }
}

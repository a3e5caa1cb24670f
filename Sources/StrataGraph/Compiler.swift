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
    public static func compile(_ strategy: ResolvedStrategy) -> ExecutionGraph {
        let builder = GPTBuilder(config: strategy.model, microBatch: strategy.microBatch, precision: strategy.precision)
        let ops = builder.ops()
        let parameters = ops.reduce(Int64(0)) { $0 + $1.parameters }
        let training = strategy.training
        let persistent = Int64((Double(parameters) * (training.weightBytesPerParameter + training.gradientBytesPerParameter
            + training.optimizerBytesPerParameter)).rounded(.up))
        let gradientBytes = Int64((Double(parameters) * training.gradientBytesPerParameter).rounded(.up))
        let microBatches = strategy.microBatchesPerReplica
        let group = Array(0..<strategy.gpuCount)
        let synchronises = strategy.dataParallel > 1

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
            append(training.step(parameters: parameters).name + " step", .compute,
                   .compute(training.step(parameters: parameters).forward), after: optimizerDependencies)
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
}

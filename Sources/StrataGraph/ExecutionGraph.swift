import StrataCore
import StrataModel

/// The stream a task runs on. Tasks on one stream run in order; tasks on different
/// streams of a GPU run concurrently, ordered only by their dependencies — as CUDA
/// streams do in PyTorch and Megatron.
public enum StreamKind: String, Hashable, Sendable, CaseIterable {
    case compute
    /// Data-parallel gradient synchronisation.
    case gradientSync = "grad-sync"
}

/// What a task does when it runs.
public enum TaskAction: Hashable, Sendable {
    /// A kernel with its arithmetic and memory traffic, priced by the cost model.
    case compute(Work)
    /// This GPU's part in collective `id` of `ExecutionGraph.collectives`; it starts when
    /// every member of the group has reached it.
    case collective(Int)
}

/// One unit of work on one GPU.
public struct GraphTask: Hashable, Sendable {
    /// Index in the GPU's task list.
    public var id: Int
    /// The op and pass, such as `layers[3].mlp.fc1 forward mb0`.
    public var name: String
    public var stream: StreamKind
    public var action: TaskAction
    /// Tasks of the same GPU that must finish before this one starts (besides the one
    /// before it on its stream).
    public var dependencies: [Int]
    /// Bytes allocated when the task starts and held after it (saved activations).
    public var allocates: Int64
    /// Bytes freed when the task ends (activations its backward consumed).
    public var frees: Int64
}

/// The kinds of collective the compiler emits.
public enum CollectiveKind: String, Hashable, Sendable {
    case allReduce = "all_reduce"
}

/// One collective operation across a group of GPUs.
public struct Collective: Hashable, Sendable {
    public var id: Int
    public var kind: CollectiveKind
    /// Bytes each member contributes (for an all-reduce, the size of the buffer).
    public var bytes: Int64
    /// Member GPUs in ring order (indices into the cluster's GPUs).
    public var group: [Int]
    public var name: String
}

/// What one GPU executes in an iteration, and the memory it holds throughout.
public struct RankProgram: Hashable, Sendable {
    /// Index of the GPU in the cluster.
    public var gpu: Int
    public var tasks: [GraphTask]
    /// Weights, gradients and optimizer state: allocated for the whole iteration.
    public var persistentBytes: Int64
}

/// The distributed execution graph: every GPU's program plus the collectives that tie
/// them together. The executor runs it; it holds no times, only work.
public struct ExecutionGraph: Hashable, Sendable {
    public var ranks: [RankProgram]
    public var collectives: [Collective]
    /// Matrix-product FLOPs of forward and backward over all GPUs, without recompute:
    /// the numerator of MFU.
    public var modelFLOPsPerIteration: Double
    public var tokensPerIteration: Int
    public var samplesPerIteration: Int
    /// The precision whose peak MFU is measured against.
    public var precision: Precision
}

import StrataCore
import StrataModel

/// The stream a task runs on. Tasks on one stream run in order; tasks on different
/// streams of a GPU run concurrently, ordered only by their dependencies — as CUDA
/// streams do in PyTorch and Megatron. Point-to-point tasks (pipeline and context-parallel
/// exchanges) are posted asynchronously and do not wait for their stream's earlier tasks,
/// as batched `isend`/`irecv` do.
public enum StreamKind: String, Hashable, Sendable, CaseIterable {
    case compute
    /// Tensor- and sequence-parallel collectives.
    case tensorParallel = "tp-comm"
    /// Context-parallel ring exchanges of keys and values.
    case contextParallel = "cp-comm"
    /// Expert-parallel all-to-all dispatch and combine.
    case expertParallel = "ep-comm"
    /// Pipeline sends and receives.
    case pipeline = "pp-comm"
    /// Data-parallel gradient synchronisation.
    case gradientSync = "grad-sync"
    /// ZeRO-3/FSDP parameter all-gathers and the distributed optimizer's parameter all-gather.
    case parameterGather = "param-gather"

    /// Whether tasks on this stream are posted without waiting for the stream's earlier tasks.
    public var isPointToPoint: Bool { self == .pipeline || self == .contextParallel }
}

/// Which pass of training a compute task belongs to.
public enum Pass: String, Hashable, Sendable {
    case forward
    /// The whole backward of an op (input and weight gradients).
    case backward
    /// Zero-bubble schedules split backward: the input gradient …
    case backwardInput = "backward-input"
    /// … and the weight gradient, which can wait.
    case backwardWeight = "backward-weight"
    /// A forward recomputed before its backward (activation recomputation).
    case recompute
    case optimizer
}

/// A kernel one GPU runs: the op it belongs to, its shape on this GPU, and its work.
public struct ComputeKernel: Hashable, Sendable {
    /// The module path, such as `layers[3].mlp.fc1`.
    public var op: String
    public var family: OpFamily
    public var pass: Pass
    public var work: Work
    /// This kernel's contribution to model FLOPs, the numerator of MFU (Chowdhery et al.
    /// 2022, appendix B): the matrix products a training step needs — not recomputation,
    /// not flash attention's re-derivation of the scores in backward — divided among the
    /// GPUs that compute the same kernel on the same data (a replicated head, say).
    public var modelFLOPs: Double
    /// The custom kernel whose tables price this kernel (the op's effective
    /// `kernel = "name"`), or nil for the stock kernels.
    public var kernel: String? = nil
    /// A weight gradient's accumulation into the gradient kept across micro-batches
    /// (PyTorch's AccumulateGrad, `gradient_accumulation = add`): a separate memory-bound
    /// kernel launched right after this one on the same stream, priced on its own and
    /// simulated as this task's tail — one task instead of two, the same times.
    public var accumulation: Work? = nil
    /// Whether this backward also reduces a bias gradient (`Op.biasGradient`, on the pass
    /// that computes the weight gradient), simulated as this task's tail like the
    /// accumulation and priced at the device copy's bandwidth, as residual adds are.
    public var reducesBias = false
    /// The copies an attention backward makes to lay its output and output gradient out
    /// batch-first (PyTorch's flash backward calls `contiguous()` on both): in the
    /// sequence-first layout Megatron-LM and the validation runner use, they are strided
    /// once a micro-batch holds more than one sequence. Simulated as this task's tail,
    /// priced at the measured transposing copy's bandwidth (`layout_copy`), inside the
    /// attention's autograd node.
    public var layoutCopies: Work? = nil

    /// The bias gradient's reduction, when `reducesBias`.
    public var biasGradient: Work? { Op.biasGradient(family: family, hasBias: reducesBias, precision: work.precision) }

    /// Calls `body` with each kernel simulated as this task's tail, in launch order, and the
    /// family that prices it: an attention backward's layout copies, the bias reduction (at
    /// the device copy's bandwidth, as residual adds are), then the gradient's
    /// accumulation. No array is built: the executor walks every compute task.
    public func forEachTail(_ body: (_ family: OpFamily, _ work: Work) -> Void) {
        if let layoutCopies { body(.layoutCopy, layoutCopies) }
        if let biasGradient { body(.add, biasGradient) }
        if let accumulation { body(.gradientAccumulation, accumulation) }
    }
}

/// The collectives the compiler emits.
public enum CollectiveKind: String, Hashable, Sendable {
    case allReduce = "all_reduce"
    case allGather = "all_gather"
    case reduceScatter = "reduce_scatter"
    case allToAll = "all_to_all"
}

/// One GPU's part in a collective over the group of ranks that share its coordinates on
/// every mesh axis except `axes`. Calls over the same group match in program order, as
/// NCCL communicators do.
public struct CollectiveCall: Hashable, Sendable {
    public var kind: CollectiveKind
    public var axes: [String]
    /// The size of the whole buffer: the all-reduced tensor, the gathered output, the
    /// scattered input, or (all-to-all) everything this GPU sends.
    public var bytes: Int64
    /// For all-to-all: bytes this GPU sends to each member of its group, by group index.
    public var bytesPerDestination: [Int64]?
    /// What is being communicated, such as `layers[3] attention output`.
    public var label: String
    /// Whether the call belongs to a backward pass (it carries gradients of activations):
    /// the host's cost of calling it differs (`LaunchCosts.collectiveHostSeconds`).
    public var isGradient = false

    /// A call, for tools that price one collective on its own (`simulate cost`).
    public init(kind: CollectiveKind, axes: [String], bytes: Int64, bytesPerDestination: [Int64]? = nil, label: String,
                isGradient: Bool = false) {
        self.kind = kind
        self.axes = axes
        self.bytes = bytes
        self.bytesPerDestination = bytesPerDestination
        self.label = label
        self.isGradient = isGradient
    }
}

/// One side of a point-to-point transfer with the rank `offset` steps along `axis`
/// (wrapping around). A send and a receive match by the pair of ranks and `tag`.
public struct PointToPoint: Hashable, Sendable {
    public var axis: String
    public var offset: Int
    public var bytes: Int64
    public var tag: String
}

/// What a task does when it runs.
public enum TaskAction: Hashable, Sendable {
    case compute(ComputeKernel)
    case collective(CollectiveCall)
    case send(PointToPoint)
    case receive(PointToPoint)
}

/// One unit of work on one GPU.
public struct GraphTask: Hashable, Sendable {
    /// Index in the program.
    public var id: Int
    /// What the task is called, turned into text only when shown (`name`).
    public var label: TaskLabel
    /// The op and pass, such as `layers[3].mlp.fc1 forward mb0`.
    public var name: String {
        get { label.description }
        set { label = .text(newValue) }
    }
    public var stream: StreamKind
    public var action: TaskAction
    /// Tasks of the same program that must finish before this one starts (besides the one
    /// before it on its stream).
    public var dependencies: [Int]
    /// Bytes allocated when the task starts (saved activations, gathered parameters).
    public var allocates: Int64
    /// Bytes freed when the task ends.
    public var frees: Int64
    /// Framework work on the host that comes with this task besides its own launches:
    /// FSDP2's hooks around a unit's pass, and the tasks they issue (`HostHook`).
    public var hook = HostHook.none

    public init(id: Int, label: TaskLabel, stream: StreamKind, action: TaskAction, dependencies: [Int], allocates: Int64,
                frees: Int64) {
        self.id = id
        self.label = label
        self.stream = stream
        self.action = action
        self.dependencies = dependencies
        self.allocates = allocates
        self.frees = frees
    }

    public init(id: Int, name: String, stream: StreamKind, action: TaskAction, dependencies: [Int], allocates: Int64,
                frees: Int64) {
        self.init(id: id, label: .text(name), stream: stream, action: action, dependencies: dependencies,
                  allocates: allocates, frees: frees)
    }
}

/// Host work of a framework that no single op's row prices: FSDP2 drives each unit's
/// all-gather, copy-out, reshard and reduce-scatter from Python hooks around the unit's
/// pass, which cost the host far more than the calls and kernels they issue
/// (docs/cost-model.md, "Launch costs and the critical path"). The executor prices a unit's hooks on the unit's
/// first task of the pass, from the host table's `fsdp_unit` rows, and the tasks the hooks
/// issue at nothing of their own, since the measured hooks hold them; without those rows
/// it prices neither differently.
public struct HostHook: Hashable, Sendable {
    /// FSDP2's hooks around one unit's pass begin with this task.
    public var startsFSDPUnit: FSDPUnitPass?
    /// The task is one FSDP2's hooks issue (a gather, its copy-out, a reduce-scatter and
    /// what prepares it): its host time is in the unit's hooks.
    public var issuedByFSDP = false

    /// No framework work besides the task's own.
    public static let none = HostHook()

    public init(startsFSDPUnit: FSDPUnitPass? = nil, issuedByFSDP: Bool = false) {
        self.startsFSDPUnit = startsFSDPUnit
        self.issuedByFSDP = issuedByFSDP
    }
}

/// Which of a unit's passes FSDP2's hooks wrap: the host table prices the backward's with
/// and without the reduce-scatter of a micro-batch that synchronises its gradients.
public enum FSDPUnitPass: Hashable, Sendable {
    case forward
    case backward(synchronised: Bool)
}

/// A task's name, kept as its parts: a program holds tens of thousands of tasks, most of
/// them one op's pass for one micro-batch, and building each name as a string took a
/// noticeable share of compiling a sweep's points; it is built only when shown.
public enum TaskLabel: Hashable, Sendable, CustomStringConvertible {
    /// `layers[3].mlp.fc1 forward mb0`.
    case pass(op: String, pass: Pass, microBatch: Int)
    case text(String)

    public var description: String {
        switch self {
        case let .pass(op, pass, microBatch): "\(op) \(pass.rawValue) mb\(microBatch)"
        case let .text(text): text
        }
    }

    /// Labels are equal when they read the same, however they are kept.
    public static func == (lhs: TaskLabel, rhs: TaskLabel) -> Bool { lhs.description == rhs.description }

    public func hash(into hasher: inout Hasher) { hasher.combine(description) }
}

/// GPUs whose programs are identical up to which ranks their collectives and transfers
/// reach: they share one program, which the executor can simulate once for all of them.
public struct RankClass: Hashable, Sendable {
    /// Why these ranks differ from others, such as `stage 3`.
    public var label: String
    /// Member ranks in increasing order.
    public var members: [Int]
    public var tasks: [GraphTask]
    /// Weights, gradients and optimizer state held for the whole iteration.
    public var persistentBytes: Int64
    /// Parameters this GPU holds (its shard of the model).
    public var parameters: Int64
}

/// The distributed execution graph of one training iteration: the program of every class
/// of identical GPUs and the mesh that places them. It holds work, not times.
public struct ExecutionGraph: Hashable, Sendable {
    public var mesh: Mesh
    public var classes: [RankClass]
    /// The class of each rank; rank *r* runs on the cluster's GPU *r*.
    public var classOfRank: [Int]
    /// Matrix-product FLOPs of forward and backward over all GPUs, without recompute:
    /// the numerator of MFU.
    public var modelFLOPsPerIteration: Double
    public var tokensPerIteration: Int
    public var samplesPerIteration: Int
    /// The precision whose peak MFU is measured against.
    public var precision: Precision
    /// Bytes every GPU's math libraries hold for the whole run, beside each class's
    /// persistent state (`TrainingSetup.libraryWorkspaceBytes`).
    public var libraryWorkspaceBytes: Int64 = 0

    public var rankCount: Int { classOfRank.count }

    /// The program rank `rank` runs.
    public func program(of rank: Int) -> RankClass { classes[classOfRank[rank]] }
}

import StrataCore
import StrataModel

/// How much of the forward pass is recomputed in backward instead of saving activations
/// (Korthikanti et al. 2022): nothing, the attention core (selective), or whole layers.
public enum Recompute: String, CaseIterable, Hashable, Sendable {
    case none, selective
    /// The whole unit's forward again before its backward, as Megatron-LM's checkpointing
    /// runs it.
    case full
    /// The unit's forward again only as far as its backward needs: PyTorch's non-reentrant
    /// `torch.utils.checkpoint` stops once every tensor the unit saved is back, so the
    /// trailing ops that save nothing (a residual add, the collective after a row-parallel
    /// product) and a trailing product, which saves only its input and weight, are not run.
    case fullEarlyStop = "full_early_stop"

    /// Whether the unit keeps only its input through the forward and recomputes the rest.
    public var isFull: Bool { self == .full || self == .fullEarlyStop }
}

/// How Megatron-style tensor parallelism splits one op (Shoeybi et al. 2019).
public enum TensorParallelStyle: String, CaseIterable, Hashable, Sendable {
    /// Split the output features (`n`): QKV, fc1, gate, up.
    case column
    /// Split the input features (`k`), then all-reduce partial sums: attention out, fc2, down.
    case row
    /// Split the vocabulary: the embedding table, the head and the parallel cross-entropy.
    case vocab
    /// Split the attention heads.
    case heads
    /// Every tensor-parallel rank holds and computes the whole op.
    case replicated
}

/// What is moved to host memory between uses.
public enum OffloadTarget: String, CaseIterable, Hashable, Sendable {
    case optimizer, activations
}

/// Pipeline schedules.
public enum PipelineSchedule: String, CaseIterable, Hashable, Sendable {
    /// All forwards, then all backwards (Huang et al. 2019).
    case gpipe
    /// One forward, one backward, after a warm-up (PipeDream-Flush, Narayanan et al. 2021).
    case oneFOneB = "1f1b"
    /// 1F1B over `virtual_stages` model chunks per GPU (Narayanan et al. 2021, §2.2).
    case interleaved = "interleaved_1f1b"
    /// Zero bubble with backward split into input and weight gradients (Qi et al. 2024, ZB-H1).
    case zeroBubble = "zb_h1"
}

/// Precisions of one subtree: weights, activations (and the arithmetic of its matrix
/// products, which run in the wider of the two), and gradients.
public struct SubtreePrecision: Hashable, Sendable {
    public var weights: Precision
    public var activations: Precision
    public var gradients: Precision

    /// `bf16` when all three agree, otherwise `weights int4, activations bf16, gradients fp32`.
    public var description: String {
        if weights == activations, activations == gradients { return weights.rawValue }
        return "weights \(weights.rawValue), activations \(activations.rawValue), gradients \(gradients.rawValue)"
    }

    /// The precision matrix products run in: the activations' when weights are integers
    /// (weight-only quantization dequantizes to the activation type), else the wider of the two.
    public var compute: Precision {
        if !weights.isFloatingPoint, activations.isFloatingPoint { return activations }
        return weights.bits >= activations.bits ? weights : activations
    }
}

/// The effective parallel attributes of one module: set on it or inherited from the
/// nearest ancestor that sets them.
public struct NodeAttributes: Hashable, Sendable {
    /// Mesh axes the batch is split over and the weights replicated over.
    public var dataParallel: [String] = []
    /// ZeRO stage over the data-parallel axes (Rajbhandari et al. 2020): 1 shards optimizer
    /// state, 2 also gradients, 3 also weights.
    public var zero = 0
    public var tensorParallel: String?
    public var sequenceParallel = false
    public var contextParallel: String?
    /// The axis the routed experts are split over; one of the data-parallel axes, whose
    /// ranks then hold different experts instead of replicas.
    public var expertParallel: String?
    public var recompute = Recompute.none
    public var offload: [OffloadTarget] = []
    public var precision: SubtreePrecision
    /// The kernel implementation whose measured table prices this subtree's ops.
    public var kernel: String?
}

/// The general form every keyword lowers to: how one op's iteration-space dimensions are
/// split over mesh axes, and over which axes its tensors are sharded.
public struct OpLayout: Hashable, Sendable {
    /// Dimension → axes, in the op's dimension order (`tokens`, `n`, `k` for a linear layer).
    public var splits: [(dimension: String, axes: [String])]
    /// Axes the weights are split over (tensor parallelism, ZeRO-3/FSDP, experts).
    public var weights: [String]
    /// Axes the gradients are split over (weights' axes, plus data axes from ZeRO-2).
    public var gradients: [String]
    /// Axes the optimizer state is split over (plus data axes from ZeRO-1).
    public var optimizerState: [String]

    public static func == (lhs: OpLayout, rhs: OpLayout) -> Bool {
        lhs.splits.map(\.dimension) == rhs.splits.map(\.dimension) && lhs.splits.map(\.axes) == rhs.splits.map(\.axes)
            && lhs.weights == rhs.weights && lhs.gradients == rhs.gradients && lhs.optimizerState == rhs.optimizerState
    }

    public func hash(into hasher: inout Hasher) {
        for split in splits {
            hasher.combine(split.dimension)
            hasher.combine(split.axes)
        }
        hasher.combine(weights)
        hasher.combine(gradients)
        hasher.combine(optimizerState)
    }

    /// The axes `dimension` is split over; empty when it is not split.
    public func axes(of dimension: String) -> [String] {
        splits.first { $0.dimension == dimension }?.axes ?? []
    }
}

/// A pipeline: the axis its stages lie along, the schedule, and which layers each model
/// chunk holds.
public struct PipelineSettings: Hashable, Sendable {
    public var axis: String
    public var stages: Int
    public var schedule: PipelineSchedule
    /// Model chunks per stage (2 or more only for interleaved 1F1B).
    public var virtualStages: Int
    /// Layers in each chunk, in layer order; chunk *c* runs on stage *c* mod `stages`.
    public var layersPerChunk: [Int]

    /// The stage that runs layer `layer`.
    public func stage(ofLayer layer: Int) -> Int {
        chunk(ofLayer: layer) % stages
    }

    /// The model chunk that holds layer `layer`.
    public func chunk(ofLayer layer: Int) -> Int {
        var first = 0
        for (chunk, count) in layersPerChunk.enumerated() {
            if layer < first + count { return chunk }
            first += count
        }
        return layersPerChunk.count - 1
    }
}

/// How gradients are averaged over the data-parallel replicas.
public enum GradientAverage: String, CaseIterable, Hashable, Sendable {
    /// A pass over each bucket dividing its gradients by the replicas' number before they
    /// are reduced: FSDP2 (its flat input), Megatron-LM without `average_in_collective`
    /// (its bucket).
    case pass
    /// A kernel per gradient tensor, as PyTorch DDP's reducer divides each gradient when it
    /// lands in its bucket: for small tensors (biases, norms' scales) each costs the GPU a
    /// launch, not its bytes (292 kernels an iteration for GPT-350M; docs/accuracy.md).
    case perTensor = "per_tensor"
    /// Inside the collective (NCCL's average or pre-multiplied sum): no pass of its own.
    case inCollective = "in_collective"
}

/// Data-parallel gradient synchronisation.
public struct GradientSyncSettings: Hashable, Sendable {
    /// Gradients are reduced in buckets of this size, in backward order.
    public var bucketBytes: Int64
    /// Whether a bucket's reduction starts as soon as its gradients are ready, overlapping
    /// the rest of backward (PyTorch DDP, Megatron's overlap_grad_reduce).
    public var overlap: Bool
    /// Whether gradients are synchronised only after the last micro-batch (gradient
    /// accumulation with `no_sync`), rather than after every micro-batch.
    public var afterLastMicroBatch: Bool
    /// Whether averaging over the replicas costs a pass over each bucket.
    public var average: GradientAverage = .pass
}

/// Fully sharded data parallelism (Zhao et al. 2023, PyTorch FSDP): weights, gradients
/// and optimizer state sharded over the data-parallel axes, gathered one wrapping unit at
/// a time.
public struct FSDPSettings: Hashable, Sendable {
    public enum Unit: String, CaseIterable, Hashable, Sendable {
        /// Each transformer layer is a unit (the usual auto-wrap policy).
        case layer
        /// The whole model is one unit.
        case model
    }

    public var unit: Unit
    /// How many units ahead parameters are gathered.
    public var prefetch: Int
    /// Whether gathered weights are freed after forward and gathered again for backward.
    public var reshardAfterForward: Bool
}

/// The model's module tree with every node's effective attributes and every op's layout:
/// what a strategy means, before any task is scheduled.
public struct StrategyTree: Hashable, Sendable {
    public var modules: ModuleTree
    /// Effective attributes, indexed like `modules.nodes`.
    public var attributes: [NodeAttributes]
    /// Tensor-parallel style of each op (nil for containers).
    public var styles: [TensorParallelStyle?]
    /// Layout of each op (nil for containers).
    public var layouts: [OpLayout?]
    /// Pipeline stage of each node (0 without a pipeline); nil for a container whose
    /// children lie on different stages (the root).
    public var stages: [Int?]
    /// Where each node's explicitly set attributes came from, for diagnostics.
    public var sources: [[String: SourceLocation]]

    /// The location that set `attribute` for node `index` or its nearest ancestor.
    public func source(of attribute: String, at index: Int) -> SourceLocation? {
        var current: Int? = index
        while let node = current {
            if let location = sources[node][attribute] { return location }
            current = modules.nodes[node].parent
        }
        return nil
    }
}

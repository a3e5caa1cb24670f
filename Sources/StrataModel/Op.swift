import StrataCore

/// The family of a kernel. Calibrated cost models are keyed on it; the roofline uses only
/// `Work`, so the shape is kept for them and for reports.
public enum OpFamily: Hashable, Sendable {
    /// `[m, k] × [k, n]`.
    case gemm(m: Int, n: Int, k: Int)
    /// Several experts' `[tokens[i], k] × [k, n]` products in one kernel.
    case groupedGemm(tokens: [Int], n: Int, k: Int)
    /// Fused (flash) attention over `batch × heads` sequences of length `sequence`, the
    /// query heads sharing `kvHeads` key/value heads (grouped-query attention where fewer).
    case attention(batch: Int, heads: Int, kvHeads: Int, sequence: Int, headDim: Int, causal: Bool)
    /// LayerNorm over `tokens` rows of `hidden` (a mean and a deviation per row).
    case layerNorm(tokens: Int, hidden: Int)
    /// RMSNorm over `tokens` rows of `hidden`.
    case rmsNorm(tokens: Int, hidden: Int)
    case gelu
    case swiglu
    case add
    case dropout
    case embedding
    case crossEntropy
    /// Rotary position embeddings applied to queries and keys (Su et al. 2021).
    case rope
    /// A micro-batch's weight gradient added to the gradient kept across micro-batches.
    case gradientAccumulation
    case optimizerStep
    /// A MoE layer's tokens copied into expert order, one row per token-expert assignment
    /// (with the router's softmax and the gate weights picked for them).
    case moePermute
    /// The experts' rows scaled by their gate weights and summed back into token order.
    case moeUnpermute
    /// Bytes copied from one buffer to another with no arithmetic: FSDP's gathered
    /// parameters copied out into the unit's tensors, its gradients copied into the
    /// reduce-scatter's buffer.
    case copy
    /// A sequence-first tensor made contiguous batch-first (a transposing copy): what
    /// PyTorch's flash backward does to its output and output gradient when a micro-batch
    /// holds more than one sequence.
    case layoutCopy

    public var name: String {
        switch self {
        case .gemm: "gemm"
        case .groupedGemm: "grouped_gemm"
        case .attention: "attention"
        case .layerNorm: "layer_norm"
        case .rmsNorm: "rms_norm"
        case .gelu: "gelu"
        case .swiglu: "swiglu"
        case .add: "add"
        case .dropout: "dropout"
        case .embedding: "embedding"
        case .crossEntropy: "cross_entropy"
        case .rope: "rope"
        case .gradientAccumulation: "accumulate"
        case .optimizerStep: "optimizer_step"
        case .moePermute: "moe_permute"
        case .moeUnpermute: "moe_unpermute"
        case .copy: "copy"
        case .layoutCopy: "layout_copy"
        }
    }

    /// Whether the op counts toward model FLOPs (and so MFU): the matrix products, as in
    /// Narayanan et al. 2021 and PaLM's MFU definition. Norms and activations do not.
    public var countsAsModelFLOPs: Bool {
        switch self {
        case .gemm, .groupedGemm, .attention: true
        default: false
        }
    }
}

/// One operation of the model for one micro-batch, in forward order.
public struct Op: Hashable, Sendable {
    /// The module path, such as `layers[3].mlp.fc1`.
    public var name: String
    public var family: OpFamily
    public var forward: Work
    /// The whole backward pass of the op (input and weight gradients together).
    public var backward: Work
    /// Activation bytes kept from this op's forward until its backward.
    public var savedBytes: Int64
    /// Bytes the forward holds only while it runs (inputs kept alive for it, temporaries),
    /// freed when it ends.
    public var forwardWorkspace: Int64 = 0
    /// The same for the backward.
    public var backwardWorkspace: Int64 = 0
    /// Trainable parameters the op owns.
    public var parameters: Int64
    /// Whether the op is a product with a bias, whose backward also sums the output
    /// gradient over the rows (`biasGradient(family:hasBias:precision:)`). A flag rather
    /// than a stored `Work`: ops are copied often, and the work follows from the shape.
    public var hasBias = false

    /// A biased product's bias gradient: the `[m, n]` output gradient summed over its rows
    /// into `n` sums, a memory-bound reduction the backward runs beside the two products
    /// (PyTorch's AddmmBackward launches it as its own kernel). Nil without a bias.
    public static func biasGradient(family: OpFamily, hasBias: Bool, precision: Precision) -> Work? {
        guard hasBias, case let .gemm(m, n, _) = family else { return nil }
        let (rows, columns) = (Double(m), Double(n))
        return Work(flops: rows * columns, bytes: (rows * columns + columns) * precision.bytesPerElement, precision: .fp32)
    }

    /// The elements of each trainable tensor the op owns, as PyTorch keeps them: a product's
    /// weight and its bias, a LayerNorm's scale and shift. A pass that touches every gradient
    /// tensor apart (PyTorch DDP's reducer divides each as it lands) launches a kernel per
    /// entry. Read from the op's shape, so a shard's op gives its shard's tensors; an
    /// embedding counts as one tensor even where it also holds learned positions.
    public var parameterTensors: [Int64] {
        guard parameters > 0 else { return [] }
        switch family {
        case let .gemm(_, n, _) where hasBias && Int64(n) < parameters:
            return [parameters - Int64(n), Int64(n)]
        case let .layerNorm(_, hidden) where parameters == 2 * Int64(hidden):
            return [Int64(hidden), Int64(hidden)]
        default:
            return [parameters]
        }
    }

    public init(name: String, family: OpFamily, forward: Work, backward: Work, savedBytes: Int64, parameters: Int64) {
        self.name = name
        self.family = family
        self.forward = forward
        self.backward = backward
        self.savedBytes = savedBytes
        self.parameters = parameters
    }
}

import StrataCore
import StrataModel

/// One attribute as written on a module in the strategy block, already type-checked.
enum NodeSetting: Hashable, Sendable {
    case dataParallel([String])
    case zero(Int)
    case tensorParallel(String?)
    case sequenceParallel(Bool)
    case contextParallel(String?)
    case expertParallel(String?)
    case recompute(Recompute)
    case offload([OffloadTarget])
    case precision(weights: Precision?, activations: Precision?, gradients: Precision?)
    case kernel(String)
    case tensorParallelStyle(TensorParallelStyle)
    /// General form: dimension → axes for the dimensions written.
    case split([String: [String]])
    /// General form: the axes the weights are sharded over.
    case placeWeights([String])

    /// The attribute or block name the setting was written under, which keys where it was set.
    var key: String {
        switch self {
        case .dataParallel: NodeAttributeKey.dataParallel.rawValue
        case .zero: NodeAttributeKey.zero.rawValue
        case .tensorParallel: NodeAttributeKey.tensorParallel.rawValue
        case .sequenceParallel: NodeAttributeKey.sequenceParallel.rawValue
        case .contextParallel: NodeAttributeKey.contextParallel.rawValue
        case .expertParallel: NodeAttributeKey.expertParallel.rawValue
        case .recompute: NodeAttributeKey.recompute.rawValue
        case .offload: NodeAttributeKey.offload.rawValue
        case .precision: NodeAttributeKey.precision.rawValue
        case .kernel: NodeAttributeKey.kernel.rawValue
        case .tensorParallelStyle: NodeAttributeKey.tensorParallelStyle.rawValue
        case .split: NodeAttributeBlock.split.rawValue
        case .placeWeights: NodeAttributeBlock.place.rawValue
        }
    }
}

/// The attributes a module accepts in the strategy block, with what each takes.
///
/// The table is the single source for "unknown attribute … did you mean" suggestions and
/// for the language reference (docs/dsl.md).
enum NodeAttributeKey: String, CaseIterable {
    case dataParallel = "data_parallel"
    case zero
    case tensorParallel = "tensor_parallel"
    case sequenceParallel = "sequence_parallel"
    case contextParallel = "context_parallel"
    case expertParallel = "expert_parallel"
    case recompute
    case offload
    case precision
    case quant
    case kernel
    case tensorParallelStyle = "tp_style"

    /// What the value must be, for "'zero' must be …, found 4" messages.
    var expected: String {
        switch self {
        case .dataParallel: "a mesh axis, a list of axes or none"
        case .zero: "a ZeRO stage from 0 to 3"
        case .tensorParallel, .contextParallel, .expertParallel: "a mesh axis or none"
        case .sequenceParallel: "true or false"
        case .recompute: "none, selective, full or full_early_stop"
        case .offload: "optimizer, activations, a list of both, or none"
        case .precision: "a number format such as bf16"
        case .quant: "a scheme such as w4a16"
        case .kernel: "the name of a kernel table in double quotes"
        case .tensorParallelStyle: "column, row, vocab, heads or replicated"
        }
    }

    /// A value to write instead, for the help line.
    var example: String {
        switch self {
        case .dataParallel: "data"
        case .zero: "1"
        case .tensorParallel: "tensor"
        case .sequenceParallel: "true"
        case .contextParallel: "context"
        case .expertParallel: "expert"
        case .recompute: "selective"
        case .offload: "optimizer"
        case .precision: "bf16"
        case .quant: "w4a16"
        case .kernel: "\"my-kernel\""
        case .tensorParallelStyle: "column"
        }
    }
}

/// Blocks a module accepts besides nested modules.
enum NodeAttributeBlock: String, CaseIterable {
    case precision, split, place
}

/// Blocks only the strategy's top level accepts.
enum StrategyBlock: String, CaseIterable {
    case mesh, pipeline
    case gradientSync = "grad_sync"
    case fsdp
}

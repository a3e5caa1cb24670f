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

    /// What the value looks like, for messages.
    var example: String {
        switch self {
        case .dataParallel: "data or [data, expert] or none"
        case .zero: "1 (0 to 3)"
        case .tensorParallel: "tensor or none"
        case .sequenceParallel: "true"
        case .contextParallel: "context or none"
        case .expertParallel: "expert or none"
        case .recompute: "selective (none, selective or full)"
        case .offload: "optimizer, activations, [optimizer, activations] or none"
        case .precision: "bf16, or precision { weights = int4  activations = bf16 }"
        case .quant: "w4a16 (also w8a16, w8a8, w4a8, w4a4)"
        case .kernel: "\"mxmoe\""
        case .tensorParallelStyle: "column (column, row, vocab, heads or replicated)"
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

import StrataCore
import StrataDSL
import StrataModel

/// The training block as read, with where its cross-checked settings were written.
struct TrainingSettings {
    var setup: TrainingSetup
    var globalBatchLocation: SourceLocation
    var precisionLocation: SourceLocation
}

/// The cluster block as read.
struct ClusterSettings {
    var topology: String
    var topologyLocation: SourceLocation
    var gpus: Int
    var gpusLocation: SourceLocation
    var collectiveAlgorithm: CollectiveAlgorithm
}

/// Reads the training and cluster blocks.
enum TrainingReader {
    static let trainingPrecisions: [Precision] = [.bf16, .fp16, .fp8, .fp32]

    static func readTraining(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> TrainingSettings? {
        var fields = Fields(block.members, context: "the training block", location: block.location, evaluator: evaluator)
        let globalBatch = fields.positiveInteger("global_batch", example: "512")
        let microBatch = fields.positiveInteger("micro_batch", example: "1")
        let precision = fields.choice("precision", among: trainingPrecisions, default: .bf16)
        let floating = Precision.allCases.filter(\.isFloatingPoint)
        let gradients = fields.choice("gradient_precision", among: floating, default: nil, required: false)
        let optimizer = fields.choice("optimizer", among: OptimizerKind.allCases, default: .adamw)
        let state = fields.choice("optimizer_state", among: [Precision.fp32, .bf16], default: .fp32)
        let master = fields.boolean("master_weights", default: precision?.0 != .fp32)
        let copies = fields.choice("master_copies", among: MasterCopies.allCases, default: .separate)
        let dropout = fields.raw("dropout", example: "0.1").flatMap { value, location -> Double? in
            guard let number = value.number, number >= 0, number < 1 else {
                fields.diagnostics.append(Diagnostic(at: location, "'dropout' must be a probability from 0 up to (not including) 1, found \(value)",
                                                     help: "write 'dropout = 0.1', or leave it out for none"))
                return nil
            }
            return number
        } ?? 0
        let accumulation = fields.choice("gradient_accumulation", among: GradientAccumulation.allCases, default: .add)
        let zeroing = fields.choice("zero_gradients", among: GradientZeroing.allCases, default: .memset)
        let spInputs = fields.choice("sequence_parallel_inputs", among: SequenceParallelInputs.allCases, default: .sliced)
        let workspace = fields.bytes("library_workspace", default: TrainingSetup.defaultLibraryWorkspace)
        let globalBatchLocation = fields.location(of: "global_batch")
        diagnostics += fields.finish()
        guard let globalBatch, let microBatch, let precision, let optimizer, let state else { return nil }
        // fp8 training keeps bf16 weights and gradients and runs matrix products in fp8.
        let storage = precision.0 == .fp8 ? Precision.bf16 : precision.0
        let trainingState = TrainingState(optimizer: optimizer.0, weightPrecision: storage,
                                          gradientPrecision: gradients?.0 ?? storage, statePrecision: state.0,
                                          masterWeights: master, masterCopies: copies?.0 ?? .separate)
        return TrainingSettings(
            setup: TrainingSetup(globalBatch: globalBatch, microBatch: microBatch, precision: precision.0, state: trainingState,
                                 dropout: dropout, gradientAccumulation: accumulation?.0 ?? .add,
                                 gradientZeroing: zeroing?.0 ?? .memset, sequenceParallelInputs: spInputs?.0 ?? .sliced,
                                 libraryWorkspaceBytes: workspace),
            globalBatchLocation: globalBatchLocation, precisionLocation: precision.1)
    }

    static func readCluster(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> ClusterSettings? {
        var fields = Fields(block.members, context: "the cluster block", location: block.location, evaluator: evaluator)
        let topology = fields.string("topology", example: "\"topologies/dgx-h100.xml\"")
        let gpus = fields.positiveInteger("gpus", example: "8")
        let gpusLocation = fields.location(of: "gpus")
        let algorithm = fields.choice("collective_algorithm", among: CollectiveAlgorithm.allCases, default: .auto)
        diagnostics += fields.finish()
        guard let topology, let gpus else { return nil }
        return ClusterSettings(topology: topology.0, topologyLocation: topology.1, gpus: gpus, gpusLocation: gpusLocation,
                               collectiveAlgorithm: algorithm?.0 ?? .auto)
    }
}

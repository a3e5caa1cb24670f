import StrataCore
import StrataModel
import StrataTopology

/// A named axis of the device mesh. Axes are listed outermost first; the last axis is
/// innermost, so consecutive ranks along it are neighbours in the topology.
public struct MeshAxis: Hashable, Sendable {
    public var name: String
    public var size: Int
}

/// The training setup: batch, precisions and optimizer.
public struct TrainingSetup: Hashable, Sendable {
    public var globalBatch: Int
    public var microBatch: Int
    /// Precision of weights, activations and matrix arithmetic, unless a subtree says otherwise.
    public var precision: Precision
    public var state: TrainingState
    /// Dropout probability after the attention projection and the MLP (GPT-3 used 0.1;
    /// LLaMA none). Each dropout keeps a one-byte mask per element for backward.
    public var dropout: Double = 0
    /// How micro-batches' weight gradients are accumulated (`gradient_accumulation`).
    public var gradientAccumulation: GradientAccumulation = .add
    /// How the kept gradients are emptied each iteration (`zero_gradients`).
    public var gradientZeroing: GradientZeroing = .memset
    /// What a column-parallel product keeps of its sequence-parallel input
    /// (`sequence_parallel_inputs`).
    public var sequenceParallelInputs: SequenceParallelInputs = .sliced
    /// Bytes the math libraries hold on every GPU for the whole run (`library_workspace`):
    /// PyTorch allocates cuBLAS's workspace through its caching allocator, 32 MiB a handle
    /// on Hopper, and a training step has two handles on its compute stream, the Python
    /// thread's for the forward and the autograd engine's for the backward (measured by
    /// scripts/profile/workspace.py: 32 MiB after the first product, 64 after the first
    /// backward; docs/accuracy.md, "Memory: what autograd keeps").
    public var libraryWorkspaceBytes: Int64 = TrainingSetup.defaultLibraryWorkspace
    public static let defaultLibraryWorkspace: Int64 = 64 * 1_048_576
}

/// A strategy file with every parameter substituted, every default applied and every
/// rule checked: what the compiler turns into an execution graph.
public struct ResolvedStrategy: Sendable {
    /// The strategy file's path as given.
    public var path: String
    /// The `let` parameters after `--set`, in declaration order.
    public var parameters: [(name: String, value: Value)]
    public var model: ModelConfig
    public var training: TrainingSetup
    /// The topology file actually loaded: `--topology`, or `cluster.topology` resolved
    /// against the strategy file's folder.
    public var topologyPath: String
    public var cluster: Cluster
    /// How many of the cluster's GPUs the job uses: the first `gpuCount` in rank order.
    public var gpuCount: Int
    /// How all-reduces run (the cluster block's `collective_algorithm`; `auto` by default).
    public var collectiveAlgorithm: CollectiveAlgorithm = .auto
    public var mesh: [MeshAxis]
    public var tree: StrategyTree
    public var pipeline: PipelineSettings?
    public var gradientSync: GradientSyncSettings
    public var fsdp: FSDPSettings?

    public var globalBatch: Int { training.globalBatch }
    public var microBatch: Int { training.microBatch }
    public var precision: Precision { training.precision }

    public func size(of axis: String) -> Int { mesh.first { $0.name == axis }?.size ?? 1 }

    /// The model's data-parallel degree: the product of the root's data-parallel axes.
    public var dataParallel: Int {
        tree.attributes[ModuleTree.rootIndex].dataParallel.reduce(1) { $0 * size(of: $1) }
    }

    /// Micro-batches each model replica runs per iteration (gradient-accumulation steps).
    public var microBatchesPerReplica: Int { globalBatch / (dataParallel * microBatch) }

    /// Tokens processed per iteration across all replicas.
    public var tokensPerIteration: Int { globalBatch * model.sequence }
}

import StrataCore
import StrataModel
import StrataTopology

/// A named axis of the device mesh. Axes are listed outermost first; the last axis is
/// innermost, so consecutive ranks along it are neighbours in the topology.
public struct MeshAxis: Hashable, Sendable {
    public var name: String
    public var size: Int
}

/// A strategy file with every parameter substituted, every default applied and every
/// cross-check passed: what the compiler turns into an execution graph.
public struct ResolvedStrategy: Sendable {
    /// The strategy file's path as given.
    public var path: String
    /// The `let` parameters after `--set`, in declaration order.
    public var parameters: [(name: String, value: Value)]
    public var model: GPTConfig
    public var globalBatch: Int
    public var microBatch: Int
    /// Precision of weights, activations and matrix arithmetic.
    public var precision: Precision
    public var training: TrainingState
    /// The topology file actually loaded: `--topology`, or `cluster.topology` resolved
    /// against the strategy file's folder.
    public var topologyPath: String
    public var cluster: Cluster
    /// How many of the cluster's GPUs the job uses: the first `gpuCount` in rank order.
    public var gpuCount: Int
    public var mesh: [MeshAxis]
    public var dataParallelAxis: String

    /// The number of model replicas.
    public var dataParallel: Int { mesh.first { $0.name == dataParallelAxis }!.size }

    /// Micro-batches each replica runs per iteration (gradient-accumulation steps).
    public var microBatchesPerReplica: Int { globalBatch / (dataParallel * microBatch) }

    /// Tokens processed per iteration across all replicas.
    public var tokensPerIteration: Int { globalBatch * model.sequence }
}

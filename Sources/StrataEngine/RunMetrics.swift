import StrataCore
import StrataGraph
import StrataTopology

/// The headline figures of a simulated iteration, as stored and printed.
public struct RunMetrics: Hashable, Sendable, Codable {
    public var iterationTimeSeconds: Double
    public var tokensPerSecond: Double
    public var samplesPerSecond: Double
    /// Model FLOPs utilisation: model FLOPs per second over the GPUs' combined dense peak
    /// in the training precision (Chowdhery et al. 2022, appendix B).
    public var mfu: Double
    /// Hardware FLOPs utilisation: every executed FLOP (recomputation and flash attention's
    /// recomputed scores included) per second over the same peak.
    public var hfu: Double
    public var modelFLOPsPerIteration: Double
    /// The largest high-water mark over all GPUs.
    public var peakMemoryBytes: Int64
    /// Whether every GPU's high-water mark fits its memory.
    public var fitsInMemory: Bool
    public var gpus: Int

    public init(graph: ExecutionGraph, result: SimulationResult, cluster: Cluster) {
        let seconds = result.iterationTime.seconds
        let peakFLOPs = (0..<graph.rankCount).reduce(0.0) {
            $0 + (cluster.gpus[$1].spec.peak[graph.precision]?.flopsPerSecond ?? 0)
        }
        iterationTimeSeconds = seconds
        tokensPerSecond = Double(graph.tokensPerIteration) / seconds
        samplesPerSecond = Double(graph.samplesPerIteration) / seconds
        mfu = graph.modelFLOPsPerIteration / (seconds * peakFLOPs)
        hfu = result.hardwareFLOPs / (seconds * peakFLOPs)
        modelFLOPsPerIteration = graph.modelFLOPsPerIteration
        peakMemoryBytes = result.ranks.map(\.peakMemoryBytes).max() ?? 0
        fitsInMemory = result.ranks.allSatisfy(\.fitsInMemory)
        gpus = graph.rankCount
    }
}

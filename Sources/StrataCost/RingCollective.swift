import StrataCore
import StrataTopology

/// Ring collectives priced with the α–β model over the topology's real links.
///
/// In a ring of *n* GPUs each step sends one *S*/*n* chunk from every GPU to its successor,
/// all at once. A hop from GPU *i* to *i*+1 crosses the links of its route; where several
/// hops of the same step share a link (the NIC of a node that sends to another node, say),
/// they split its bandwidth. So a hop moves its chunk at the smallest bandwidth-share on its
/// route, after the sum of the route's link latencies, and a step lasts as long as its
/// slowest hop. An all-reduce is a reduce-scatter then an all-gather: 2(*n*−1) steps
/// (Patarasuk and Yuan 2009), so on uniform links of bandwidth *B* and latency α it takes
/// 2(*n*−1)/*n*·*S*/*B* + 2(*n*−1)·α.
///
/// This analytic model ignores NCCL's protocol and channel overheads; the flow-level
/// executor and fitted efficiencies replace it (docs/cost-model.md).
public struct RingCollective: Sendable {
    /// The GPUs in ring order, as indices into `cluster.gpus`.
    public var ring: [Int]
    private let hopLatency: [Double]
    private let hopBandwidth: [Double]

    public init(ring: [Int], cluster: Cluster) {
        self.ring = ring
        let n = ring.count
        let routes = (0..<n).map { cluster.route(fromGPU: ring[$0], toGPU: ring[($0 + 1) % n]) }
        var load: [Int: Int] = [:]
        for route in routes where n > 1 {
            for link in route { load[link.id, default: 0] += 1 }
        }
        hopLatency = routes.map { $0.reduce(0) { $0 + $1.latency.seconds } }
        hopBandwidth = routes.map { route in
            route.map { $0.bandwidth.bytesPerSecond / Double(load[$0.id]!) }.min() ?? .infinity
        }
    }

    /// Seconds for one step in which every GPU sends `chunkBytes` to its successor.
    public func stepSeconds(chunkBytes: Double) -> Double {
        zip(hopLatency, hopBandwidth).map { $0 + chunkBytes / $1 }.max() ?? 0
    }

    /// Seconds to all-reduce `bytes` held by every GPU of the ring.
    public func allReduceSeconds(bytes: Double) -> Double {
        let n = Double(ring.count)
        guard ring.count > 1 else { return 0 }
        return 2 * (n - 1) * stepSeconds(chunkBytes: bytes / n)
    }
}

import StrataCore
import StrataCost
import StrataGraph
import StrataTopology

/// A collective or transfer as the flows it puts on the network, after a fixed latency.
///
/// Collectives follow NCCL's algorithms in their steady state (Patarasuk and Yuan 2009;
/// NCCL's ring): a ring all-reduce has every GPU send 2(n−1)/n of the buffer to its
/// successor, pipelined in chunks so all hops stream at once, plus 2(n−1) hop latencies;
/// all-gather and reduce-scatter send (n−1)/n of it with n−1 latencies; all-to-all sends
/// every block directly, all at once; a transfer is one flow. Flows then share links by
/// max-min fairness, so on uncontended links a ring all-reduce takes exactly
/// 2(n−1)/n·S/B + 2(n−1)·α.
struct CollectiveFlows {
    struct Flow {
        var source: Int
        var destination: Int
        var bytes: Double
    }

    var flows: [Flow]
    var latency: SimTime

    /// A route's latency: the calibrated step latency of its links' kinds where measured,
    /// else the sum of the topology's link latencies.
    static func latency(_ route: [Link], calibration: NetworkCalibration?) -> Double {
        let fitted = route.compactMap { calibration?.stepLatency[$0.kind] }
        if fitted.count == route.count, let slowest = fitted.max() { return slowest }
        return route.reduce(0) { $0 + $1.latency.seconds }
    }

    /// The largest route latency between consecutive members of `ring`.
    private static func hopLatency(_ ring: [Int], cluster: Cluster, calibration: NetworkCalibration?) -> Double {
        (0..<ring.count).map { index in
            latency(cluster.route(fromGPU: ring[index], toGPU: ring[(index + 1) % ring.count]), calibration: calibration)
        }.max() ?? 0
    }

    static func lower(_ calls: [(rank: Int, call: CollectiveCall)], group: [Int], cluster: Cluster,
                      calibration: NetworkCalibration? = nil) -> CollectiveFlows {
        let call = calls[0].call
        let n = Double(group.count)
        let bytes = Double(call.bytes)
        let ring = { (share: Double, steps: Double) -> CollectiveFlows in
            let flows = group.indices.map { Flow(source: group[$0], destination: group[($0 + 1) % group.count], bytes: share * bytes) }
            return CollectiveFlows(flows: flows, latency: SimTime(seconds: steps * hopLatency(group, cluster: cluster, calibration: calibration)))
        }
        switch call.kind {
        case .allReduce:
            return ring(2 * (n - 1) / n, 2 * (n - 1))
        case .allGather, .reduceScatter:
            return ring((n - 1) / n, n - 1)
        case .allToAll:
            var flows: [Flow] = []
            var latency = 0.0
            for (source, member) in calls.sorted(by: { $0.rank < $1.rank }) {
                let perDestination = member.bytesPerDestination
                    ?? Array(repeating: member.bytes / Int64(group.count), count: group.count)
                for (index, destination) in group.enumerated() where destination != source && perDestination[index] > 0 {
                    flows.append(Flow(source: source, destination: destination, bytes: Double(perDestination[index])))
                    latency = max(latency, Self.latency(cluster.route(fromGPU: source, toGPU: destination), calibration: calibration))
                }
            }
            return CollectiveFlows(flows: flows, latency: SimTime(seconds: latency))
        }
    }

    static func transfer(from source: Int, to destination: Int, bytes: Double, cluster: Cluster,
                         calibration: NetworkCalibration? = nil) -> CollectiveFlows {
        let latency = Self.latency(cluster.route(fromGPU: source, toGPU: destination), calibration: calibration)
        return CollectiveFlows(flows: [Flow(source: source, destination: destination, bytes: bytes)], latency: SimTime(seconds: latency))
    }
}

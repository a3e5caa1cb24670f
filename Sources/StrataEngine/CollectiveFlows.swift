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

    /// The group's members by node, in order of first appearance.
    static func byNode(_ group: [Int], cluster: Cluster) -> [[Int]] {
        var nodes: [[Int]] = []
        var indexOfNode: [Int: Int] = [:]
        for gpu in group {
            let node = cluster.gpus[gpu].node
            if let index = indexOfNode[node] {
                nodes[index].append(gpu)
            } else {
                indexOfNode[node] = nodes.count
                nodes.append([gpu])
            }
        }
        return nodes
    }

    /// The rings a collective runs on: one over the group in order, or, where the group
    /// spans nodes with several GPUs on each, one channel per GPU of a node, as NCCL
    /// builds them, so that the rings leave and enter nodes through every NIC rather than
    /// one. In channel *j*, node *k*'s GPUs are rotated to start at (*j* − *k*) mod *c*,
    /// so each ring leaves a node on the rail it enters the next one.
    static func rings(_ group: [Int], cluster: Cluster) -> [[Int]] {
        let nodes = byNode(group, cluster: cluster)
        let channels = nodes.map(\.count).min() ?? 1
        guard nodes.count > 1, channels > 1 else { return [group] }
        return (0..<channels).map { channel in
            nodes.enumerated().flatMap { node, members in
                let first = ((channel - node) % members.count + members.count) % members.count
                return (0..<members.count).map { members[(first + $0) % members.count] }
            }
        }
    }

    /// One ring hop's flows. Between nodes on different rails the data goes as NCCL's PXN
    /// sends it: over NVLink to the GPU of the destination's rail, then out of that GPU's
    /// NIC, so inter-node traffic stays rail-aligned.
    static func hop(from source: Int, to destination: Int, bytes: Double, cluster: Cluster) -> [Flow] {
        let from = cluster.gpus[source], to = cluster.gpus[destination]
        guard from.node != to.node, from.localIndex != to.localIndex,
              let relay = cluster.gpus.first(where: { $0.node == from.node && $0.localIndex == to.localIndex })?.index
        else { return [Flow(source: source, destination: destination, bytes: bytes)] }
        return [Flow(source: source, destination: relay, bytes: bytes), Flow(source: relay, destination: destination, bytes: bytes)]
    }

    /// A collective's flows: NCCL's algorithm over the topology, and, where the group is
    /// one node's GPUs and that collective was measured there, stretched to the measured
    /// time (`calibrated(to:)`).
    static func lower(_ calls: [(rank: Int, call: CollectiveCall)], group: [Int], cluster: Cluster,
                      calibration: NetworkCalibration? = nil) -> CollectiveFlows {
        let modelled = lowerModelled(calls, group: group, cluster: cluster, calibration: calibration)
        let call = calls[0].call
        guard let calibration, Set(group.map { cluster.gpus[$0].node }).count == 1,
              let measured = calibration.measuredSeconds(call.kind.rawValue, gpus: group.count, bytes: Double(call.bytes))
        else { return modelled }
        return modelled.calibrated(to: measured, cluster: cluster, calibration: calibration)
    }

    /// The same flows, their bytes scaled so that on the idle network they take `seconds`
    /// in all (latency included): what a measured collective of this size took. Under
    /// contention they then slow down as the modelled flows would.
    func calibrated(to seconds: Double, cluster: Cluster, calibration: NetworkCalibration?) -> CollectiveFlows {
        let latency = min(self.latency.seconds, seconds)
        let streaming = idleSeconds(cluster: cluster, calibration: calibration) - self.latency.seconds
        guard streaming > 0 else { return CollectiveFlows(flows: flows, latency: SimTime(seconds: seconds)) }
        let scale = (seconds - latency) / streaming
        return CollectiveFlows(flows: flows.map { Flow(source: $0.source, destination: $0.destination, bytes: $0.bytes * scale) },
                               latency: SimTime(seconds: latency))
    }

    static func lowerModelled(_ calls: [(rank: Int, call: CollectiveCall)], group: [Int], cluster: Cluster,
                              calibration: NetworkCalibration? = nil) -> CollectiveFlows {
        let call = calls[0].call
        let n = Double(group.count)
        let bytes = Double(call.bytes)
        let rings = Self.rings(group, cluster: cluster)
        let ring = { (share: Double, steps: Double) -> CollectiveFlows in
            let perRing = share * bytes / Double(rings.count)
            let flows = rings.flatMap { ring in
                ring.indices.flatMap { hop(from: ring[$0], to: ring[($0 + 1) % ring.count], bytes: perRing, cluster: cluster) }
            }
            return CollectiveFlows(flows: flows, latency: SimTime(seconds: steps * hopLatency(rings[0], cluster: cluster, calibration: calibration)))
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

    /// An all-reduce as NCCL's double binary tree (Sanders, Speck and Träff 2009; NCCL
    /// 2.4). The buffer is split over as many channels as the group has GPUs per node; in
    /// channel *j* the *j*-th GPU of each node talks to the network (through its own NIC,
    /// so the channels spread over the rails, as NCCL's do) and the node's other GPUs form
    /// a chain to it; those GPUs of all nodes form two complementary binary trees, each
    /// reducing half the channel's bytes up to its root and broadcasting them back down.
    /// Everything is pipelined, so every edge streams at once: a chain hop carries the
    /// channel's bytes both ways, a tree edge its half both ways.
    /// Latency: 2·(⌈log₂ nodes⌉ inter-node hops + (GPUs per node − 1) chain hops).
    ///
    /// `busiest`, a member, puts its node where the trees load a node most (interior in
    /// one tree, a leaf in the other, not the root): folded execution simulates that
    /// member's flows only, and the all-reduce lasts as long as its busiest node needs.
    static func tree(group: [Int], bytes: Double, cluster: Cluster, calibration: NetworkCalibration? = nil,
                     busiest: Int? = nil) -> CollectiveFlows {
        var nodes = byNode(group, cluster: cluster)
        if let busiest, nodes.count > 2, let index = nodes.firstIndex(where: { $0.contains(busiest) }) {
            // Rotate so its node sits at position 1 of the first tree.
            let shift = (index - 1 + nodes.count) % nodes.count
            nodes = Array(nodes[shift...] + nodes[..<shift])
        }
        let channels = nodes.map(\.count).min() ?? 1
        let perChannel = bytes / Double(channels)
        var flows: [Flow] = []
        var chainLatency = 0.0, treeLatency = 0.0
        func both(_ a: Int, _ b: Int, _ bytes: Double) {
            flows.append(Flow(source: a, destination: b, bytes: bytes))
            flows.append(Flow(source: b, destination: a, bytes: bytes))
        }
        for channel in 0..<channels {
            // The node's GPUs rotated so this channel's network GPU comes first.
            let chains = nodes.map { members in (0..<members.count).map { members[(channel + $0) % members.count] } }
            for chain in chains where chain.count > 1 {
                for (child, parent) in zip(chain.dropFirst(), chain) {
                    both(child, parent, perChannel)
                    if channel == 0 {
                        chainLatency = max(chainLatency, latency(cluster.route(fromGPU: child, toGPU: parent), calibration: calibration))
                    }
                }
            }
            let leaders = chains.map { $0[0] }
            let count = leaders.count
            for mirrored in [false, true] where count > 1 {
                for position in 1..<count {
                    let parentPosition = (position - 1) / 2
                    let child = leaders[mirrored ? count - 1 - position : position]
                    let parent = leaders[mirrored ? count - 1 - parentPosition : parentPosition]
                    both(child, parent, perChannel / 2)
                    if channel == 0 {
                        treeLatency = max(treeLatency, latency(cluster.route(fromGPU: child, toGPU: parent), calibration: calibration))
                    }
                }
            }
        }
        let depth = nodes.count > 1 ? Double(Int.bitWidth - (nodes.count - 1).leadingZeroBitCount) : 0
        let chainHops = Double((nodes.map(\.count).max() ?? 1) - 1)
        return CollectiveFlows(flows: flows, latency: SimTime(seconds: 2 * (depth * treeLatency + chainHops * chainLatency)))
    }

    /// What these flows would take on an idle network: their latency plus the busiest
    /// link's bytes over its bandwidth. How the tuner compares algorithms.
    func idleSeconds(cluster: Cluster, calibration: NetworkCalibration?) -> Double {
        var load: [Int: Double] = [:]
        for flow in flows where flow.source != flow.destination {
            for link in cluster.route(fromGPU: flow.source, toGPU: flow.destination) { load[link.id, default: 0] += flow.bytes }
        }
        let busiest = load.map { link, bytes in
            bytes / (cluster.links[link].bandwidth.bytesPerSecond * (calibration?.efficiency[cluster.links[link].kind] ?? 1))
        }.max() ?? 0
        return latency.seconds + busiest
    }

    /// The all-reduce algorithm NCCL's tuner would pick for this call: the tree only where
    /// the group spans nodes, and only where it is faster on the idle network.
    static func choose(_ requested: CollectiveAlgorithm, kind: CollectiveKind, group: [Int], bytes: Double,
                       cluster: Cluster, calibration: NetworkCalibration?) -> CollectiveAlgorithm {
        guard kind == .allReduce, requested != .ring else { return .ring }
        let nodes = Set(group.map { cluster.gpus[$0].node }).count
        guard nodes > 1 else { return .ring }
        if requested == .tree { return .tree }
        let calls = group.map { (rank: $0, call: CollectiveCall(kind: kind, axes: [], bytes: Int64(bytes), label: "tuner")) }
        let ring = lower(calls, group: group, cluster: cluster, calibration: calibration).idleSeconds(cluster: cluster, calibration: calibration)
        let tree = tree(group: group, bytes: bytes, cluster: cluster, calibration: calibration).idleSeconds(cluster: cluster, calibration: calibration)
        return tree < ring ? .tree : .ring
    }

    static func transfer(from source: Int, to destination: Int, bytes: Double, cluster: Cluster,
                         calibration: NetworkCalibration? = nil) -> CollectiveFlows {
        let latency = Self.latency(cluster.route(fromGPU: source, toGPU: destination), calibration: calibration)
        let modelled = CollectiveFlows(flows: [Flow(source: source, destination: destination, bytes: bytes)], latency: SimTime(seconds: latency))
        // Inside a node, the measured send/recv time of this size.
        guard let calibration, cluster.gpus[source].node == cluster.gpus[destination].node,
              let measured = calibration.measuredSeconds("send_recv", gpus: 2, bytes: bytes) else { return modelled }
        return modelled.calibrated(to: measured, cluster: cluster, calibration: calibration)
    }
}

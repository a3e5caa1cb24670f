import StrataCore
import StrataCost
import StrataGraph
import StrataTopology

/// Prices one collective alone on the network, exactly as the executor would see it in a
/// run where nothing else is communicating: the same lowering (`CollectiveFlows`), link
/// capacities scaled by the same calibration, the same max-min flow sharing after the same
/// latency. For `simulate cost`.
public enum CollectiveProbe {
    /// Seconds for `kind` over `bytes` (the whole buffer, as `CollectiveCall.bytes`) among
    /// the GPUs `group` of `cluster`.
    public static func seconds(_ kind: CollectiveKind, bytes: Int64, group: [Int], cluster: Cluster,
                               calibration: NetworkCalibration?) -> Double {
        guard group.count > 1 else { return 0 }
        let call = CollectiveCall(kind: kind, axes: ["probe"], bytes: bytes, bytesPerDestination: nil, label: "probe")
        let lowered = CollectiveFlows.lower(group.map { (rank: $0, call: call) }, group: group, cluster: cluster,
                                            calibration: calibration)
        var network = FlowNetwork(linkCapacities: cluster.links.map {
            $0.bandwidth.bytesPerSecond * (calibration?.efficiency[$0.kind] ?? 1)
        })
        var now = lowered.latency
        network.advance(to: now)
        for (id, flow) in lowered.flows.enumerated() where flow.source != flow.destination && flow.bytes > 0 {
            let route = cluster.route(fromGPU: flow.source, toGPU: flow.destination)
            guard !route.isEmpty else { continue }
            network.add(id: id, links: route.map { ($0.id, 1) }, bytes: flow.bytes, resolve: false)
        }
        network.resolve()
        while let next = network.nextCompletion(after: now) {
            now = max(next.time, now)
            network.advance(to: now)
            _ = network.removeFinished()
        }
        return now.seconds
    }
}

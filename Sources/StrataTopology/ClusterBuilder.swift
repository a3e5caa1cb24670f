import StrataCore

/// Expands a `TopologyDescription` (one node type, a count, a fabric) into the `Cluster`
/// graph: every device and both directions of every cable, numbered as `ClusterLayout` says.
///
/// - Complexity: O(devices + links); the 1,024-GPU SuperPOD has about 2,200 devices and
///   7,200 links.
enum ClusterBuilder {
    static func build(_ description: TopologyDescription) -> Cluster {
        let node = description.nodeType
        let network = node.network
        let fabric = description.fabric
        let layout = ClusterLayout(
            nodeCount: description.nodeCount,
            gpusPerNode: node.gpuCount,
            nicsPerNode: network?.nicCount ?? 0,
            nicOfGPU: network?.nicOfGPU ?? [],
            fabric: network == nil ? .none : fabric?.topology ?? .none,
            nodesPerUnit: fabric?.nodesPerUnit ?? 1,
            spineCount: fabric?.spine?.count ?? 0
        )

        var devices: [Device] = []
        devices.reserveCapacity(layout.deviceCount)
        var gpus: [GPU] = []
        gpus.reserveCapacity(layout.gpuCount)
        for nodeIndex in 0..<layout.nodeCount {
            for local in 0..<layout.gpusPerNode {
                let index = nodeIndex * layout.gpusPerNode + local
                devices.append(Device(id: index, kind: .gpu, name: "node\(nodeIndex)/gpu\(local)", node: nodeIndex))
                gpus.append(GPU(index: index, node: nodeIndex, localIndex: local, device: index, spec: node.gpu))
            }
        }
        for nodeIndex in 0..<layout.nodeCount {
            devices.append(Device(id: devices.count, kind: .nvswitch, name: "node\(nodeIndex)/nvswitch", node: nodeIndex))
        }
        for nodeIndex in 0..<layout.nodeCount {
            for nic in 0..<layout.nicsPerNode {
                devices.append(Device(id: devices.count, kind: .nic, name: "node\(nodeIndex)/nic\(nic)", node: nodeIndex))
            }
        }
        for leaf in 0..<layout.leafCount {
            let name = layout.fabric == .railOptimizedFatTree
                ? "leaf/su\(leaf / layout.leavesPerUnit)/rail\(leaf % layout.leavesPerUnit)"
                : "leaf/su\(leaf)"
            devices.append(Device(id: devices.count, kind: .networkSwitch(tier: 0), name: name, node: nil))
        }
        for spine in 0..<layout.spineCount {
            devices.append(Device(id: devices.count, kind: .networkSwitch(tier: 1), name: "spine/\(spine)", node: nil))
        }
        assert(devices.count == layout.deviceCount)

        var links: [Link] = []
        links.reserveCapacity(layout.linkCount)
        /// Appends both directions of one cable: up (towards the switch) first.
        func cable(_ lower: Int, _ upper: Int, _ kind: Link.Kind, _ bandwidth: Bandwidth, _ latency: SimTime) {
            links.append(Link(id: links.count, from: lower, to: upper, kind: kind, bandwidth: bandwidth, latency: latency))
            links.append(Link(id: links.count, from: upper, to: lower, kind: kind, bandwidth: bandwidth, latency: latency))
        }
        for gpu in gpus {
            cable(gpu.device, layout.nvswitchDevice(node: gpu.node), .nvlink, node.nvlinkBandwidth, node.nvlinkLatency)
        }
        if let network {
            for gpu in gpus {
                let nic = layout.nicDevice(node: gpu.node, nic: network.nicOfGPU[gpu.localIndex])
                cable(gpu.device, nic, .pcie, network.pcieBandwidth, network.pcieLatency)
            }
            if layout.fabric != .none {
                for nodeIndex in 0..<layout.nodeCount {
                    for nic in 0..<layout.nicsPerNode {
                        let leaf = layout.leafDevice(layout.leaf(node: nodeIndex, nic: nic))
                        cable(layout.nicDevice(node: nodeIndex, nic: nic), leaf, .network, network.nicBandwidth, network.nicLatency)
                    }
                }
            }
        }
        if let spine = fabric?.spine, layout.fabric != .none {
            // The cables between one leaf and one spine are one link: ECMP spreads flows
            // over them, and a flow-level model cannot tell the difference.
            let bundle = Bandwidth(bytesPerSecond: spine.bandwidth.bytesPerSecond * Double(spine.cablesPerLeaf))
            for leaf in 0..<layout.leafCount {
                for spineIndex in 0..<layout.spineCount {
                    cable(layout.leafDevice(leaf), layout.spineDevice(spineIndex), .network, bundle, spine.latency)
                }
            }
        }
        assert(links.count == layout.linkCount)

        return Cluster(
            name: description.name, gpuTypes: description.gpuTypes, devices: devices, links: links,
            gpus: gpus, nodeCount: layout.nodeCount, routes: Routing(layout: layout)
        )
    }
}

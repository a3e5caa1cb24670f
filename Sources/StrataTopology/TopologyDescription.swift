import StrataCore

/// A topology file's content after checking, before it is expanded into devices and links:
/// the one place that says what version 1 of the format can express.
struct TopologyDescription: Sendable {
    var name: String
    var gpuTypes: [GPUSpec]
    /// The node type every node of the cluster is an instance of.
    var nodeType: NodeTypeDescription
    var nodeCount: Int
    /// `nil` when the cluster is a single node.
    var fabric: FabricDescription?
}

/// One server design: its GPUs, NVSwitch, PCIe and NICs.
struct NodeTypeDescription: Sendable {
    var id: String
    var gpu: GPUSpec
    var gpuCount: Int
    /// GPU ↔ NVSwitch, per direction: all of a GPU's links together, since NCCL stripes
    /// traffic over every one of them.
    var nvlinkBandwidth: Bandwidth
    var nvlinkLatency: SimTime
    /// Present when the node has NICs; then PCIe is the GPU ↔ NIC link.
    var network: NodeNetworkDescription?
}

/// The PCIe path from each GPU to its NIC and the NICs' ports.
struct NodeNetworkDescription: Sendable {
    var pcieBandwidth: Bandwidth
    var pcieLatency: SimTime
    var nicCount: Int
    var nicBandwidth: Bandwidth
    var nicLatency: SimTime
    /// For each local GPU, the local NIC its traffic uses.
    var nicOfGPU: [Int]
}

/// The switches between nodes.
struct FabricDescription: Sendable {
    var topology: FabricTopology
    var nodesPerUnit: Int
    var spine: SpineDescription?
}

/// The spine tier: `count` switches, each cabled to every leaf by `cablesPerLeaf` cables.
struct SpineDescription: Sendable {
    var count: Int
    var cablesPerLeaf: Int
    /// Per cable, per direction.
    var bandwidth: Bandwidth
    var latency: SimTime
}

/// How a network of nodes is joined together, as far as routing needs to know.
public enum FabricTopology: String, Hashable, Sendable {
    /// No network: a single node, or nodes that never talk to each other.
    case none
    /// Every NIC of the nodes in a scalable unit goes to that unit's one leaf switch.
    case fatTree = "fat-tree"
    /// NIC *i* of every node in a scalable unit goes to leaf *i* of that unit (rail *i*), so
    /// traffic between same-rail GPUs of a unit crosses one switch.
    case railOptimizedFatTree = "rail-optimized-fat-tree"
}

/// The numbering of a cluster's devices and links, computed from a handful of counts.
///
/// The builder creates devices and links in exactly this order and `Routing` computes link
/// ids from the same formulas, so a route costs O(1) with no table: a 16,384-GPU cluster
/// needs no all-pairs structure, only this value.
///
/// Devices, in id order: all GPUs node-major; one NVSwitch per node; the NICs node-major;
/// the leaf switches (unit-major, then rail); the spine switches.
/// Links, in id order, each cable as an up link (towards the switch or the network)
/// followed by its down link: GPU↔NVSwitch per GPU; GPU↔NIC (PCIe) per GPU; NIC↔leaf per
/// NIC; leaf↔spine per (leaf, spine) pair.
struct ClusterLayout: Hashable, Sendable {
    var nodeCount: Int
    var gpusPerNode: Int
    /// NICs per node; 0 when the node type declares none.
    var nicsPerNode: Int
    /// For each local GPU index, the local index of the NIC its network traffic uses.
    var nicOfGPU: [Int]
    var fabric: FabricTopology
    /// Nodes per scalable unit (the nodes that share leaves); ignored without a fabric.
    var nodesPerUnit: Int
    var spineCount: Int

    var gpuCount: Int { nodeCount * gpusPerNode }
    var unitCount: Int { fabric == .none ? 0 : (nodeCount + nodesPerUnit - 1) / nodesPerUnit }
    var leavesPerUnit: Int { fabric == .railOptimizedFatTree ? nicsPerNode : 1 }
    var leafCount: Int { unitCount * leavesPerUnit }

    // MARK: Devices

    func gpuDevice(_ gpu: Int) -> Int { gpu }
    func nvswitchDevice(node: Int) -> Int { gpuCount + node }
    func nicDevice(node: Int, nic: Int) -> Int { gpuCount + nodeCount + node * nicsPerNode + nic }
    func leafDevice(_ leaf: Int) -> Int { gpuCount + nodeCount + nodeCount * nicsPerNode + leaf }
    func spineDevice(_ spine: Int) -> Int { leafDevice(leafCount) + spine }
    var deviceCount: Int { spineDevice(spineCount) }

    // MARK: Switch placement

    func unit(ofNode node: Int) -> Int { node / nodesPerUnit }

    /// The leaf that NIC `nic` of node `node` is cabled to.
    func leaf(node: Int, nic: Int) -> Int {
        fabric == .railOptimizedFatTree ? unit(ofNode: node) * nicsPerNode + nic : unit(ofNode: node)
    }

    // MARK: Links

    /// GPU → NVSwitch; the NVSwitch → GPU link follows it.
    func nvlinkUp(gpu: Int) -> Int { 2 * gpu }
    func nvlinkDown(gpu: Int) -> Int { 2 * gpu + 1 }

    private var pcieBase: Int { 2 * gpuCount }
    /// GPU → its NIC over PCIe; the NIC → GPU link follows it.
    func pcieUp(gpu: Int) -> Int { pcieBase + 2 * gpu }
    func pcieDown(gpu: Int) -> Int { pcieBase + 2 * gpu + 1 }

    private var nicBase: Int { pcieBase + (nicsPerNode > 0 ? 2 * gpuCount : 0) }
    /// NIC → leaf; the leaf → NIC link follows it.
    func nicUp(node: Int, nic: Int) -> Int { nicBase + 2 * (node * nicsPerNode + nic) }
    func nicDown(node: Int, nic: Int) -> Int { nicUp(node: node, nic: nic) + 1 }

    private var spineBase: Int { nicBase + (fabric == .none ? 0 : 2 * nodeCount * nicsPerNode) }
    /// Leaf → spine; the spine → leaf link follows it.
    func leafUp(leaf: Int, spine: Int) -> Int { spineBase + 2 * (leaf * spineCount + spine) }
    func spineDown(spine: Int, leaf: Int) -> Int { leafUp(leaf: leaf, spine: spine) + 1 }
    var linkCount: Int { spineBase + 2 * leafCount * spineCount }
}

import StrataCore

/// The routing rules of a cluster: which links a message between two GPUs crosses.
///
/// Routes are computed on demand from the cluster's structure (`ClusterLayout`) rather than
/// stored, because an all-pairs table for 16,384 GPUs would hold 268 million routes. Each
/// route costs O(1) time and at most eight links.
///
/// The rules, which mirror how NCCL moves data on NVIDIA clusters:
/// - Same node: GPU → NVSwitch → GPU (two NVLink links).
/// - Different nodes: the message leaves through a NIC over PCIe, enters that NIC's leaf,
///   and, when the destination's NIC hangs off another leaf, goes up to a spine and down to
///   it; then leaf → destination NIC → destination GPU.
/// - Rail-optimized fabrics: the message travels on the destination GPU's rail (the rail of
///   the NIC that serves it). When the source GPU's own NIC is on another rail, the message
///   first crosses NVLink to the lowest-numbered GPU of the source node on the destination's
///   rail, as NCCL's PXN does, so it never needs a spine to change rails.
/// - Plain fat-trees: each GPU sends through its own NIC and receives through its own NIC.
/// - The spine is chosen by an ECMP-style hash of the (source, destination) GPU pair: spread
///   over all spines like real ECMP, but deterministic, so runs repeat byte for byte.
public struct Routing: Hashable, Sendable {
    let layout: ClusterLayout
    /// For each rail (local NIC index), the lowest local GPU index that NIC serves: the PXN
    /// proxy that forwards traffic onto that rail.
    let proxyOfRail: [Int]

    init(layout: ClusterLayout) {
        self.layout = layout
        var proxies = [Int](repeating: -1, count: layout.nicsPerNode)
        for (gpu, nic) in layout.nicOfGPU.enumerated().reversed() { proxies[nic] = gpu }
        self.proxyOfRail = proxies
    }

    /// The link ids a message from `source` to `destination` crosses, in order; empty when
    /// they are the same GPU.
    ///
    /// - Precondition: both GPUs belong to `cluster`, and GPUs on different nodes have a
    ///   fabric between them (the loader rejects multi-node clusters without one).
    /// - Complexity: O(1).
    public func path(from source: GPU, to destination: GPU, in cluster: Cluster) -> [Int] {
        let layout = self.layout
        guard source.index != destination.index else { return [] }
        if source.node == destination.node {
            return [layout.nvlinkUp(gpu: source.index), layout.nvlinkDown(gpu: destination.index)]
        }
        precondition(layout.fabric != .none && layout.nicsPerNode > 0,
                     "GPUs \(source.index) and \(destination.index) are on different nodes of a cluster without a fabric")

        var links: [Int] = []
        links.reserveCapacity(8)
        let receivingNIC = layout.nicOfGPU[destination.localIndex]
        var sender = source.index
        var sendingNIC = layout.nicOfGPU[source.localIndex]
        if layout.fabric == .railOptimizedFatTree, sendingNIC != receivingNIC {
            // PXN: hop over NVLink to the source node's GPU on the destination's rail.
            let proxy = source.node * layout.gpusPerNode + proxyOfRail[receivingNIC]
            links += [layout.nvlinkUp(gpu: source.index), layout.nvlinkDown(gpu: proxy)]
            sender = proxy
            sendingNIC = receivingNIC
        }
        links += [layout.pcieUp(gpu: sender), layout.nicUp(node: source.node, nic: sendingNIC)]

        let sourceLeaf = layout.leaf(node: source.node, nic: sendingNIC)
        let destinationLeaf = layout.leaf(node: destination.node, nic: receivingNIC)
        if sourceLeaf != destinationLeaf {
            precondition(layout.spineCount > 0, "leaves \(sourceLeaf) and \(destinationLeaf) have no spine between them")
            let spine = Int(Self.ecmpHash(source.index, destination.index) % UInt64(layout.spineCount))
            links += [layout.leafUp(leaf: sourceLeaf, spine: spine),
                      layout.spineDown(spine: spine, leaf: destinationLeaf)]
        }
        links += [layout.nicDown(node: destination.node, nic: receivingNIC), layout.pcieDown(gpu: destination.index)]
        return links
    }

    /// Mixes a (source, destination) pair into 64 well-spread bits with SplitMix64's
    /// finalizer: stable across runs and platforms, unlike `Hasher`.
    static func ecmpHash(_ source: Int, _ destination: Int) -> UInt64 {
        SplitMix64.mix((UInt64(truncatingIfNeeded: source) << 32) ^ UInt64(truncatingIfNeeded: destination))
    }
}

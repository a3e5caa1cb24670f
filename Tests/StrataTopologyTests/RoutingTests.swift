import Testing
import StrataCore
@testable import StrataTopology

/// Routes follow the documented rules, chain from source to destination, and repeat.
@Suite struct RoutingTests {
    /// A route as the device names it visits, the readable form these tests compare.
    static func describe(_ route: [Link], in cluster: Cluster) -> String {
        guard let first = route.first else { return "" }
        return ([first.from] + route.map(\.to)).map { cluster.devices[$0].name }.joined(separator: " > ")
    }

    /// Checks the invariants every route must hold: it starts at the source GPU, each link
    /// starts where the previous one ended, it ends at the destination, and no link repeats.
    static func checkChains(_ cluster: Cluster, from source: Int, to destination: Int) {
        let route = cluster.route(fromGPU: source, toGPU: destination)
        if source == destination {
            #expect(route.isEmpty)
            return
        }
        #expect(route.first?.from == cluster.gpus[source].device, "route \(source)→\(destination)")
        #expect(route.last?.to == cluster.gpus[destination].device, "route \(source)→\(destination)")
        for (link, next) in zip(route, route.dropFirst()) {
            #expect(link.to == next.from, "route \(source)→\(destination) breaks at link \(link.id)")
        }
        #expect(Set(route.map(\.id)).count == route.count, "route \(source)→\(destination) repeats a link")
    }

    @Test func sameNodeCrossesNVSwitchOnly() throws {
        let cluster = try Fixtures.shipped("h100-sxm-4gpu.xml")
        for source in 0..<4 {
            for destination in 0..<4 {
                Self.checkChains(cluster, from: source, to: destination)
                let route = cluster.route(fromGPU: source, toGPU: destination)
                #expect(route.count == (source == destination ? 0 : 2))
                #expect(route.allSatisfy { $0.kind == .nvlink })
            }
        }
        #expect(Self.describe(cluster.route(fromGPU: 1, toGPU: 3), in: cluster) == "node0/gpu1 > node0/nvswitch > node0/gpu3")
    }

    @Test func railOptimizedRoutesInTheSmallCluster() throws {
        // 4 nodes of 2 GPUs and 2 NICs, units of 2 nodes, 2 spines.
        let cluster = try TopologyLoader.load(xml: Fixtures.smallCluster(), path: "small.xml")
        #expect(cluster.devices.count == 26 && cluster.links.count == 64)
        let route = { (source: Int, destination: Int) in Self.describe(cluster.route(fromGPU: source, toGPU: destination), in: cluster) }
        // Same unit, same rail: through the shared leaf only.
        #expect(route(0, 2) == "node0/gpu0 > node0/nic0 > leaf/su0/rail0 > node1/nic0 > node1/gpu0")
        // Same unit, other rail: NVLink to the source node's GPU on the destination's rail first (PXN).
        #expect(route(0, 3) == "node0/gpu0 > node0/nvswitch > node0/gpu1 > node0/nic1 > leaf/su0/rail1 > node1/nic1 > node1/gpu1")
        // Other unit: up to a spine and down to the destination unit's leaf of the same rail.
        #expect(route(0, 4) == "node0/gpu0 > node0/nic0 > leaf/su0/rail0 > spine/\(Routing.ecmpHash(0, 4) % 2) > leaf/su1/rail0 > node2/nic0 > node2/gpu0")
        #expect(cluster.route(fromGPU: 1, toGPU: 6).map(\.kind) == [.nvlink, .nvlink, .pcie, .network, .network, .network, .network, .pcie])
        for source in 0..<8 {
            for destination in 0..<8 { Self.checkChains(cluster, from: source, to: destination) }
        }
    }

    @Test func plainFatTreeUsesEachGPUsOwnNIC() throws {
        let cluster = try TopologyLoader.load(xml: Fixtures.smallCluster(fabric: "fat-tree"), path: "small.xml")
        // One leaf per unit, every NIC of the unit's nodes on it.
        #expect(cluster.devices.filter { $0.kind == .networkSwitch(tier: 0) }.map(\.name) == ["leaf/su0", "leaf/su1"])
        let route = { (source: Int, destination: Int) in Self.describe(cluster.route(fromGPU: source, toGPU: destination), in: cluster) }
        #expect(route(0, 3) == "node0/gpu0 > node0/nic0 > leaf/su0 > node1/nic1 > node1/gpu1")
        #expect(route(1, 6) == "node0/gpu1 > node0/nic1 > leaf/su0 > spine/\(Routing.ecmpHash(1, 6) % 2) > leaf/su1 > node3/nic0 > node3/gpu0")
        for source in 0..<8 {
            for destination in 0..<8 { Self.checkChains(cluster, from: source, to: destination) }
        }
    }

    @Test func sharedNICsServeSeveralGPUs() throws {
        // Both GPUs of a node use NIC 1: no PXN hop is needed, since every GPU is on rail 1.
        let cluster = try TopologyLoader.load(xml: Fixtures.smallCluster(nicOfGPU: "1 1"), path: "small.xml")
        let route = Self.describe(cluster.route(fromGPU: 0, toGPU: 3), in: cluster)
        #expect(route == "node0/gpu0 > node0/nic1 > leaf/su0/rail1 > node1/nic1 > node1/gpu1")
        for source in 0..<8 {
            for destination in 0..<8 { Self.checkChains(cluster, from: source, to: destination) }
        }
    }

    @Test func superPODRoutesCrossNICsLeavesAndSpines() throws {
        let cluster = try Fixtures.shipped("dgx-h100-superpod.xml")
        // Node 0 GPU 3 to node 1 GPU 3: same unit, same rail, one leaf.
        let sameUnit = cluster.route(fromGPU: 3, toGPU: 11)
        #expect(Self.describe(sameUnit, in: cluster) == "node0/gpu3 > node0/nic3 > leaf/su0/rail3 > node1/nic3 > node1/gpu3")
        // Node 0 GPU 3 to node 100 GPU 5 (unit 3): PXN to GPU 5, then rail 5 through a spine.
        let crossUnit = cluster.route(fromGPU: 3, toGPU: 805)
        // The spine is ecmpHash(3, 805) % 16 = 0, pinned below.
        #expect(Self.describe(crossUnit, in: cluster)
            == "node0/gpu3 > node0/nvswitch > node0/gpu5 > node0/nic5 > leaf/su0/rail5 > spine/0 > leaf/su3/rail5 > node100/nic5 > node100/gpu5")
        #expect(crossUnit.contains { cluster.devices[$0.to].kind == .networkSwitch(tier: 1) })
        #expect(!sameUnit.contains { cluster.devices[$0.to].kind == .networkSwitch(tier: 1) })
    }

    @Test func routesChainOnSampledPairsOfTheLargeClusters() throws {
        for file in ["dgx-h100-superpod.xml", "dgx-a100-superpod.xml"] {
            let cluster = try Fixtures.shipped(file)
            // A fixed linear congruential sequence (Knuth's MMIX constants): the same pairs
            // every run, spread over the whole cluster.
            var state: UInt64 = 0x5EED
            for _ in 0..<4000 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let source = Int((state >> 33) % UInt64(cluster.gpus.count))
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let destination = Int((state >> 33) % UInt64(cluster.gpus.count))
                Self.checkChains(cluster, from: source, to: destination)
            }
            Self.checkChains(cluster, from: 0, to: cluster.gpus.count - 1)
            Self.checkChains(cluster, from: cluster.gpus.count - 1, to: 0)
        }
    }

    @Test func routesAreDeterministicAndSpreadOverSpines() throws {
        let first = try Fixtures.shipped("dgx-h100-superpod.xml")
        let second = try Fixtures.shipped("dgx-h100-superpod.xml")
        #expect(first.links == second.links && first.devices == second.devices)
        var spinesUsed = Set<Int>()
        for destination in stride(from: 256, to: 1024, by: 8) {
            let route = first.route(fromGPU: 0, toGPU: destination)
            #expect(route == second.route(fromGPU: 0, toGPU: destination))
            #expect(route == first.route(fromGPU: 0, toGPU: destination))
            if let up = route.first(where: { first.devices[$0.to].kind == .networkSwitch(tier: 1) }) { spinesUsed.insert(up.to) }
        }
        // 96 cross-unit flows from one GPU hash over most of the 16 spines, not one.
        #expect(spinesUsed.count >= 12)
        // The hash is a fixed function, not the per-process seeded Hasher.
        // SplitMix64's finalizer of (0 << 32 | 1) + golden gamma; and the pair used above.
        #expect(Routing.ecmpHash(0, 1) == 0x910A_2DEC_8902_5CC1)
        #expect(Routing.ecmpHash(3, 805) == 0x90FA_C795_A81B_9C00)
    }
}

import Foundation
import Testing
import StrataCore
@testable import StrataTopology

/// The topologies in topologies/ load and say what their datasheets say.
@Suite struct ShippedTopologyTests {
    @Test(arguments: [
        // file, GPUs, nodes, devices, links
        ("h100-sxm-4gpu.xml", 4, 1, 5, 8),
        ("dgx-h100.xml", 8, 1, 17, 32),
        // 1,024 GPUs + 128 NVSwitches + 1,024 NICs + 32 leaves + 16 spines; links: NVLink,
        // PCIe and NIC cables 2 × 1,024 each, leaf–spine 2 × 32 × 16.
        ("dgx-h100-superpod.xml", 1024, 128, 2224, 7168),
        // 1,120 + 140 + 1,120 + 56 leaves + 20 spines; 3 × 2 × 1,120 + 2 × 56 × 20.
        ("dgx-a100-superpod.xml", 1120, 140, 2456, 8960),
    ])
    func loadsWithTheExpectedShape(file: String, gpus: Int, nodes: Int, devices: Int, links: Int) throws {
        let cluster = try Fixtures.shipped(file)
        #expect(cluster.gpus.count == gpus)
        #expect(cluster.nodeCount == nodes)
        #expect(cluster.devices.count == devices)
        #expect(cluster.links.count == links)
        #expect(cluster.devices.enumerated().allSatisfy { $0.offset == $0.element.id })
        #expect(cluster.links.enumerated().allSatisfy { $0.offset == $0.element.id })
        // Ranks are node-major and each GPU is the device of the same index.
        for gpu in cluster.gpus {
            #expect(gpu.node == gpu.index / (gpus / nodes) && gpu.localIndex == gpu.index % (gpus / nodes))
            #expect(cluster.devices[gpu.device].kind == .gpu && cluster.devices[gpu.device].node == gpu.node)
        }
        // Every cable is two links, one each way, with the same figures.
        for pair in stride(from: 0, to: cluster.links.count, by: 2) {
            let up = cluster.links[pair], down = cluster.links[pair + 1]
            #expect(up.from == down.to && up.to == down.from && up.bandwidth == down.bandwidth && up.latency == down.latency)
        }
    }

    @Test func h100FiguresComeFromTheDatasheet() throws {
        let cluster = try Fixtures.shipped("dgx-h100.xml")
        let h100 = try #require(cluster.gpuTypes.first)
        #expect(h100.id == "h100-sxm")
        #expect(h100.name == "NVIDIA H100 SXM5 80GB HBM3")
        let expected: [Precision: Double] = [.int8: 1979e12, .fp8: 1979e12, .bf16: 989.4e12, .fp16: 989.4e12, .tf32: 494.7e12, .fp32: 66.9e12]
        #expect(Set(h100.peak.keys) == Set(expected.keys))
        for (precision, rate) in expected {
            // "989.4TFLOPS" is 989.4 × 1e12, which may differ from the literal 989.4e12 in the last bit.
            #expect(abs((h100.peak[precision]?.flopsPerSecond ?? 0) - rate) <= rate * 1e-12, "\(precision)")
        }
        #expect(h100.memoryCapacity == ByteCount(80 * 1_073_741_824))
        #expect(h100.memoryBandwidth == Bandwidth(bytesPerSecond: 3.35e12))
        #expect(cluster.gpus.allSatisfy { $0.spec == h100 })

        let nvlink = cluster.links.filter { $0.kind == .nvlink }
        #expect(nvlink.count == 16)
        // 18 links × 25 GB/s per direction.
        #expect(nvlink.allSatisfy { $0.bandwidth == Bandwidth(bytesPerSecond: 450e9) && $0.latency == SimTime(seconds: 0.35e-6) })
        let pcie = cluster.links.filter { $0.kind == .pcie }
        #expect(pcie.count == 16)
        #expect(pcie.allSatisfy { $0.bandwidth == Bandwidth(bytesPerSecond: 63e9) })
        // NIC i serves GPU i.
        for gpu in cluster.gpus {
            let up = try #require(pcie.first { $0.from == gpu.device })
            #expect(cluster.devices[up.to].name == "node0/nic\(gpu.localIndex)")
        }
        #expect(cluster.devices.filter { $0.kind == .nic }.count == 8)
    }

    @Test func a100HasNoFP8AndTwelveNVLinks() throws {
        let cluster = try Fixtures.shipped("dgx-a100-superpod.xml")
        let a100 = try #require(cluster.gpuTypes.first)
        #expect(a100.peak[.fp8] == nil)
        #expect(a100.peak[.bf16] == FlopRate(flopsPerSecond: 312e12))
        #expect(a100.peak[.tf32] == FlopRate(flopsPerSecond: 156e12))
        #expect(a100.peak[.fp32] == FlopRate(flopsPerSecond: 19.5e12))
        #expect(a100.memoryBandwidth == Bandwidth(bytesPerSecond: 2039e9))
        #expect(cluster.links.filter { $0.kind == .nvlink }.allSatisfy { $0.bandwidth == Bandwidth(bytesPerSecond: 300e9) })
        let network = cluster.links.filter { $0.kind == .network }
        // 200 Gb/s HDR NIC cables and single 200 Gb/s leaf–spine cables: 25 GB/s each way.
        #expect(network.allSatisfy { $0.bandwidth == Bandwidth(bytesPerSecond: 25e9) })
        #expect(cluster.devices.filter { $0.kind == .networkSwitch(tier: 0) }.count == 56)
        #expect(cluster.devices.filter { $0.kind == .networkSwitch(tier: 1) }.count == 20)
    }

    @Test func superPODLeavesAreOnePerRailPerScalableUnit() throws {
        let cluster = try Fixtures.shipped("dgx-h100-superpod.xml")
        let leaves = cluster.devices.filter { $0.kind == .networkSwitch(tier: 0) }
        #expect(leaves.count == 32)
        #expect(leaves.first?.name == "leaf/su0/rail0" && leaves.last?.name == "leaf/su3/rail7")
        // NIC 5 of node 40 (scalable unit 1) is cabled to leaf 5 of unit 1.
        let nic = try #require(cluster.devices.first { $0.name == "node40/nic5" })
        let cable = try #require(cluster.links.first { $0.from == nic.id && $0.kind == .network })
        #expect(cluster.devices[cable.to].name == "leaf/su1/rail5")
        #expect(cable.bandwidth == Bandwidth(bytesPerSecond: 50e9))
        // Two 400 Gb/s cables from each leaf to each spine, bundled into one link each way.
        let uplinks = cluster.links.filter { $0.from == leaves[0].id && cluster.devices[$0.to].kind == .networkSwitch(tier: 1) }
        #expect(uplinks.count == 16)
        #expect(uplinks.allSatisfy { $0.bandwidth == Bandwidth(bytesPerSecond: 100e9) && $0.latency == SimTime(seconds: 0.5e-6) })
        // And 32 down links to the NICs of rail 0 in unit 0.
        let downlinks = cluster.links.filter { $0.from == leaves[0].id && cluster.devices[$0.to].kind == .nic }
        #expect(downlinks.map { cluster.devices[$0.to].name } == (0..<32).map { "node\($0)/nic0" })
    }

    @Test func theSchemaShipsInTheResourceBundle() throws {
        let path = TopologyLoader.schemaPath
        #expect(path.hasSuffix("topology-v1.xsd"))
        #expect(FileManager.default.fileExists(atPath: path))
        // topologies/topology-v1.xsd is a link to the same file, so users find the schema.
        let linked = Fixtures.topologies.appendingPathComponent("topology-v1.xsd").resolvingSymlinksInPath()
        #expect(try String(contentsOf: linked, encoding: .utf8) == String(contentsOfFile: path, encoding: .utf8))
    }

    /// The attribute table used for "did you mean" and for units in schema errors must list
    /// exactly the attributes the schema declares.
    @Test func attributeTableMirrorsTheSchema() throws {
        let schema = try String(contentsOfFile: TopologyLoader.schemaPath, encoding: .utf8)
        let declared = schema.components(separatedBy: "<xs:attribute name=\"").dropFirst()
            .map { String($0.prefix { $0 != "\"" }) }
        let tabled = TopologyDiagnostics.attributesByElement.values.flatMap { $0.map(\.key) }
        #expect(declared.sorted() == tabled.sorted())
    }

    @Test func loadsConcurrentlyWithoutSharingErrorState() async throws {
        let bad = Fixtures.smallCluster().replacingOccurrences(of: "latency=\"1us\"/>\n    <nics", with: "latency=\"1\"/>\n    <nics")
        let outcomes = await withTaskGroup(of: (Bool, String).self) { group in
            for index in 0..<16 {
                group.addTask {
                    do {
                        _ = try TopologyLoader.load(xml: index.isMultiple(of: 2) ? Fixtures.smallCluster() : bad, path: "t\(index).xml")
                        return (index.isMultiple(of: 2), "")
                    } catch {
                        return (!index.isMultiple(of: 2), "\(error)")
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 16)
        #expect(outcomes.allSatisfy { $0.0 })
        // Each failure names only its own file and its own single problem.
        for (_, text) in outcomes where !text.isEmpty {
            #expect(text.components(separatedBy: "error:").count == 2)
            #expect(text.contains(":12: error: attribute 'latency' of <pcie>: '1' has no unit"))
        }
    }
}

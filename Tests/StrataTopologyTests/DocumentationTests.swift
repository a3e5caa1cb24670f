import Foundation
import Testing
import StrataCore
@testable import StrataTopology

/// The worked example in docs/topology.md loads and does what the page says.
@Suite struct DocumentationTests {
    @Test func workedExampleMatchesItsDescription() throws {
        let page = try String(contentsOf: Fixtures.topologies.deletingLastPathComponent()
            .appendingPathComponent("docs/topology.md"), encoding: .utf8)
        let afterHeading = try #require(page.range(of: "## Worked example")).upperBound
        let start = try #require(page.range(of: "```xml\n", range: afterHeading..<page.endIndex)).upperBound
        let end = try #require(page.range(of: "```", range: start..<page.endIndex)).lowerBound
        let cluster = try TopologyLoader.load(xml: String(page[start..<end]), path: "docs/topology.md")
        #expect(cluster.gpus.count == 8)
        #expect(cluster.devices.count == 16)
        #expect(cluster.links.count == 40)
        let describe = { (source: Int, destination: Int) in
            RoutingTests.describe(cluster.route(fromGPU: source, toGPU: destination), in: cluster)
        }
        #expect(describe(0, 5) == "node0/gpu0 > node0/nic0 > leaf/su0/rail0 > node1/nic0 > node1/gpu1")
        #expect(describe(0, 6) == "node0/gpu0 > node0/nvswitch > node0/gpu2 > node0/nic1 > leaf/su0/rail1 > node1/nic1 > node1/gpu2")
    }
}

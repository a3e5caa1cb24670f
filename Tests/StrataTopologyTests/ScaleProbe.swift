import Foundation
import Testing
@testable import StrataTopology
@Suite struct ScaleProbe {
    @Test func big() throws {
        let xml = try String(contentsOf: Fixtures.topologies.appendingPathComponent("dgx-h100-superpod.xml"), encoding: .utf8)
            .replacingOccurrences(of: "count=\"128\"", with: "count=\"2048\"").replacingOccurrences(of: "spine count=\"16\"", with: "spine count=\"256\"")
        let t0 = Date()
        let c = try TopologyLoader.load(xml: xml, path: "big.xml")
        let t1 = Date()
        var n = 0
        for s in stride(from: 0, to: c.gpus.count, by: 7) { n += c.route(fromGPU: s, toGPU: (s * 31 + 5) % c.gpus.count).count }
        print("PROBE gpus \(c.gpus.count) devices \(c.devices.count) links \(c.links.count) load \(t1.timeIntervalSince(t0))s routes \(Date().timeIntervalSince(t1))s \(n)")
    }
}

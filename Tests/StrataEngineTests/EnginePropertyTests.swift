import Foundation
import StrataCore
import StrataDSL
import Testing
@testable import StrataEngine
@testable import StrataGraph

@Suite struct EnginePropertyTests {
    /// Random flows on random links: no link is ever above capacity, every flow moves, and
    /// the bytes the links carry equal the bytes the flows sent times the links they crossed.
    @Test(arguments: 0..<200)
    func maxMinFairFlowsRespectCapacityAndConserveBytes(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        let links = Int.random(in: 1...6, using: &random)
        var network = FlowNetwork(linkCapacities: (0..<links).map { _ in Double(Int.random(in: 1...100, using: &random)) })
        var expected = 0.0
        var now = SimTime.zero
        var active: [Int] = []
        for id in 0..<Int.random(in: 1...12, using: &random) {
            let path = Array(Set((0..<Int.random(in: 1...links, using: &random)).map { _ in Int.random(in: 0..<links, using: &random) })).sorted()
            let bytes = Double(Int.random(in: 1...1000, using: &random))
            expected += bytes * Double(path.count)
            network.add(id: id, links: path.map { ($0, 1) }, bytes: bytes)
            active.append(id)
            var used = [Double](repeating: 0, count: links)
            for flow in network.flows.values {
                #expect(flow.rate > 0, "seed \(seed): flow \(flow.id) does not move")
                for (link, _) in flow.links { used[link] += flow.rate }
            }
            for link in 0..<links {
                #expect(used[link] <= network.capacity[link] * (1 + 1e-9), "seed \(seed): link \(link) over capacity")
            }
            now = now + SimTime(seconds: Double(Int.random(in: 0...3, using: &random)) * 1e-3)
            network.advance(to: now)
        }
        while let next = network.nextCompletion(after: now) {
            #expect(next.time >= now, "seed \(seed): time went backwards")
            now = next.time
            network.advance(to: now)
            network.remove(id: next.id)
        }
        let carried = network.carried.reduce(0, +)
        #expect(abs(carried - expected) <= expected * 1e-6, "seed \(seed): carried \(carried), sent \(expected)")
    }

    /// Random layouts of a small model: the same inputs give the same result, every GPU
    /// finishes, and what GPUs send point to point equals what they receive.
    @Test(arguments: 0..<12)
    func simulationsAreDeterministicAndBalanced(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed) &+ 1000)
        let layouts = [(1, 1, 4), (2, 1, 2), (1, 2, 2), (4, 1, 1), (1, 4, 1), (2, 2, 1)]
        let (tp, pp, dp) = layouts[Int.random(in: 0..<layouts.count, using: &random)]
        let schedule = ["gpipe", "1f1b", "zb_h1"][Int.random(in: 0..<3, using: &random)]
        let zero = Int.random(in: 0...3, using: &random)
        let text = """
            model llama { layers = 4  hidden = 256  heads = 8  kv_heads = 4  ffn = 512  vocab = 1024  seq = 128 }
            training { global_batch = \(dp * 8)  micro_batch = 2 }
            cluster { topology = "topologies/h100-sxm-4gpu.xml"  gpus = 4 }
            strategy {
                mesh { pipe = \(pp)  data = \(dp)  tensor = \(tp) }
                data_parallel = data
                zero = \(zero)
                tensor_parallel = tensor
                sequence_parallel = \(tp > 1)
                \(pp > 1 ? "pipeline { axis = pipe  schedule = \(schedule) }" : "")
            }
            """
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let strategy = try Resolver.resolve(try Parser.parse(text, path: root.appendingPathComponent("property.strata").path))
        let graph = try Compiler.compile(strategy)
        let first = try Executor(graph: graph, cluster: strategy.cluster).run()
        let second = try Executor(graph: graph, cluster: strategy.cluster).run()
        #expect(first == second, "seed \(seed): tp \(tp) pp \(pp) dp \(dp) \(schedule) zero \(zero)")
        var sent: Int64 = 0, received: Int64 = 0
        for rank in 0..<graph.rankCount {
            for task in graph.program(of: rank).tasks {
                switch task.action {
                case let .send(p2p): sent += p2p.bytes
                case let .receive(p2p): received += p2p.bytes
                default: break
                }
            }
        }
        #expect(sent == received, "seed \(seed): sent \(sent) bytes, received \(received)")
        #expect(first.iterationTime > .zero)
    }
}

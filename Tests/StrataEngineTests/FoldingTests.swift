import Foundation
import StrataCore
import StrataDSL
import Testing
@testable import StrataEngine
@testable import StrataGraph

/// Folding one GPU per class must predict what simulating every GPU predicts: within 0.5 %
/// on strategies up to 256 GPUs of a multi-node SuperPOD, where flows of folded GPUs share
/// NICs and switch links with the simulated ones.
@Suite struct FoldingTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let layouts: [(name: String, gpus: Int, mesh: String, lines: String, moe: Bool)] = [
        ("dp 32 across 4 nodes", 32, "data = 32", "data_parallel = data", false),
        ("tp 8 × dp 8, ZeRO-1", 64, "data = 8  tensor = 8", "data_parallel = data  zero = 1  tensor_parallel = tensor", false),
        ("tp 4 × dp 16 with sp", 64, "data = 16  tensor = 4", "data_parallel = data  tensor_parallel = tensor  sequence_parallel = true", false),
        ("pp 4 × tp 8 × dp 8", 256, "pipe = 4  data = 8  tensor = 8",
         "data_parallel = data  tensor_parallel = tensor  pipeline { axis = pipe  schedule = 1f1b }", false),
        ("pp 2 × dp 64 interleaved", 128, "pipe = 2  data = 64",
         "data_parallel = data  pipeline { axis = pipe  schedule = interleaved_1f1b  virtual_stages = 2 }", false),
        ("fsdp 64", 64, "data = 64", "data_parallel = data  fsdp { unit = layer }", false),
        ("cp 2 × tp 8 × dp 4", 64, "data = 4  context = 2  tensor = 8",
         "data_parallel = data  tensor_parallel = tensor  context_parallel = context  sequence_parallel = true", false),
        ("ep 8 × dp 32 moe", 256, "data = 32  expert = 8",
         "data_parallel = [data, expert]  layers[*].mlp.experts { expert_parallel = expert }", true),
    ]

    static func strategy(_ layout: (name: String, gpus: Int, mesh: String, lines: String, moe: Bool)) throws -> ResolvedStrategy {
        let moe = layout.moe ? "moe { experts = 8  top_k = 2  expert_ffn = 1024  routing = zipf  alpha = 0.8 }" : ""
        // Small enough that simulating all 256 GPUs stays quick in a debug build.
        let text = """
            model llama { layers = 4  hidden = 1024  heads = 16  kv_heads = 8  ffn = 4096  vocab = 32768  seq = 512  \(moe) }
            training { global_batch = \(layout.gpus)  micro_batch = 1 }
            cluster { topology = "topologies/dgx-h100-superpod.xml"  gpus = \(layout.gpus) }
            strategy {
                mesh { \(layout.mesh) }
                \(layout.lines)
            }
            """
        return try Resolver.resolve(try Parser.parse(text, path: root.appendingPathComponent("folding.strata").path))
    }

    @Test(arguments: 0..<layouts.count)
    func foldedAgreesWithExact(index: Int) throws {
        let layout = Self.layouts[index]
        let strategy = try Self.strategy(layout)
        let graph = try Compiler.compile(strategy)
        let folded = try Executor(graph: graph, cluster: strategy.cluster).run()
        let exact = try Executor(graph: graph, cluster: strategy.cluster, exact: true).run()
        let difference = abs(folded.iterationTime.seconds - exact.iterationTime.seconds) / exact.iterationTime.seconds
        #expect(difference <= 0.005, "\(layout.name): folded \(folded.iterationTime), exact \(exact.iterationTime)")
        #expect(folded.simulatedRanks.count == graph.classes.count)
        #expect(folded.ranks.map(\.peakMemoryBytes) == exact.ranks.map(\.peakMemoryBytes), "\(layout.name): memory")
    }
}

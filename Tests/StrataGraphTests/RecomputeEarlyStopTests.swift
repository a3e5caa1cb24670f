import Testing
@testable import StrataGraph
import StrataModel

/// Full recompute with early stop (`recompute = full_early_stop`, PyTorch's non-reentrant
/// checkpoint): each layer's forward again only as far as its saved tensors, so a LLaMA
/// layer's down projection and the residual add after it are not run again, while the
/// bytes the down projection saves (its input, which SwiGLU makes again) are still held.
struct RecomputeEarlyStopTests {
    static func source(_ recompute: String, tensorParallel: Bool = false) -> String {
        """
        model llama { layers = 2  hidden = 256  heads = 4  kv_heads = 2  ffn = 1024  vocab = 1024  seq = 128 }
        training { global_batch = 2  micro_batch = 1  precision = bf16 }
        cluster { topology = "../../topologies/h100-sxm-4gpu.xml"  gpus = \(tensorParallel ? 2 : 1) }
        strategy {
            mesh { \(tensorParallel ? "tensor = 2" : "data = 1") }
            \(tensorParallel ? "tensor_parallel = tensor" : "data_parallel = data")
            recompute = \(recompute)
        }
        """
    }

    /// Rank 0's tasks of layer 0's recompute in micro-batch 0: from its first op up to
    /// the layer's backward, in program order (its collectives included).
    static func recomputed(_ recompute: String, tensorParallel: Bool = false) throws -> [GraphTask] {
        let (_, graph) = try CompileSupport.compile(text: source(recompute, tensorParallel: tensorParallel),
                                                    at: "strategies/small/early-stop.strata")
        let tasks = graph.program(of: 0).tasks
        guard let start = tasks.firstIndex(where: { $0.name == "layers[0].attention_norm recompute mb0" }) else { return [] }
        return Array(tasks[start...].prefix { !$0.name.contains("backward") && !$0.name.contains("gradient") })
    }

    static func opName(_ task: GraphTask) -> String {
        String(task.name.split(separator: " ")[0].dropFirst("layers[0].".count))
    }

    @Test func theLastProductAndResidualAreNotRunAgain() throws {
        let full = try Self.recomputed("full").map(Self.opName)
        let early = try Self.recomputed("full_early_stop").map(Self.opName)
        #expect(full.suffix(2) == ["mlp.down", "mlp_residual"], "\(full)")
        #expect(early == Array(full.dropLast(2)), "\(early)")
    }

    @Test func theDownProjectionsInputIsHeldAllTheSame() throws {
        let full = try Self.recomputed("full")
        let early = try Self.recomputed("full_early_stop")
        #expect(early.reduce(0) { $0 + $1.allocates } == full.reduce(0) { $0 + $1.allocates },
                "what backward frees must have been allocated")
    }

    @Test func theCollectiveAfterARowParallelProductIsNotRunAgain() throws {
        let full = try Self.recomputed("full", tensorParallel: true).map(\.name)
        let early = try Self.recomputed("full_early_stop", tensorParallel: true).map(\.name)
        #expect(full.suffix(3) == ["layers[0].mlp.down recompute mb0", "layers[0].mlp output all_reduce mb0",
                                   "layers[0].mlp_residual recompute mb0"], "\(full)")
        #expect(early == Array(full.dropLast(3)), "\(early)")
    }
}

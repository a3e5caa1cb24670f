import Testing
@testable import StrataGraph

/// A dense layer's backward holds its activation gradients at their widest: the residual
/// stream's gradient, the activation's output gradient and the one it writes for each
/// expanding product (GELU's fc1; SwiGLU's gate and up), from its first backward kernel to
/// its last.
struct ActivationGradientTests {
    static func strategy(_ family: String, ffn: Int) -> String {
        """
        model \(family) { layers = 2  hidden = 256  heads = 4  ffn = \(ffn)  vocab = 1024  seq = 128 }
        training { global_batch = 1  micro_batch = 1  precision = bf16 }
        cluster { topology = "../../topologies/h100-sxm-4gpu.xml"  gpus = 1 }
        strategy { mesh { data = 1 } }
        """
    }

    @Test(arguments: [("gpt", 1), ("llama", 2)])
    func theWidestGradientsOfTheMLPAreHeldThroughTheLayersBackward(_ family: String, expanding: Int) throws {
        let (_, graph) = try CompileSupport.compile(text: Self.strategy(family, ffn: 1024), at: "strategies/small/gradients.strata")
        let tasks = graph.program(of: 0).tasks
        let layer = tasks.indices.filter { tasks[$0].name.hasPrefix("layers[1].") && tasks[$0].name.hasSuffix("backward mb0") }
        let first = try #require(layer.first), last = try #require(layer.last)
        // 128 tokens, bf16: the residual's gradient (256 wide) and 1 + expanding of 1024.
        let held = Int64(128 * (256 + (1 + expanding) * 1024) * 2)
        #expect(tasks[first].allocates == held, "\(tasks[first].name): \(tasks[first].allocates)")
        #expect(tasks[last].frees >= held, "\(tasks[last].name) frees them")
    }
}

import Testing
@testable import StrataGraph
import StrataModel

/// PyTorch's flash-attention backward makes its output and output gradient contiguous in
/// batch-first order (`_flash_attention_backward`'s `contiguous()` calls). In the
/// sequence-first layout Megatron-LM uses they are strided once a micro-batch holds more
/// than one sequence, so every attention backward then carries two copies of its output's
/// size (read and written) as a tail, and no forward or single-sequence backward does.
@Suite struct LayoutCopyTests {
    static func attentionKernels(_ graph: ExecutionGraph) -> [ComputeKernel] {
        graph.program(of: 0).tasks.compactMap { task in
            if case let .compute(kernel) = task.action, case .attention = kernel.family { kernel } else { nil }
        }
    }

    @Test func attentionBackwardCopiesItsOutputTwiceWhenAMicroBatchHoldsSequences() throws {
        let (strategy, graph) = try CompileSupport.compile(file: "strategies/small/base-llama-1b.strata")
        let m = strategy.model
        #expect(strategy.microBatch == 2)
        let kernels = Self.attentionKernels(graph)
        #expect(!kernels.isEmpty)
        for kernel in kernels {
            if kernel.pass == .backward {
                // batch 2 × 32 heads × 4,096 positions × 64, bf16: output and gradient, read and written.
                let outputBytes = Double(strategy.microBatch * m.heads * m.sequence * m.headDim) * 2
                #expect(kernel.layoutCopies?.bytes == 4 * outputBytes, "\(kernel.op)")
                #expect(kernel.layoutCopies?.flops == 0)
            } else {
                #expect(kernel.layoutCopies == nil, "\(kernel.op) \(kernel.pass)")
            }
        }
    }

    @Test func oneSequenceAMicroBatchNeedsNoCopy() throws {
        let (strategy, graph) = try CompileSupport.compile(text: """
            import "base-llama-1b.strata"
            training { micro_batch = 1 }
            """, at: "strategies/small/micro-batch-1.strata")
        #expect(strategy.microBatch == 1)
        let kernels = Self.attentionKernels(graph)
        #expect(!kernels.isEmpty)
        #expect(kernels.allSatisfy { $0.layoutCopies == nil })
    }
}

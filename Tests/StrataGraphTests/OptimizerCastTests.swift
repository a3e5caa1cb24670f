import Testing
@testable import StrataGraph
import StrataModel

/// The optimizer's casts between its fp32 master weights and the 16-bit gradients and
/// weights (`training.master_copies`): kernels of their own around the step by default, as
/// Megatron-LM's mixed-precision optimizer and the validation runner run them; none where
/// the optimizer's kernel does them (`fused`) or FSDP casts as it gathers and scatters.
struct OptimizerCastTests {
    static func source(copies: String?, fsdp: Bool = false) -> String {
        CompileSupport.twoReplicas(training: copies.map { "master_copies = \($0)" }, fsdp: fsdp)
    }

    /// The optimizer's compute tasks on rank 0, in program order: (name, bytes). The
    /// gradients' zeroing after them, in the same pass, is `GradientZeroingTests`' concern.
    static func optimizerKernels(_ text: String) throws -> [(name: String, bytes: Double)] {
        let (_, graph) = try CompileSupport.compile(text: text, at: "strategies/small/casts.strata")
        return graph.program(of: 0).tasks.compactMap { task in
            if case let .compute(kernel) = task.action, kernel.pass == .optimizer, task.name.hasPrefix("optimizer ") {
                (task.name, kernel.work.bytes)
            } else { nil }
        }
    }

    @Test(arguments: [nil, "separate"])
    func separateCastsSurroundTheStep(_ copies: String?) throws {
        let kernels = try Self.optimizerKernels(Self.source(copies: copies))
        #expect(kernels.map(\.name) == ["optimizer cast gradients", "optimizer step", "optimizer copy weights"])
        guard kernels.count == 3 else { return }
        // The step reads the fp32 gradient, state and master (16) and writes state and master (12).
        let parameters = kernels[1].bytes / 28
        #expect(parameters > 0 && parameters == parameters.rounded())
        #expect(kernels[0].bytes == 6 * parameters, "bf16 gradient read, fp32 written")
        #expect(kernels[2].bytes == 6 * parameters, "fp32 master read, bf16 weight written")
    }

    @Test func aFusedOptimizerCastsInItsOwnKernel() throws {
        let separate = try Self.optimizerKernels(Self.source(copies: "separate"))
        let fused = try Self.optimizerKernels(Self.source(copies: "fused"))
        #expect(fused.map(\.name) == ["optimizer step"])
        // Reads the bf16 gradient (2), state and master (12); writes them (12) and the bf16 weight (2).
        #expect(fused.first?.bytes == separate.dropFirst().first?.bytes, "28 bytes a parameter either way")
    }

    @Test func fsdpHasNoSeparateCasts() throws {
        let kernels = try Self.optimizerKernels(Self.source(copies: "separate", fsdp: true))
        #expect(kernels.map(\.name) == ["optimizer step"])
    }

    @Test func anUnknownChoiceIsALocatedError() throws {
        let error = #expect(throws: (any Error).self) {
            _ = try Self.optimizerKernels(Self.source(copies: "sometimes"))
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("strategies/small/casts.strata:2:"), "\(message)")
        #expect(message.contains("'master_copies' must be one of separate, fused, found 'sometimes'"), "\(message)")
    }
}

import Testing
@testable import StrataGraph
import StrataModel

/// How the kept gradients start each iteration empty (`training.zero_gradients`): a memset
/// over them after the optimizer by default, as Megatron-LM zeroes its gradient buffer and
/// the validation runner runs `foreach_zero_`; none with `set_to_none`, whose first
/// micro-batch hands its gradients over without an add. FSDP keeps and adds only its shard.
struct GradientZeroingTests {
    static func source(zeroing: String?, fsdp: Bool = false) -> String {
        CompileSupport.twoReplicas(training: zeroing.map { "zero_gradients = \($0)" }, fsdp: fsdp)
    }

    static func tasks(_ text: String) throws -> [GraphTask] {
        let (_, graph) = try CompileSupport.compile(text: text, at: "strategies/small/zeroing.strata")
        return graph.program(of: 0).tasks
    }

    /// Bytes of the accumulating adds in micro-batch `mb`'s backward on rank 0.
    static func accumulatedBytes(_ tasks: [GraphTask], mb: Int) -> Double {
        tasks.reduce(0) { sum, task in
            guard case let .compute(kernel) = task.action, task.name.hasSuffix(" mb\(mb)") else { return sum }
            return sum + (kernel.accumulation?.bytes ?? 0)
        }
    }

    /// The optimizer step's parameters: it moves 28 bytes a parameter with separate casts.
    static func stepParameters(_ tasks: [GraphTask]) -> Double {
        for task in tasks where task.name == "optimizer step" {
            if case let .compute(kernel) = task.action { return kernel.work.bytes / 28 }
        }
        return 0
    }

    @Test(arguments: [nil, "memset"])
    func aMemsetWritesEveryKeptGradientAfterTheOptimizer(_ zeroing: String?) throws {
        let tasks = try Self.tasks(Self.source(zeroing: zeroing))
        let names = tasks.compactMap { task -> String? in
            if case let .compute(kernel) = task.action, kernel.pass == .optimizer { task.name } else { nil }
        }
        #expect(names.last == "gradients zero", "\(names)")
        guard let zero = tasks.last(where: { $0.name == "gradients zero" }), case let .compute(kernel) = zero.action else { return }
        // Plain data parallelism keeps every parameter's bf16 gradient: 2 bytes each, written only.
        let parameters = Self.stepParameters(tasks)
        #expect(parameters > 0)
        #expect(kernel.work.bytes == 2 * parameters)
        #expect(kernel.family == .copy)
        // Every micro-batch adds into the zeroed gradients, the first too.
        #expect(Self.accumulatedBytes(tasks, mb: 0) == 6 * parameters, "read kept and new, write the sum: 2 bytes each")
        #expect(Self.accumulatedBytes(tasks, mb: 1) == 6 * parameters)
    }

    /// Dropped gradients do not exist before the iteration's first backward writes them:
    /// they leave the persistent memory, each unit's are allocated at its first backward
    /// task, and all of them are freed with the step, so memory ends where it began; kept
    /// ones (memset) are persistent. With FSDP the same holds for its whole gradients
    /// (accumulated unsharded until the last micro-batch).
    @Test(arguments: [false, true])
    func droppedGradientsComeWithTheFirstBackwardAndGoWithTheStep(fsdp: Bool) throws {
        let (_, kept) = try CompileSupport.compile(text: Self.source(zeroing: "memset", fsdp: fsdp), at: "strategies/small/zeroing.strata")
        let (_, dropped) = try CompileSupport.compile(text: Self.source(zeroing: "set_to_none", fsdp: fsdp),
                                                      at: "strategies/small/zeroing.strata")
        let keptProgram = kept.program(of: 0), droppedProgram = dropped.program(of: 0)
        let gradientBytes = keptProgram.persistentBytes - droppedProgram.persistentBytes
        // Plain data parallelism keeps 2 bytes a parameter of bf16 gradients, FSDP its whole
        // bf16 gradients until the last of the two micro-batches reduces them.
        #expect(gradientBytes == Int64(2 * Double(keptProgram.parameters)), "\(gradientBytes) vs \(keptProgram.parameters)")
        let tasks = droppedProgram.tasks
        let firstBackward = try #require(tasks.firstIndex { $0.name.contains("backward mb0") })
        func optimizerFrees(_ tasks: [GraphTask]) -> Int64 {
            tasks.reduce(0) { sum, task in
                if case let .compute(kernel) = task.action, kernel.pass == .optimizer { sum + task.frees } else { sum }
            }
        }
        // Nothing of them before the first backward; their bytes freed with the step.
        let allocatedBefore = tasks[..<firstBackward].reduce(Int64(0)) { $0 + $1.allocates - $1.frees }
        let keptBefore = keptProgram.tasks[..<firstBackward].reduce(Int64(0)) { $0 + $1.allocates - $1.frees }
        #expect(allocatedBefore == keptBefore, "the forward allocates the same either way")
        #expect(optimizerFrees(tasks) - optimizerFrees(keptProgram.tasks) == gradientBytes, "freed with the step")
        #expect(tasks.reduce(Int64(0)) { $0 + $1.allocates - $1.frees } == 0, "memory ends where it began")
    }

    @Test func droppedGradientsNeedNoMemsetAndNoFirstAdd() throws {
        let tasks = try Self.tasks(Self.source(zeroing: "set_to_none"))
        #expect(!tasks.contains { $0.name == "gradients zero" })
        let parameters = Self.stepParameters(tasks)
        #expect(Self.accumulatedBytes(tasks, mb: 0) == 0)
        #expect(Self.accumulatedBytes(tasks, mb: 1) == 6 * parameters)
    }

    @Test func fsdpZeroesAndAddsItsShardOnly() throws {
        let tasks = try Self.tasks(Self.source(zeroing: "memset", fsdp: true))
        // FSDP's optimizer steps its shard: the parameters divided over the two replicas.
        let shard = Self.stepParameters(tasks)
        let plain = Self.stepParameters(try Self.tasks(Self.source(zeroing: "memset")))
        #expect(abs(shard - plain / 2) <= 1, "\(shard) against \(plain)")
        guard let zero = tasks.last(where: { $0.name == "gradients zero" }), case let .compute(kernel) = zero.action else {
            Issue.record("no gradients zero task")
            return
        }
        #expect(abs(kernel.work.bytes - 2 * shard) <= 2)
        #expect(abs(Self.accumulatedBytes(tasks, mb: 1) - 6 * shard) <= 6 * 16, "one add a parameter tensor, each rounded")
    }

    @Test func anUnknownChoiceIsALocatedError() throws {
        let error = #expect(throws: (any Error).self) {
            _ = try Self.tasks(Self.source(zeroing: "sometimes"))
        }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("strategies/small/zeroing.strata:2:"), "\(message)")
        #expect(message.contains("'zero_gradients' must be one of memset, set_to_none, found 'sometimes'"), "\(message)")
    }
}

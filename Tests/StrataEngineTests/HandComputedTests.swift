import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataGraph
import Testing

/// The data-parallel iteration of a tiny GPT on a made-up two-GPU node with round figures
/// (Tests/Fixtures/test-2gpu.xml: 100 TFLOP/s bf16, 10 TFLOP/s fp32, 1 TB/s memory,
/// 4 × 25 GB/s NVLink per GPU with 1 us per link), computed here by hand from the
/// roofline and the ring all-reduce formulas, must match the simulator to the picosecond.
/// (Launch costs are off: the executor's default, for analytic cases.)
@Suite struct HandComputedTests {
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// `extraTraining`: a setting added to the file's training block.
    static func simulate(_ name: String, overrides: [Override] = [], extraTraining: String? = nil) throws
        -> (ExecutionGraph, SimulationResult) {
        let path = fixtures.appendingPathComponent(name).path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        if let extraTraining { text = text.replacingOccurrences(of: "training {", with: "training {\n    \(extraTraining)") }
        let strategy = try Resolver.resolve(try Parser.parse(text, path: path), overrides: overrides)
        let graph = try Compiler.compile(strategy)
        return (graph, try Executor(graph: graph, cluster: strategy.cluster).run())
    }

    // The tiny model: 1 layer, hidden 64, 2 heads, ffn 256, vocab 128, sequence 32,
    // micro-batch 1 (32 tokens), bf16 (2 bytes), 2 replicas × 2 micro-batches.
    static let (tokens, h, f, vocab, heads, e) = (32.0, 64.0, 256.0, 128.0, 2.0, 2.0)
    static let (bf16Peak, fp32Peak, memoryBandwidth) = (100e12, 10e12, 1e12)

    /// max(FLOPs / peak, bytes / bandwidth), rounded to the picosecond as the engine does.
    static func roofline(flops: Double, bytes: Double, peak: Double) -> Int64 {
        SimTime(seconds: max(flops / peak, bytes / memoryBandwidth)).picoseconds
    }

    /// The optimizer's kernels (master_copies = separate, the default): the bf16 gradients
    /// cast to fp32 (read 2, write 4 bytes a parameter); AdamW on the fp32 masters (read
    /// the fp32 gradient (4), state and master (12), write state and master (12): 28); the
    /// masters copied into the bf16 weights (read 4, write 2).
    static func optimizerPicoseconds() -> Int64 {
        let cast = roofline(flops: 0, bytes: 6 * parameters, peak: fp32Peak)
        return cast + roofline(flops: 12 * parameters, bytes: 28 * parameters, peak: fp32Peak) + cast
    }

    /// The kept bf16 gradients written with zeros after the optimizer (zero_gradients =
    /// memset, the default): 2 bytes a parameter, written only.
    static func zeroingPicoseconds() -> Int64 {
        roofline(flops: 0, bytes: 2 * parameters, peak: fp32Peak)
    }

    /// One micro-batch's forward plus backward, op by op.
    static func microBatchPicoseconds() -> Int64 {
        let (t, h, f, v) = (tokens, h, f, vocab)
        var total: Int64 = 0
        func gemm(_ m: Double, _ n: Double, _ k: Double, bias: Bool = true) {
            let bytes = (m * k + k * n + m * n) * e
            total += roofline(flops: 2 * m * n * k, bytes: bytes, peak: bf16Peak)       // forward
            total += roofline(flops: 4 * m * n * k, bytes: 2 * bytes, peak: bf16Peak)   // input + weight gradients
            // The bias gradient: the output gradient summed over its rows.
            if bias { total += roofline(flops: m * n, bytes: (m * n + n) * e, peak: fp32Peak) }
        }
        func layerNorm() {
            total += roofline(flops: 8 * t * h, bytes: 2 * t * h * e + 2 * h * e, peak: fp32Peak)
            total += roofline(flops: 12 * t * h, bytes: 3 * t * h * e + 4 * h * e, peak: fp32Peak)
        }
        func residual() {
            total += 2 * roofline(flops: t * h, bytes: 3 * t * h * e, peak: fp32Peak)
        }
        // Embedding: read the token ids and gather and add position rows; backward reads the
        // ids and the output gradient for both tables and writes both tables' gradients
        // dense (zeroed, then accumulated): 128 + 32 rows of 64.
        total += roofline(flops: t * h, bytes: 2 * (8 * t + 2 * t * h * e), peak: bf16Peak)
        total += roofline(flops: 2 * t * h, bytes: 2 * (8 * t + t * h * e) + 2 * (128 + 32) * h * e, peak: bf16Peak)
        // The layer.
        layerNorm()
        gemm(t, 3 * h, h)
        let scores = 0.5 * 4 * t * tokens * h  // causal: half of QK^T and AV
        let logSumExp = heads * tokens * 4
        total += roofline(flops: scores, bytes: 4 * t * h * e + logSumExp, peak: bf16Peak)
        total += roofline(flops: 2.5 * scores, bytes: 8 * t * h * e + logSumExp, peak: bf16Peak)
        gemm(t, h, h)
        residual()
        layerNorm()
        gemm(t, f, h)
        total += roofline(flops: 10 * t * f, bytes: 2 * t * f * e, peak: fp32Peak)  // GELU
        total += roofline(flops: 14 * t * f, bytes: 3 * t * f * e, peak: fp32Peak)
        gemm(t, h, f)
        residual()
        // Final norm, tied head, fp32 cross-entropy.
        layerNorm()
        gemm(t, v, h, bias: false)
        total += roofline(flops: 5 * t * v, bytes: t * v * (e + 4), peak: fp32Peak)
        total += roofline(flops: 2 * t * v, bytes: t * v * (4 + e), peak: fp32Peak)
        // Each weight gradient added to the kept one (PyTorch's AccumulateGrad): read both,
        // write the sum, for the embeddings, both norms, QKV, output, fc1, fc2, final norm.
        for n in [10_240.0, 128, 12_480, 4_160, 128, 16_640, 16_448, 128] {
            total += roofline(flops: n, bytes: 3 * n * e, peak: fp32Peak)
        }
        return total
    }

    /// Parameters: embeddings (128 + 32) × 64, two norms of 2 × 64, QKV 64 × 192 + 192,
    /// output 64 × 64 + 64, fc1 64 × 256 + 256, fc2 256 × 64 + 64, final norm 128.
    static let parameters = 10_240.0 + 256 + 12_480 + 4_160 + 16_640 + 16_448 + 128

    @Test func parameterCountMatchesTheModel() {
        #expect(Self.parameters == 60_352)
    }

    @Test func dataParallelIterationEqualsRooflinePlusRingAllReduce() throws {
        let (graph, result) = try Self.simulate("tiny-dp2.strata")
        // Ring all-reduce of 2 × 60,352 bytes of bf16 gradients over 2 GPUs:
        // 2(n−1) steps of (α + S/n / B) with α = 2 links × 1 us, B = 100 GB/s.
        let gradientBytes = 2 * Self.parameters
        let allReduce = SimTime(seconds: 2 * (2 - 1) * (2e-6 + gradientBytes / 2 / 100e9))
        #expect(allReduce.picoseconds == 5_207_040)
        let optimizer = Self.optimizerPicoseconds() + Self.zeroingPicoseconds()
        // The bucket averaged over the 2 replicas before it is reduced (grad_sync's
        // average = pass): read and written once.
        let average = Self.roofline(flops: 0, bytes: 2 * gradientBytes, peak: Self.fp32Peak)
        let expected = 2 * Self.microBatchPicoseconds() + average + allReduce.picoseconds + optimizer
        #expect(result.iterationTime.picoseconds == expected)
        for rank in result.ranks {
            #expect(rank.exposedCommunication == allReduce, "the all-reduce follows the last backward, so none of it is hidden")
            #expect(rank.compute.picoseconds == expected - allReduce.picoseconds)
        }
        let collectives = graph.classes[0].tasks.filter { if case .collective = $0.action { true } else { false } }
        #expect(collectives.count == 1, "one bucket holds all 120,704 bytes of gradients")
    }

    @Test func oneReplicaHasNoGradientCommunication() throws {
        let (graph, result) = try Self.simulate("tiny-dp2.strata", overrides: [Override(name: "dp", text: "1")])
        #expect(!graph.classes[0].tasks.contains { if case .collective = $0.action { true } else { false } })
        let optimizer = Self.optimizerPicoseconds() + Self.zeroingPicoseconds()
        // One replica runs all 4 micro-batches.
        #expect(result.iterationTime.picoseconds == 4 * Self.microBatchPicoseconds() + optimizer)
    }

    @Test func peakMemoryIsStatePlusOneMicroBatchOfActivationsAndTheLossWorkspace() throws {
        let (_, result) = try Self.simulate("tiny-dp2.strata")
        // 16 bytes of state per parameter (bf16 weights and gradients, fp32 master, Adam m and v).
        let state = 16 * Int64(Self.parameters)
        // Saved activations of one micro-batch (t = 32 tokens, bf16): token ids 8t; per
        // layer 16·t·h (norms, QKV input, Q/K/V, out input, fc1 input) + 2·t·f·e (GELU and
        // fc2 inputs) + norm statistics 2 × 8t + log-sum-exp; final norm; head input; fp32
        // log-probabilities.
        let (t, h, f, v) = (Int64(32), Int64(64), Int64(256), Int64(128))
        let layer = 2 * (t * h * 2 + 8 * t) + 6 * t * h * 2 + 2 * 32 * 4 + 2 * t * f * 2
        let activations = 8 * t + layer + (t * h * 2 + 8 * t) + t * h * 2 + t * v * 4
        // The peak is in the loss's backward: everything saved, plus its fp32 gradients of the
        // log-probabilities and logits (4 + 4 bytes per logit); their bf16 cast comes after
        // the log-softmax's backward has freed the first and the kept log-probabilities.
        let lossBackwardWorkspace = t * v * (4 + 4)
        // And the math libraries' workspaces, held for the whole run (64 MiB by default).
        let libraries = Int64(64 * 1_048_576)
        #expect(result.ranks.allSatisfy { $0.peakMemoryBytes == libraries + state + activations + lossBackwardWorkspace })
        // `library_workspace` sets them.
        let (_, none) = try Self.simulate("tiny-dp2.strata", extraTraining: "library_workspace = 0B")
        #expect(none.ranks.allSatisfy { $0.peakMemoryBytes == state + activations + lossBackwardWorkspace })
    }

    @Test func sameInputsGiveTheSameResult() throws {
        let first = try Self.simulate("tiny-dp2.strata").1
        let second = try Self.simulate("tiny-dp2.strata").1
        #expect(first == second)
    }
}

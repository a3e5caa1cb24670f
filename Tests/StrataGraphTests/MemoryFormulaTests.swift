import Foundation
import StrataCore
import StrataDSL
import StrataModel
import Testing
@testable import StrataGraph

/// Per-GPU memory against the formulas Megatron-LM's authors publish:
/// - model state: 18 bytes per parameter with fp16/bf16 weights, fp32 gradients, fp32
///   master weights and Adam (Rajbhandari et al. 2020, §3.1, with fp32 gradients as in
///   Megatron-LM), or 6 + 12/d with the distributed optimizer over d replicas;
/// - activations per layer (Korthikanti et al. 2022, table 2): s·b·h·(10 + 24/t) with
///   tensor parallelism, s·b·h·34/t with sequence parallelism too, and 2·s·b·h (/t) with
///   full recompute. Their "no recompute" rows add 5·a·s²·b for the s×s attention scores,
///   which flash attention never stores, so Strata's no-recompute activations are their
///   selective-recompute rows.
@Suite struct MemoryFormulaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A GPT of `hidden` on the 4-GPU node, with dropout as Megatron's formulas assume.
    static func compile(tp: Int, dp: Int, strategyLines: String, hidden: Int = 2048, heads: Int = 16,
                        gradients: String = "fp32", trainingLines: String = "") throws -> ExecutionGraph {
        let text = """
            model gpt { layers = 4  hidden = \(hidden)  heads = \(heads)  vocab = 51200  seq = 2048 }
            training {
                global_batch = \(dp * 4)
                micro_batch = 1
                gradient_precision = \(gradients)
                optimizer = adam
                dropout = 0.1
                \(trainingLines)
            }
            cluster { topology = "topologies/h100-sxm-4gpu.xml"  gpus = \(tp * dp) }
            strategy {
                mesh { data = \(dp)  tensor = \(tp) }
                data_parallel = data
                tensor_parallel = tensor
                \(strategyLines)
            }
            """
        let path = root.appendingPathComponent("memory-test.strata").path
        let strategy = try Resolver.resolve(try Parser.parse(text, path: path))
        return try Compiler.compile(strategy)
    }

    /// Bytes the forward of layer 0 keeps for backward, for the first micro-batch on rank 0.
    static func layerActivations(_ graph: ExecutionGraph) -> Int64 {
        graph.program(of: 0).tasks
            .filter { $0.name.hasPrefix("layers[0].") && $0.name.hasSuffix(" forward mb0") }
            .reduce(0) { $0 + $1.allocates }
    }

    static func expectClose(_ actual: Double, _ expected: Double, within tolerance: Double = 0.03,
                            _ what: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let error = abs(actual - expected) / expected
        #expect(error <= tolerance, "\(what): \(actual) vs \(expected) (\(String(format: "%.2f", error * 100)) %)",
                sourceLocation: sourceLocation)
    }

    @Test func modelStateIs18BytesPerParameter() throws {
        let graph = try Self.compile(tp: 2, dp: 2, strategyLines: "")
        let rank = graph.program(of: 0)
        Self.expectClose(Double(rank.persistentBytes), 18 * Double(rank.parameters), within: 0.001, "weights + fp32 gradients + Adam")
    }

    @Test func distributedOptimizerIs6Plus12OverD() throws {
        let graph = try Self.compile(tp: 1, dp: 4, strategyLines: "zero = 1")
        let rank = graph.program(of: 0)
        Self.expectClose(Double(rank.persistentBytes), (6 + 12.0 / 4) * Double(rank.parameters), within: 0.001,
                         "distributed optimizer over 4 replicas")
    }

    /// ZeRO-2 shards gradients over the replicas only once they are reduce-scattered: with
    /// the reduction after the last of 4 micro-batches (the default), each GPU accumulates
    /// its whole fp32 gradient until then — 2 + 4 + 12/d bytes a parameter (FSDP2's
    /// unsharded gradients under no-sync micro-batches); reduced after every micro-batch,
    /// the gradient stays sharded: 2 + (4 + 12)/d.
    @Test func shardedGradientsAccumulateWholeUntilTheyAreReduced() throws {
        let deferred = try Self.compile(tp: 1, dp: 4, strategyLines: "zero = 2").program(of: 0)
        Self.expectClose(Double(deferred.persistentBytes), (2 + 4 + 12.0 / 4) * Double(deferred.parameters), within: 0.001,
                         "ZeRO-2, gradients reduced after the last micro-batch")
        let everyMicroBatch = try Self.compile(tp: 1, dp: 4, strategyLines: """
            zero = 2
            grad_sync { after_last_micro_batch = false }
            """).program(of: 0)
        Self.expectClose(Double(everyMicroBatch.persistentBytes), (2 + 16.0 / 4) * Double(everyMicroBatch.parameters),
                         within: 0.001, "ZeRO-2, gradients reduced after every micro-batch")
    }

    @Test(arguments: [1, 2, 4])
    func tensorParallelActivations(tp: Int) throws {
        let graph = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "")
        let (s, b, h) = (2048.0, 1.0, 2048.0)
        Self.expectClose(Double(Self.layerActivations(graph)), s * b * h * (10 + 24 / Double(tp)), "tensor parallel \(tp)")
    }

    @Test(arguments: [2, 4])
    func sequenceParallelActivations(tp: Int) throws {
        let graph = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "sequence_parallel = true")
        let (s, b, h) = (2048.0, 1.0, 2048.0)
        Self.expectClose(Double(Self.layerActivations(graph)), s * b * h * 34 / Double(tp), "sequence parallel \(tp)")
    }

    /// Kept gathered (`sequence_parallel_inputs = gathered`, as eager autograd keeps a
    /// product's input), the two column-parallel inputs of a layer (the QKV product's and
    /// the MLP's first) stay whole, 2·s·b·h bytes each instead of their slice, and the
    /// backward gathers nothing again: half the all-gathers of the sliced layout.
    @Test(arguments: [2, 4])
    func sequenceParallelKeptGatheredKeepsTheWholeInputs(tp: Int) throws {
        let sliced = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "sequence_parallel = true")
        let gathered = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "sequence_parallel = true",
                                        trainingLines: "sequence_parallel_inputs = gathered")
        let (s, b, h, t) = (2048.0, 1.0, 2048.0, Double(tp))
        Self.expectClose(Double(Self.layerActivations(gathered)), s * b * h * 34 / t + 2 * 2 * s * b * h * (1 - 1 / t),
                         "gathered, tp \(tp)")
        func gathers(_ graph: ExecutionGraph) -> Int {
            graph.program(of: 0).tasks.filter {
                $0.name.contains("layers[0]")
            }.filter { if case let .collective(call) = $0.action { call.kind == .allGather } else { false } }.count
        }
        #expect(gathers(gathered) == 4 * 4 && gathers(sliced) == 6 * 4,
                "forward 2 + backward 2 against forward 2 + backward 4, for each of 4 micro-batches")
    }

    @Test func selectiveRecomputeKeepsTheSameActivationsWithFlashAttention() throws {
        let none = try Self.compile(tp: 2, dp: 2, strategyLines: "sequence_parallel = true")
        let selective = try Self.compile(tp: 2, dp: 2, strategyLines: "sequence_parallel = true  recompute = selective")
        #expect(Self.layerActivations(none) == Self.layerActivations(selective))
    }

    @Test(arguments: [(1, false), (2, false), (2, true), (4, true)])
    func fullRecomputeKeepsOnlyTheLayerInput(tp: Int, sequenceParallel: Bool) throws {
        let graph = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "sequence_parallel = \(sequenceParallel)  recompute = full")
        let (s, b, h) = (2048.0, 1.0, 2048.0)
        let expected = 2 * s * b * h / Double(sequenceParallel ? tp : 1)
        Self.expectClose(Double(Self.layerActivations(graph)), expected, within: 0.001, "full recompute, tp \(tp), sp \(sequenceParallel)")
    }

    /// What eager PyTorch keeps where Korthikanti et al.'s fused kernels keep less, checked
    /// against the autograd nodes the runner builds (scripts/validate/run.py):
    /// - SwiGLU as `F.silu(gate) * up`: SiLU keeps the gate, the product keeps silu(gate)
    ///   and up, so three of the activation's tensors stay (a fused kernel keeps two);
    /// - cross-entropy on fp32 logits: the log-softmax's backward holds the kept
    ///   log-probabilities, their gradient and the logits' gradient, 12 bytes a logit; the
    ///   16-bit cast comes after the first two are freed;
    /// - split by vocabulary over tensor-parallel GPUs (Megatron-LM's vocab-parallel
    ///   cross-entropy), the backward works in place on the kept probabilities: 4 bytes a
    ///   logit and the 16-bit cast, 6;
    /// - in the loss's forward, the logits' fp32 copy beside the kept output, 8 bytes a
    ///   logit: the 16-bit logits are freed once copied;
    /// - rotary embeddings write new queries and keys while the fused QKV output they were
    ///   cut from stays alive through the value's view: as many values kept as rotated.
    @Test func eagerActivationsAndTheLossBackwardKeepWhatAutogradKeeps() throws {
        let swiglu = OpCosts.swiglu("mlp.act", elements: 1_000, precision: .bf16)
        #expect(swiglu.savedBytes == 3 * 1_000 * 2)
        let rope = OpCosts.rope("attention.rope", elements: 1_000, precision: .bf16)
        #expect(rope.savedBytes == 1_000 * 2)
        let loss = OpCosts.crossEntropy("loss", tokens: 10, vocabulary: 100, precision: .bf16)
        #expect(loss.savedBytes + loss.backwardWorkspace == 10 * 100 * 12)
        #expect(loss.savedBytes + loss.forwardWorkspace == 10 * 100 * 8)
        let split = OpCosts.crossEntropy("loss", tokens: 10, vocabulary: 50, precision: .bf16, vocabularyParallel: true)
        #expect(split.savedBytes + split.backwardWorkspace == 10 * 50 * 6)
        // A tensor-parallel model's loss is split so: its backward allocates the 16-bit
        // gradient of its 25,600 of the 51,200 logits of 2,048 tokens; without TP, 8 bytes
        // a logit.
        for (tp, bytesPerLogit, vocabulary) in [(2, 2, 25_600), (1, 8, 51_200)] {
            let graph = try Self.compile(tp: tp, dp: 4 / tp, strategyLines: "")
            let lossBackward = try #require(graph.program(of: 0).tasks.first { $0.name == "loss backward mb0" })
            #expect(lossBackward.allocates == Int64(2048 * vocabulary * bytesPerLogit), "tp \(tp)")
        }
    }

    @Test func fullRecomputeReallocatesBeforeBackward() throws {
        let graph = try Self.compile(tp: 2, dp: 2, strategyLines: "recompute = full")
        let recomputed = graph.program(of: 0).tasks
            .filter { $0.name.hasPrefix("layers[0].") && $0.name.hasSuffix(" recompute mb0") }
            .reduce(Int64(0)) { $0 + $1.allocates }
        let kept = try Self.layerActivations(Self.compile(tp: 2, dp: 2, strategyLines: ""))
        #expect(recomputed == kept, "the recomputed forward saves what a normal forward saves")
    }
}

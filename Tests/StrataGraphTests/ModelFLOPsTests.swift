import Foundation
import StrataCore
import StrataModel
import Testing
@testable import StrataGraph

/// The compiler's model FLOPs — the sum over every GPU's compute tasks of their
/// `modelFLOPs` — against the closed form of Narayanan et al. 2021 (§5.1, "6 × parameters
/// × tokens" plus the attention term) and PaLM's MFU definition (Chowdhery et al. 2022,
/// appendix B), for every shipped strategy.
///
/// Per token, a matrix product with P parameters costs 2P FLOPs forward and 4P backward
/// (input and weight gradients), so 6P. The matrices counted (biases, norms, the embedding
/// lookup, activations and the loss excluded):
/// - QKV: h · (heads + 2 · kv_heads) · head_dim; attention out: h · h;
/// - a dense MLP: 2 · h · ffn (GPT's fc1, fc2) or 3 · h · ffn (LLaMA's gate, up, down);
/// - a MoE MLP (Shazeer et al. 2017; Fedus et al. 2021): the router h · experts, the shared
///   experts' MLPs (inner size expert_ffn · shared_experts), and the routed experts'
///   matrices (2 or 3 · h · expert_ffn) times the expected number of experts a token
///   actually reaches (below);
/// - the head: vocab · h — also when tied to the embedding, since the product still runs.
///
/// Causal attention (flash attention, Dao et al. 2022) computes half of the s × s scores:
/// 4 · s · h FLOPs per token over QKᵀ and AV, halved = 2 · s · h forward, and model FLOPs
/// count backward as twice forward (not flash attention's 2.5 × with the recomputed scores):
/// 6 · s · h per token per layer.
///
/// Capacity (Fedus et al. 2021, §2.2): expert e may take at most c · T · k / E of the T · k
/// token-expert assignments of a batch of T tokens; routing sends it a share p_e. So it
/// keeps min(p_e · T · k, c · T · k / E), and a token reaches on average
/// k · Σ_e min(p_e, c / E) experts — k when routing is dropless (c = none) or balanced enough.
/// `ExpertRouting` rounds per-expert counts to whole tokens, well inside the 0.1 % tolerance
/// for these batch sizes.
@Suite struct ModelFLOPsTests {
    /// Model FLOPs of one iteration by the closed form: 6 · (matrix parameters a token uses)
    /// · tokens + 6 · layers · seq · h · tokens, with tokens = global_batch · seq.
    static func closedForm(_ strategy: ResolvedStrategy) -> Double {
        let m = strategy.model
        let h = Double(m.hidden)
        let matricesPerMLP = m.family == .gpt ? 2.0 : 3.0
        let attention = h * Double(m.heads + 2 * m.kvHeads) * Double(m.headDim) + h * h
        var perToken = h * Double(m.vocabulary)  // the head
        for layer in 0..<m.layers {
            perToken += attention
            if let moe = m.moe, m.isMoELayer(layer) {
                let expert = matricesPerMLP * h * Double(moe.expertFFN)
                let experts = Double(moe.experts)
                let cap = moe.capacityFactor.map { $0 / experts } ?? .infinity
                let reached = Double(moe.topK) * moe.routing.shares(experts: moe.experts).reduce(0) { $0 + min($1, cap) }
                perToken += h * experts + reached * expert + Double(moe.sharedExperts) * expert
            } else {
                perToken += matricesPerMLP * h * Double(m.ffnHidden)
            }
        }
        let tokens = Double(strategy.tokensPerIteration)
        let attentionPerToken = 6 * Double(m.layers) * Double(m.sequence) * h
        return 6 * perToken * tokens + attentionPerToken * tokens
    }

    /// Every shipped strategy compiles and its model FLOPs match the closed form within 0.1 %.
    /// A strategy the compiler refuses for offload (not lowered yet) is compiled without it:
    /// offload moves bytes, not FLOPs.
    @Test(arguments: CompileSupport.shippedStrategies())
    func modelFLOPsMatchClosedForm(_ file: String) throws {
        var strategy = try CompileSupport.resolve(file: file)
        if strategy.tree.attributes.contains(where: { !$0.offload.isEmpty }) {
            #expect(throws: DiagnosticError.self) { try Compiler.compile(strategy) }
            for index in strategy.tree.attributes.indices { strategy.tree.attributes[index].offload = [] }
        }
        let graph = try Compiler.compile(strategy)
        CompileSupport.expectClose(graph.modelFLOPsPerIteration, Self.closedForm(strategy), within: 0.001,
                                   "\(file) model FLOPs")
        #expect(graph.tokensPerIteration == strategy.globalBatch * strategy.model.sequence)
    }

    /// Tensor parallelism over routed experts splits their tokens (each rank routes its own
    /// share to whole experts), so a MoE model's FLOPs do not change with it; and the
    /// experts' gradients are reduced over the tensor-parallel ranks that hold copies.
    @Test(arguments: [(1, 8), (2, 4), (4, 2), (8, 1)])
    func tensorParallelExpertsKeepModelFLOPs(tensor: Int, expert: Int) throws {
        let file = "strategies/moe/mixtral-8x7b-ep-or-tp.strata"
        let overrides = [Override(name: "tp", text: "\(tensor)"), Override(name: "ep", text: "\(expert)")]
        let (strategy, graph) = try CompileSupport.compile(file: file, overrides: overrides)
        CompileSupport.expectClose(graph.modelFLOPsPerIteration, Self.closedForm(strategy), within: 0.001,
                                   "tp \(tensor) × ep \(expert) model FLOPs")
        let gradientAxes = CompileSupport.collectives(graph, rank: 0).filter { $0.label == "gradients" }.map(\.axes)
        if tensor > 1 { #expect(gradientAxes.contains { $0.contains("tensor") }, "expert gradients reduced over the tensor axis") }
    }

    /// Capacity drops are visible: without the capacity factor the small MoE's experts do
    /// more work, by the ratio of the closed forms' expert terms.
    @Test func capacityFactorDropsAssignments() throws {
        let file = "strategies/small/moe-ep4-mixed-precision.strata"
        let capped = try CompileSupport.resolve(file: file)
        var dropless = capped
        dropless.model.moe?.capacityFactor = nil
        let moe = try #require(capped.model.moe)
        // Histogram 310:190:…:40 over 1000 gives p_0 = 0.31, p_1 = 0.19 above c / E = 0.15625.
        let shares = moe.routing.shares(experts: moe.experts)
        #expect(shares.filter { $0 > 1.25 / 8 }.count == 2)
        let cappedFLOPs = try Compiler.compile(capped).modelFLOPsPerIteration
        let droplessFLOPs = try Compiler.compile(dropless).modelFLOPsPerIteration
        #expect(droplessFLOPs > cappedFLOPs)
        CompileSupport.expectClose(droplessFLOPs - cappedFLOPs, Self.closedForm(dropless) - Self.closedForm(capped),
                                   within: 0.001, "FLOPs of the dropped assignments")
    }
}

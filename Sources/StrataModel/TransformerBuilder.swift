import StrataCore

/// Expands a dense transformer (GPT or LLaMA) into its operations for one micro-batch, with
/// exact FLOPs, memory traffic and saved activations for each. Op names are the module
/// paths of `ModuleTree` (`layers[3].mlp.fc1`), plus the residual additions.
///
/// Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
/// Transformer Models"), table 2, with flash attention (no s×s score matrix is stored,
/// only the log-sum-exp) and no dropout: 32·s·b·h bytes per GPT layer in 16-bit precision,
/// where their count with dropout masks is 34·s·b·h. LLaMA's RoPE rotation is not
/// modelled as a separate kernel (it is fused into attention in common implementations).
public struct TransformerBuilder: Sendable {
    public var config: ModelConfig
    public var microBatch: Int
    /// The precision of weights, activations and the arithmetic of matrix products.
    public var precision: Precision

    public init(config: ModelConfig, microBatch: Int, precision: Precision) {
        precondition(config.moe == nil, "MoE layers are built by the compiler's MoE lowering")
        self.config = config
        self.microBatch = microBatch
        self.precision = precision
    }

    /// All operations of one micro-batch in forward order.
    public func ops() -> [Op] {
        let tokens = microBatch * config.sequence
        var ops = [OpCosts.embedding("embedding", tokens: tokens, hidden: config.hidden, vocabularyRows: config.vocabulary,
                                     positionRows: config.family == .gpt ? config.sequence : 0, precision: precision)]
        for layer in 0..<config.layers {
            ops += layerOps(prefix: "layers[\(layer)]")
        }
        ops.append(norm("final_norm"))
        let head = OpCosts.gemm("head", m: tokens, n: config.vocabulary, k: config.hidden, bias: false, precision: precision)
        ops.append(config.tiedEmbeddings ? head.withoutParameters() : head)
        ops.append(OpCosts.crossEntropy("loss", tokens: tokens, vocabulary: config.vocabulary, precision: precision))
        return ops
    }

    private func layerOps(prefix: String) -> [Op] {
        let tokens = microBatch * config.sequence
        let h = config.hidden, f = config.ffnHidden
        let bias = config.family == .gpt
        let qkvWidth = (config.heads + 2 * config.kvHeads) * config.headDim
        var ops = [
            norm("\(prefix).attention_norm"),
            OpCosts.gemm("\(prefix).attention.qkv", m: tokens, n: qkvWidth, k: h, bias: bias, precision: precision),
            OpCosts.attention("\(prefix).attention.core", batch: microBatch, heads: config.heads, kvHeads: config.kvHeads,
                              queryLength: config.sequence, keyLength: config.sequence, headDim: config.headDim,
                              maskedFraction: 0.5, precision: precision),
            OpCosts.gemm("\(prefix).attention.out", m: tokens, n: h, k: h, bias: bias, precision: precision),
            OpCosts.add("\(prefix).attention_residual", elements: tokens * h, precision: precision),
            norm("\(prefix).mlp_norm"),
        ]
        switch config.family {
        case .gpt:
            ops += [
                OpCosts.gemm("\(prefix).mlp.fc1", m: tokens, n: f, k: h, bias: true, precision: precision),
                OpCosts.gelu("\(prefix).mlp.act", elements: tokens * f, precision: precision),
                OpCosts.gemm("\(prefix).mlp.fc2", m: tokens, n: h, k: f, bias: true, precision: precision),
            ]
        case .llama:
            var up = OpCosts.gemm("\(prefix).mlp.up", m: tokens, n: f, k: h, bias: false, precision: precision)
            up.savedBytes = 0  // gate already holds the shared input
            ops += [
                OpCosts.gemm("\(prefix).mlp.gate", m: tokens, n: f, k: h, bias: false, precision: precision),
                up,
                OpCosts.swiglu("\(prefix).mlp.act", elements: tokens * f, precision: precision),
                OpCosts.gemm("\(prefix).mlp.down", m: tokens, n: h, k: f, bias: false, precision: precision),
            ]
        }
        ops.append(OpCosts.add("\(prefix).mlp_residual", elements: tokens * h, precision: precision))
        return ops
    }

    private func norm(_ name: String) -> Op {
        OpCosts.norm(name, tokens: microBatch * config.sequence, hidden: config.hidden, layerNorm: config.family == .gpt,
                     precision: precision)
    }
}

extension Op {
    /// The same op sharing another op's weights (a tied head).
    public func withoutParameters() -> Op {
        var copy = self
        copy.parameters = 0
        return copy
    }
}

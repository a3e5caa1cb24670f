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
        var ops: [Op] = []
        let tokens = Double(microBatch * config.sequence)
        let h = Double(config.hidden), v = Double(config.vocabulary), e = precision.bytesPerElement
        let positionRows = config.family == .gpt ? config.sequence : 0

        ops.append(Op(
            name: "embedding", family: .embedding,
            // Gather one row per token (GPT also adds its position row), write the result.
            forward: Work(flops: tokens * h, bytes: (positionRows > 0 ? 4 : 2) * tokens * h * e, precision: precision),
            // Scatter-add the output gradient into the table(s).
            backward: Work(flops: 2 * tokens * h, bytes: (positionRows > 0 ? 4 : 2) * tokens * h * e, precision: precision),
            savedBytes: Int64(tokens) * 8,
            parameters: Int64(config.vocabulary + positionRows) * Int64(config.hidden)))

        for layer in 0..<config.layers {
            ops += layerOps(prefix: "layers[\(layer)]")
        }

        ops.append(norm("final_norm"))
        let head = gemm("head", m: Int(tokens), n: config.vocabulary, k: config.hidden, bias: false)
        ops.append(config.tiedEmbeddings ? head.withoutParameters() : head)
        ops.append(Op(
            name: "loss", family: .crossEntropy,
            // Log-softmax in fp32 over the vocabulary: read logits, write fp32 log-probabilities
            // kept for backward, which reads them and writes the logits' gradient.
            forward: Work(flops: 5 * tokens * v, bytes: tokens * v * (e + 4), precision: .fp32),
            backward: Work(flops: 2 * tokens * v, bytes: tokens * v * (4 + e), precision: .fp32),
            savedBytes: Int64(tokens * v * 4),
            parameters: 0))
        return ops
    }

    private func layerOps(prefix: String) -> [Op] {
        let tokens = microBatch * config.sequence
        let h = config.hidden, f = config.ffnHidden
        let bias = config.family == .gpt
        let qkvWidth = (config.heads + 2 * config.kvHeads) * config.headDim
        var ops = [
            norm("\(prefix).attention_norm"),
            gemm("\(prefix).attention.qkv", m: tokens, n: qkvWidth, k: h, bias: bias),
            attention("\(prefix).attention.core"),
            gemm("\(prefix).attention.out", m: tokens, n: h, k: h, bias: bias),
            add("\(prefix).attention_residual", elements: tokens * h),
            norm("\(prefix).mlp_norm"),
        ]
        switch config.family {
        case .gpt:
            ops += [
                gemm("\(prefix).mlp.fc1", m: tokens, n: f, k: h, bias: true),
                gelu("\(prefix).mlp.act", elements: tokens * f),
                gemm("\(prefix).mlp.fc2", m: tokens, n: h, k: f, bias: true),
            ]
        case .llama:
            var up = gemm("\(prefix).mlp.up", m: tokens, n: f, k: h, bias: false)
            up.savedBytes = 0  // gate already holds the shared input
            ops += [
                gemm("\(prefix).mlp.gate", m: tokens, n: f, k: h, bias: false),
                up,
                swiglu("\(prefix).mlp.act", elements: tokens * f),
                gemm("\(prefix).mlp.down", m: tokens, n: h, k: f, bias: false),
            ]
        }
        ops.append(add("\(prefix).mlp_residual", elements: tokens * h))
        return ops
    }

    /// A linear layer `[m, k] × [k, n]`. Backward is the input gradient `[m, n] × [n, k]`
    /// plus the weight gradient `[k, m] × [m, n]`: twice the forward FLOPs. It saves its input.
    func gemm(_ name: String, m: Int, n: Int, k: Int, bias: Bool) -> Op {
        let (m, n, k) = (Double(m), Double(n), Double(k))
        let e = precision.bytesPerElement
        let forwardBytes = (m * k + k * n + m * n) * e
        let backwardBytes = ((m * n + n * k + m * k) + (m * k + m * n + k * n)) * e
        return Op(
            name: name, family: .gemm(m: Int(m), n: Int(n), k: Int(k)),
            forward: Work(flops: 2 * m * n * k, bytes: forwardBytes, precision: precision),
            backward: Work(flops: 4 * m * n * k, bytes: backwardBytes, precision: precision),
            savedBytes: Int64(m * k * e),
            parameters: Int64(k * n) + (bias ? Int64(n) : 0))
    }

    /// Causal flash attention (Dao et al. 2022). The causal mask halves the score work:
    /// forward is two products of 2·b·s²·h FLOPs each, halved; backward recomputes the
    /// scores and does four more products, 2.5 × forward. It saves Q, K, V (K and V with
    /// `kvHeads` heads under grouped-query attention) and the fp32 log-sum-exp.
    func attention(_ name: String) -> Op {
        let b = Double(microBatch), s = Double(config.sequence), h = Double(config.hidden)
        let heads = Double(config.heads), e = precision.bytesPerElement
        let tokens = b * s
        let kvWidth = Double(config.kvHeads * config.headDim)
        let qkvBytes = tokens * (h + 2 * kvWidth) * e
        let forwardFLOPs = 0.5 * 4 * b * s * s * h
        let logSumExpBytes = b * heads * s * 4
        return Op(
            name: name,
            family: .attention(batch: microBatch, heads: config.heads, sequence: config.sequence,
                               headDim: config.headDim, causal: true),
            // Read Q, K, V; write the output and the log-sum-exp.
            forward: Work(flops: forwardFLOPs, bytes: qkvBytes + tokens * h * e + logSumExpBytes, precision: precision),
            // Read Q, K, V, the output and its gradient; write the gradients of Q, K, V.
            backward: Work(flops: 2.5 * forwardFLOPs, bytes: 2 * qkvBytes + 2 * tokens * h * e + logSumExpBytes,
                           precision: precision),
            savedBytes: Int64(qkvBytes + logSumExpBytes),
            parameters: 0)
    }

    /// LayerNorm (GPT) or RMSNorm (LLaMA) over the hidden size. Saves its input and fp32
    /// statistics per token (mean and inverse deviation; RMSNorm only the latter); owns a
    /// scale (and, for LayerNorm, a shift).
    func norm(_ name: String) -> Op {
        let tokens = Double(microBatch * config.sequence), h = Double(config.hidden)
        let e = precision.bytesPerElement
        let layerNorm = config.family == .gpt
        let statistics = layerNorm ? 2.0 : 1.0
        let vectors = layerNorm ? 2 : 1
        return Op(
            name: name, family: layerNorm ? .layerNorm : .rmsNorm,
            forward: Work(flops: (layerNorm ? 8 : 4) * tokens * h, bytes: 2 * tokens * h * e + Double(vectors) * h * e,
                          precision: .fp32),
            backward: Work(flops: (layerNorm ? 12 : 8) * tokens * h, bytes: 3 * tokens * h * e + 2 * Double(vectors) * h * e,
                           precision: .fp32),
            savedBytes: Int64(tokens * h * e + statistics * tokens * 4),
            parameters: Int64(vectors * config.hidden))
    }

    /// The tanh-approximated GELU: saves its input.
    func gelu(_ name: String, elements: Int) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(
            name: name, family: .gelu,
            forward: Work(flops: 10 * n, bytes: 2 * n * e, precision: .fp32),
            backward: Work(flops: 14 * n, bytes: 3 * n * e, precision: .fp32),
            savedBytes: Int64(n * e),
            parameters: 0)
    }

    /// SwiGLU's gating, silu(gate) · up (Shazeer 2020): reads two inputs, writes one;
    /// saves both inputs.
    func swiglu(_ name: String, elements: Int) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(
            name: name, family: .swiglu,
            forward: Work(flops: 6 * n, bytes: 3 * n * e, precision: .fp32),
            backward: Work(flops: 12 * n, bytes: 5 * n * e, precision: .fp32),
            savedBytes: Int64(2 * n * e),
            parameters: 0)
    }

    /// A residual addition: reads two tensors, writes one; backward passes the gradient on.
    func add(_ name: String, elements: Int) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(
            name: name, family: .add,
            forward: Work(flops: n, bytes: 3 * n * e, precision: .fp32),
            backward: Work(flops: n, bytes: 3 * n * e, precision: .fp32),
            savedBytes: 0,
            parameters: 0)
    }
}

extension Op {
    /// The same op sharing another op's weights (a tied head).
    func withoutParameters() -> Op {
        var copy = self
        copy.parameters = 0
        return copy
    }
}

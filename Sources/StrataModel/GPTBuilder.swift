import StrataCore

/// Expands a GPT into its operations for one micro-batch, with exact FLOPs, memory traffic
/// and saved activations for each.
///
/// Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
/// Transformer Models"), table 2, with flash attention (no s×s score matrix is stored,
/// only the log-sum-exp) and no dropout: 32·s·b·h bytes per layer in 16-bit precision,
/// where their count with dropout masks is 34·s·b·h.
public struct GPTBuilder: Sendable {
    public var config: GPTConfig
    public var microBatch: Int
    /// The precision of weights, activations and the arithmetic of matrix products.
    public var precision: Precision

    public init(config: GPTConfig, microBatch: Int, precision: Precision) {
        self.config = config
        self.microBatch = microBatch
        self.precision = precision
    }

    /// All operations of one micro-batch in forward order.
    public func ops() -> [Op] {
        var ops: [Op] = []
        let tokens = Double(microBatch * config.sequence)
        let h = Double(config.hidden), v = Double(config.vocabulary), e = precision.bytesPerElement

        ops.append(Op(
            name: "embedding", family: .embedding,
            // Gather one row per token from the token table, add the position row, write.
            forward: Work(flops: tokens * h, bytes: 4 * tokens * h * e, precision: precision),
            // Scatter-add the output gradient into both tables.
            backward: Work(flops: 2 * tokens * h, bytes: 4 * tokens * h * e, precision: precision),
            savedBytes: Int64(tokens) * 8,
            parameters: Int64(config.vocabulary + config.sequence) * Int64(config.hidden)))

        for layer in 0..<config.layers {
            ops += layerOps(prefix: "layers[\(layer)]")
        }

        ops.append(layerNorm("final_norm"))
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
        return [
            layerNorm("\(prefix).attention_norm"),
            gemm("\(prefix).attention.qkv", m: tokens, n: 3 * h, k: h, bias: true),
            attention("\(prefix).attention.core"),
            gemm("\(prefix).attention.out", m: tokens, n: h, k: h, bias: true),
            add("\(prefix).attention_residual", elements: tokens * h),
            layerNorm("\(prefix).mlp_norm"),
            gemm("\(prefix).mlp.fc1", m: tokens, n: f, k: h, bias: true),
            gelu("\(prefix).mlp.gelu", elements: tokens * f),
            gemm("\(prefix).mlp.fc2", m: tokens, n: h, k: f, bias: true),
            add("\(prefix).mlp_residual", elements: tokens * h),
        ]
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
    /// scores and does four more products, 2.5 × forward. It saves Q, K, V and the
    /// log-sum-exp (fp32, one per row and head).
    func attention(_ name: String) -> Op {
        let b = Double(microBatch), s = Double(config.sequence), h = Double(config.hidden)
        let heads = Double(config.heads), e = precision.bytesPerElement
        let tokens = b * s
        let forwardFLOPs = 0.5 * 4 * b * s * s * h
        let logSumExpBytes = b * heads * s * 4
        return Op(
            name: name,
            family: .attention(batch: microBatch, heads: config.heads, sequence: config.sequence,
                               headDim: config.headDim, causal: true),
            forward: Work(flops: forwardFLOPs, bytes: 4 * tokens * h * e + logSumExpBytes, precision: precision),
            backward: Work(flops: 2.5 * forwardFLOPs, bytes: 8 * tokens * h * e + logSumExpBytes, precision: precision),
            savedBytes: Int64(3 * tokens * h * e + logSumExpBytes),
            parameters: 0)
    }

    /// LayerNorm over the hidden size: saves its input (and fp32 mean and inverse
    /// standard deviation per token); owns a scale and a shift.
    func layerNorm(_ name: String) -> Op {
        let tokens = Double(microBatch * config.sequence), h = Double(config.hidden)
        let e = precision.bytesPerElement
        return Op(
            name: name, family: .layerNorm,
            forward: Work(flops: 8 * tokens * h, bytes: 2 * tokens * h * e + 2 * h * e, precision: .fp32),
            backward: Work(flops: 12 * tokens * h, bytes: 3 * tokens * h * e + 4 * h * e, precision: .fp32),
            savedBytes: Int64(tokens * h * e + 2 * tokens * 4),
            parameters: Int64(2 * config.hidden))
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

import StrataCore

/// The cost formulas of every op kind, on explicit (possibly partitioned) shapes: FLOPs,
/// bytes moved, activation bytes saved for backward, and parameters owned.
///
/// `TransformerBuilder` applies them to whole ops; the compiler applies them to the
/// shard one GPU computes, so partitioning never changes a formula, only its inputs.
public enum OpCosts {
    /// A linear layer `[m, k] × [k, n]`. Backward is the input gradient `[m, n] × [n, k]`
    /// plus the weight gradient `[k, m] × [m, n]`: twice the forward FLOPs. It saves its input.
    public static func gemm(_ name: String, m: Int, n: Int, k: Int, bias: Bool, precision: Precision) -> Op {
        let (m, n, k) = (Double(m), Double(n), Double(k))
        let e = precision.bytesPerElement
        let forwardBytes = (m * k + k * n + m * n) * e
        let backwardBytes = ((m * n + n * k + m * k) + (m * k + m * n + k * n)) * e
        var op = Op(
            name: name, family: .gemm(m: Int(m), n: Int(n), k: Int(k)),
            forward: Work(flops: 2 * m * n * k, bytes: forwardBytes, precision: precision),
            backward: Work(flops: 4 * m * n * k, bytes: backwardBytes, precision: precision),
            savedBytes: Int64(m * k * e),
            parameters: Int64(k * n) + (bias ? Int64(n) : 0))
        op.hasBias = bias
        return op
    }

    /// The experts of one GPU as one grouped GEMM: expert *i* multiplies `tokens[i]` rows
    /// by its own `[k, n]` weight. Weights may be stored narrower than activations
    /// (`weightPrecision` int4 for w4a16); arithmetic runs in `computePrecision`.
    public static func groupedGemm(_ name: String, tokens: [Int], n: Int, k: Int, bias: Bool,
                                   weightPrecision: Precision, activationPrecision: Precision,
                                   computePrecision: Precision) -> Op {
        let rows = Double(tokens.reduce(0, +)), experts = Double(tokens.count)
        let (n, k) = (Double(n), Double(k))
        let a = activationPrecision.bytesPerElement, w = weightPrecision.bytesPerElement
        let weights = experts * k * n * w
        let forwardBytes = (rows * k + rows * n) * a + weights
        let backwardBytes = 2 * (rows * k + rows * n) * a + 2 * weights + experts * k * n * a
        return Op(
            name: name, family: .groupedGemm(tokens: tokens, n: Int(n), k: Int(k)),
            forward: Work(flops: 2 * rows * n * k, bytes: forwardBytes, precision: computePrecision),
            backward: Work(flops: 4 * rows * n * k, bytes: backwardBytes, precision: computePrecision),
            savedBytes: Int64(rows * k * a),
            parameters: Int64(experts * k * n) + (bias ? Int64(experts * n) : 0))
    }

    /// Flash attention (Dao et al. 2022) of `heads` query heads over `queryLength` query
    /// and `keyLength` key positions per sequence, `kvHeads` key/value heads of `headDim`.
    /// `maskedFraction` is the share of the score matrix computed: 1/2 for a causal mask
    /// over the whole sequence. Backward recomputes the scores and does four more
    /// products, 2.5 × forward. It saves Q, K, V and the fp32 log-sum-exp.
    public static func attention(_ name: String, batch: Int, heads: Int, kvHeads: Int, queryLength: Int, keyLength: Int,
                                 headDim: Int, maskedFraction: Double, precision: Precision) -> Op {
        let b = Double(batch), q = Double(queryLength), kv = Double(keyLength), d = Double(headDim)
        let e = precision.bytesPerElement
        let queryBytes = b * q * Double(heads) * d * e
        let keyValueBytes = 2 * b * kv * Double(kvHeads) * d * e
        let outputBytes = queryBytes
        let forwardFLOPs = maskedFraction * 4 * b * Double(heads) * q * kv * d
        let logSumExpBytes = b * Double(heads) * q * 4
        return Op(
            name: name,
            family: .attention(batch: batch, heads: heads, kvHeads: kvHeads, sequence: queryLength, headDim: headDim,
                               causal: maskedFraction < 1),
            // Read Q, K, V; write the output and the log-sum-exp.
            forward: Work(flops: forwardFLOPs, bytes: queryBytes + keyValueBytes + outputBytes + logSumExpBytes, precision: precision),
            // Read Q, K, V, the output and its gradient; write the gradients of Q, K, V.
            backward: Work(flops: 2.5 * forwardFLOPs, bytes: 2 * (queryBytes + keyValueBytes) + 2 * outputBytes + logSumExpBytes,
                           precision: precision),
            savedBytes: Int64(queryBytes + keyValueBytes + logSumExpBytes),
            parameters: 0)
    }

    /// LayerNorm or RMSNorm over `hidden`. Saves its input and fp32 statistics per token
    /// (mean and inverse deviation; RMSNorm only the latter); owns a scale (and, for
    /// LayerNorm, a shift).
    public static func norm(_ name: String, tokens: Int, hidden: Int, layerNorm: Bool, precision: Precision) -> Op {
        let t = Double(tokens), h = Double(hidden), e = precision.bytesPerElement
        let statistics = layerNorm ? 2.0 : 1.0
        let vectors = layerNorm ? 2.0 : 1.0
        return Op(
            name: name, family: layerNorm ? .layerNorm(tokens: tokens, hidden: hidden) : .rmsNorm(tokens: tokens, hidden: hidden),
            forward: Work(flops: (layerNorm ? 8 : 4) * t * h, bytes: 2 * t * h * e + vectors * h * e, precision: .fp32),
            backward: Work(flops: (layerNorm ? 12 : 8) * t * h, bytes: 3 * t * h * e + 2 * vectors * h * e, precision: .fp32),
            savedBytes: Int64(t * h * e + statistics * t * 4),
            parameters: Int64(vectors * h))
    }

    /// The tanh-approximated GELU over `elements`: saves its input.
    public static func gelu(_ name: String, elements: Int, precision: Precision) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(name: name, family: .gelu,
                  forward: Work(flops: 10 * n, bytes: 2 * n * e, precision: .fp32),
                  backward: Work(flops: 14 * n, bytes: 3 * n * e, precision: .fp32),
                  savedBytes: Int64(n * e), parameters: 0)
    }

    /// SwiGLU's gating, silu(gate) · up (Shazeer 2020), over `elements` outputs: reads two
    /// inputs, writes one. Keeps three tensors of its width, as eager PyTorch's
    /// `F.silu(gate) * up` does: the gate for SiLU's backward, and silu(gate) and up for the
    /// product's (a fused kernel keeps two; docs/accuracy.md, "Memory: what autograd keeps").
    public static func swiglu(_ name: String, elements: Int, precision: Precision) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(name: name, family: .swiglu,
                  forward: Work(flops: 6 * n, bytes: 3 * n * e, precision: .fp32),
                  backward: Work(flops: 12 * n, bytes: 5 * n * e, precision: .fp32),
                  savedBytes: Int64(3 * n * e), parameters: 0)
    }

    /// Dropout over `elements` (Srivastava et al. 2014): reads the input, writes the output
    /// and a one-byte mask, which backward reads to mask the gradient.
    public static func dropout(_ name: String, elements: Int, precision: Precision) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(name: name, family: .dropout,
                  forward: Work(flops: 2 * n, bytes: n * (2 * e + 1), precision: .fp32),
                  backward: Work(flops: n, bytes: n * (2 * e + 1), precision: .fp32),
                  savedBytes: Int64(n), parameters: 0)
    }

    /// A residual addition: reads two tensors, writes one; backward passes the gradient on.
    public static func add(_ name: String, elements: Int, precision: Precision) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(name: name, family: .add,
                  forward: Work(flops: n, bytes: 3 * n * e, precision: .fp32),
                  backward: Work(flops: n, bytes: 3 * n * e, precision: .fp32),
                  savedBytes: 0, parameters: 0)
    }

    /// `bytes` read from one device buffer and written to another, the same forward and
    /// backward: FSDP2's copy of an all-gather's flat output into the unit's parameter
    /// tensors before the unit runs (`split_with_sizes_copy`), and of the unsharded
    /// gradients into the reduce-scatter's flat input (`chunk_cat`). Priced on the
    /// device copy's measured bandwidth.
    public static func copy(_ name: String, bytes: Int64) -> Op {
        copy(name, read: Double(bytes), written: Double(bytes))
    }

    /// A copy that changes the element size on the way: `read` bytes in, `written` out (the
    /// optimizer's casts between 16-bit tensors and fp32 masters).
    public static func copy(_ name: String, read: Double, written: Double) -> Op {
        let work = Work(flops: 0, bytes: read + written, precision: .fp32)
        return Op(name: name, family: .copy, forward: work, backward: work, savedBytes: 0, parameters: 0)
    }

    /// The token embedding (and, for GPT, the learned positions): gather one row per token
    /// from `vocabularyRows` rows, add the position row, write. Backward writes each table's
    /// gradient dense, as PyTorch's and Megatron-LM's (vocabulary-parallel) embeddings do:
    /// zero all `vocabularyRows` (and `positionRows`) rows, then scatter-add the tokens'
    /// output gradients into them. So backward moves the whole table twice however few
    /// tokens there are: LLaMA-3's 128,256 × 2,048 rows are 1 GB a micro-batch. Bytes count
    /// as `scripts/profile/elementwise.py` counts them for the measured `embedding` rows
    /// (8-byte token ids read, rows read and written; backward: ids and output gradient
    /// read, the dense gradient zeroed and written), since the measured bandwidth is read
    /// off at this byte count.
    public static func embedding(_ name: String, tokens: Int, hidden: Int, vocabularyRows: Int, positionRows: Int,
                                 precision: Precision) -> Op {
        let t = Double(tokens), h = Double(hidden), e = precision.bytesPerElement
        let lookups: Double = positionRows > 0 ? 2 : 1
        let tableRows = Double(vocabularyRows + positionRows)
        return Op(name: name, family: .embedding,
                  forward: Work(flops: t * h, bytes: lookups * (8 * t + 2 * t * h * e), precision: precision),
                  backward: Work(flops: 2 * t * h, bytes: lookups * (8 * t + t * h * e) + 2 * tableRows * h * e,
                                 precision: precision),
                  savedBytes: Int64(t) * 8,
                  parameters: Int64(vocabularyRows + positionRows) * Int64(hidden))
    }

    /// Cross-entropy over `vocabulary` logits per token: log-softmax in fp32, whose
    /// log-probabilities are kept for backward, which writes the logits' gradient. The
    /// fp32 temporaries are its workspace: at large vocabularies they set the peak.
    /// With the vocabulary split over tensor-parallel GPUs (`vocabularyParallel`), the
    /// backward works in place on the kept probabilities, as Megatron-LM's vocab-parallel
    /// cross-entropy does, and holds only the 16-bit cast of the gradient beside them.
    public static func crossEntropy(_ name: String, tokens: Int, vocabulary: Int, precision: Precision,
                                    vocabularyParallel: Bool = false) -> Op {
        let t = Double(tokens), v = Double(vocabulary), e = precision.bytesPerElement
        var op = Op(name: name, family: .crossEntropy,
                    forward: Work(flops: 5 * t * v, bytes: t * v * (e + 4), precision: .fp32),
                    backward: Work(flops: 2 * t * v, bytes: t * v * (4 + e), precision: .fp32),
                    savedBytes: Int64(t * v * 4), parameters: 0)
        // While it runs, forward holds the logits' fp32 copy beside the log-probabilities it
        // keeps (the head's 16-bit logits are freed once copied: nothing else keeps them);
        // backward the fp32 gradients of the log-probabilities and of the logits, beside the
        // kept log-probabilities (PyTorch's F.cross_entropy on logits.float(): the
        // log-softmax's backward). The 16-bit cast of the logits' gradient comes after that
        // node has freed both the log-probabilities and their gradient, so it adds nothing
        // to the op's high-water mark. Measured on the runner: 4 bytes a logit over what
        // the forward keeps in forward, 8 in backward (docs/accuracy.md).
        op.forwardWorkspace = Int64(t * v * 4)
        op.backwardWorkspace = Int64(t * v * (vocabularyParallel ? e : 4 + 4))
        return op
    }

    /// Rotary embeddings on `elements` query and key values: each read and written once
    /// (what a fused kernel moves; an eager implementation's extra traffic is in its
    /// measured bandwidth); backward rotates the gradients the same way. The rotation
    /// keeps nothing of its own (its cos and sin are tables), but it writes the rotated
    /// queries and keys as new tensors while the fused QKV product's output they were cut
    /// from stays alive: the value, a view of that output, is kept for attention's
    /// backward, and a view keeps its whole buffer. So the unrotated queries and keys
    /// stay until the backward too, `elements` more kept values (measured on the runner:
    /// docs/accuracy.md, "Memory: what autograd keeps").
    public static func rope(_ name: String, elements: Int, precision: Precision) -> Op {
        let n = Double(elements), e = precision.bytesPerElement
        return Op(name: name, family: .rope,
                  forward: Work(flops: 3 * n, bytes: 2 * n * e, precision: .fp32),
                  backward: Work(flops: 3 * n, bytes: 2 * n * e, precision: .fp32),
                  savedBytes: Int64(n * e), parameters: 0)
    }

    /// A MoE layer's permutation into expert order: the router's softmax over `tokens ×
    /// experts` logits (fp32), and every one of the `assignments` rows of `hidden` values
    /// gathered from its token; backward scatter-adds the rows' gradients back. Every MoE
    /// implementation moves these bytes (Megatron-LM's permute, torchtitan's index ops).
    public static func moePermute(_ name: String, tokens: Int, experts: Int, assignments: Int, hidden: Int,
                                  precision: Precision) -> Op {
        let rows = Double(assignments) * Double(hidden), e = precision.bytesPerElement
        let logits = Double(tokens) * Double(experts)
        let work = Work(flops: 5 * logits, bytes: 2 * rows * e + 8 * logits, precision: .fp32)
        return Op(name: name, family: .moePermute, forward: work, backward: work, savedBytes: 0, parameters: 0)
    }

    /// The way back: each of the `assignments` expert output rows scaled by its gate weight
    /// and added into its token's row of `tokens × hidden`. The scaled rows' inputs are
    /// kept for the gate weights' gradient.
    public static func moeUnpermute(_ name: String, tokens: Int, assignments: Int, hidden: Int, precision: Precision) -> Op {
        let rows = Double(assignments) * Double(hidden), e = precision.bytesPerElement
        let work = Work(flops: 2 * rows, bytes: 3 * rows * e + Double(tokens) * Double(hidden) * e, precision: .fp32)
        return Op(name: name, family: .moeUnpermute, forward: work, backward: work, savedBytes: Int64(rows * e), parameters: 0)
    }

    /// Adding a micro-batch's gradient of `parameters` values to the kept one: read both,
    /// write the sum (PyTorch's AccumulateGrad; fused into the weight-gradient product by
    /// Megatron-LM's gradient_accumulation_fusion, where this op does not appear).
    public static func gradientAccumulation(_ name: String, parameters: Int64, precision: Precision) -> Op {
        let n = Double(parameters), e = precision.bytesPerElement
        let work = Work(flops: n, bytes: 3 * n * e, precision: .fp32)
        return Op(name: name, family: .gradientAccumulation, forward: work, backward: work, savedBytes: 0, parameters: 0)
    }
}

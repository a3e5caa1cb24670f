/// One unit of pipeline work on a stage: one pass of one micro-batch through one model chunk.
///
/// With `p` stages and `v` virtual stages the model is cut into `p·v` chunks; chunk `c` runs on
/// stage `c % p`, so stage `s` holds chunks `s, s + p, s + 2p, …` (Narayanan et al. 2021, §2.2).
/// A micro-batch's forward visits chunks `0, 1, …, p·v − 1` in order and its backward visits
/// them in reverse.
public struct PipelineAction: Hashable, Sendable, CustomStringConvertible {
    /// The kind of pass. GPipe, 1F1B and interleaved 1F1B run one combined backward pass;
    /// ZB-H1 (Qi et al. 2024, §2) splits it into an input-gradient pass, on the critical path
    /// because the previous chunk waits for it, and a weight-gradient pass that nothing waits
    /// for and that the schedule places to fill bubbles.
    public enum Pass: String, Hashable, Sendable {
        /// The forward pass.
        case forward = "F"
        /// The whole backward pass: input and weight gradients together.
        case backward = "B"
        /// The gradient with respect to the chunk's input; "B" in the zero-bubble paper, "I" as
        /// in PyTorch's `torch.distributed.pipelining` so that it differs from the whole backward.
        case backwardInput = "I"
        /// The gradient with respect to the chunk's weights ("W" in the zero-bubble paper).
        case backwardWeight = "W"
    }

    /// Which pass.
    public var pass: Pass
    /// The micro-batch, from 0.
    public var microBatch: Int
    /// The model chunk, from 0 to `p·v − 1`, numbered along the model (not local to the stage).
    public var chunk: Int

    /// An action of `pass` on `microBatch` through `chunk`.
    public init(_ pass: Pass, microBatch: Int, chunk: Int) {
        self.pass = pass
        self.microBatch = microBatch
        self.chunk = chunk
    }

    /// `F3.4`: the pass letter, the micro-batch and, after the dot, the chunk.
    public var description: String { "\(pass.rawValue)\(microBatch).\(chunk)" }
}

/// The order in which each pipeline stage runs its passes, as drawn in the papers that define
/// each `PipelineSchedule` and as run by Megatron-LM and PyTorch.
///
/// The orders are static: they say what a stage does next, not when. A stage runs its list in
/// order, each action starting once the stage is free and the action's inputs have arrived
/// (the forward of the previous chunk, the backward of the next one), which is how Megatron's
/// blocking sends and receives behave.
public enum PipelineScheduler {
    /// The actions each stage runs, in order (index = stage).
    ///
    /// - `.gpipe` (Huang et al. 2019, figure 2c): every forward in micro-batch order, then every
    ///   backward in reverse micro-batch order, as the figure draws it (`B3 B2 B1 B0`: the last
    ///   micro-batch's activations are the freshest). PyTorch's `ScheduleGPipe` runs the
    ///   backwards in increasing order instead; the bubble is the same either way.
    /// - `.oneFOneB`, PipeDream-Flush (Narayanan et al. 2021, figure 4 top; Megatron-LM's
    ///   `forward_backward_pipelining_without_interleaving`): stage `s` runs
    ///   `w = min(p − s − 1, m)` warm-up forwards, then `m − w` steps of one forward and one
    ///   backward, then `w` cool-down backwards. At most `p − s` micro-batches are in flight.
    /// - `.interleaved` (Narayanan et al. 2021, figure 4 bottom; Megatron-LM's
    ///   `forward_backward_pipelining_with_interleaving`): the `m·v` (micro-batch, chunk) pairs
    ///   of a stage are numbered by a virtual index `k`; forward `k` runs local chunk
    ///   `(k mod p·v) / p` on micro-batch `(k / p·v)·p + k mod p` (groups of `p` micro-batches
    ///   per chunk), and backward `k` the same micro-batch through local chunk
    ///   `v − 1 − (k mod p·v) / p`. Stage `s` runs `w = min(2(p − s − 1) + (v − 1)·p, m·v)`
    ///   warm-up forwards, then `m·v − w` steps of forward `k + w` and backward `k`, then the
    ///   remaining backwards. Requires `m % p == 0`. This is Megatron-Core's rule; the 2021
    ///   code instead ran all forwards first whenever `m == p`.
    /// - `.zeroBubble`, the handcrafted ZB-H1 (Qi et al. 2024, §2, figure 3 top; PyTorch's
    ///   `_get_1f1b_rank_ops` with `enable_zero_bubble`): 1F1B's order with each backward
    ///   split into `I` then `W`, and stage `s` keeping the weight passes of its `s` most
    ///   recent backwards pending, running each `W` (oldest first) once more than `s` are
    ///   pending and the rest at the end. The pending `W`s fill the cool-down: with
    ///   `F = I = W` the bubble is `(p − 1)·F` instead of 1F1B's `3(p − 1)·F` when `m ≥ p`,
    ///   with the same `p − s` micro-batches in flight between `F` and `I`.
    ///
    /// - Precondition: `stages ≥ 1`, `microBatches ≥ 1`, `virtualStages ≥ 1`;
    ///   `virtualStages == 1` except for `.interleaved`, which needs `microBatches % stages == 0`.
    /// - Complexity: O(p·m·v) time and space.
    public static func actions(
        _ schedule: PipelineSchedule, stages: Int, microBatches: Int, virtualStages: Int
    ) -> [[PipelineAction]] {
        let (p, m, v) = (stages, microBatches, virtualStages)
        precondition(p >= 1 && m >= 1 && v >= 1, "stages, micro-batches and virtual stages must be at least 1")
        precondition(
            schedule == .interleaved || v == 1,
            "\(schedule.rawValue) runs one chunk per stage; only interleaved_1f1b takes virtual stages")
        switch schedule {
        case .gpipe: return (0..<p).map { gpipe(stage: $0, microBatches: m) }
        case .oneFOneB: return (0..<p).map { oneFOneB(stage: $0, stages: p, microBatches: m) }
        case .zeroBubble: return (0..<p).map { zeroBubbleH1(stage: $0, stages: p, microBatches: m) }
        case .interleaved:
            precondition(
                m % p == 0,
                "interleaved_1f1b needs the micro-batches (\(m)) to be a multiple of the stages (\(p))")
            return (0..<p).map { interleaved(stage: $0, stages: p, microBatches: m, virtualStages: v) }
        }
    }

    /// Huang et al. 2019, figure 2c: all forwards, then all backwards, latest micro-batch first.
    private static func gpipe(stage s: Int, microBatches m: Int) -> [PipelineAction] {
        (0..<m).map { PipelineAction(.forward, microBatch: $0, chunk: s) }
            + (0..<m).reversed().map { PipelineAction(.backward, microBatch: $0, chunk: s) }
    }

    /// Stage `s`'s PipeDream-Flush order: warm-up forwards, 1F1B, cool-down backwards.
    private static func oneFOneB(stage s: Int, stages p: Int, microBatches m: Int) -> [PipelineAction] {
        let warmUp = min(p - s - 1, m)
        var order = (0..<warmUp).map { PipelineAction(.forward, microBatch: $0, chunk: s) }
        order.reserveCapacity(2 * m)
        for i in 0..<(m - warmUp) {
            order.append(PipelineAction(.forward, microBatch: warmUp + i, chunk: s))
            order.append(PipelineAction(.backward, microBatch: i, chunk: s))
        }
        for i in (m - warmUp)..<m { order.append(PipelineAction(.backward, microBatch: i, chunk: s)) }
        return order
    }

    /// Stage `s`'s ZB-H1 order: 1F1B with `I` for `B`, and the weight passes of the `s` most
    /// recent backwards held back until the cool-down, where they fill what 1F1B leaves idle.
    private static func zeroBubbleH1(stage s: Int, stages p: Int, microBatches m: Int) -> [PipelineAction] {
        let warmUp = min(p - s - 1, m)
        var order = (0..<warmUp).map { PipelineAction(.forward, microBatch: $0, chunk: s) }
        order.reserveCapacity(3 * m)
        var (inputGradients, weightGradients) = (0, 0)
        func backward() {
            order.append(PipelineAction(.backwardInput, microBatch: inputGradients, chunk: s))
            inputGradients += 1
            if inputGradients - weightGradients > s {
                order.append(PipelineAction(.backwardWeight, microBatch: weightGradients, chunk: s))
                weightGradients += 1
            }
        }
        for i in 0..<(m - warmUp) {
            order.append(PipelineAction(.forward, microBatch: warmUp + i, chunk: s))
            backward()
        }
        for _ in 0..<warmUp { backward() }
        for i in weightGradients..<m { order.append(PipelineAction(.backwardWeight, microBatch: i, chunk: s)) }
        return order
    }

    /// Stage `s`'s interleaved 1F1B order, following Megatron-LM's virtual micro-batch index:
    /// `get_model_chunk_id` for the chunk and groups of `p` micro-batches per chunk.
    private static func interleaved(
        stage s: Int, stages p: Int, microBatches m: Int, virtualStages v: Int
    ) -> [PipelineAction] {
        let total = m * v
        let group = p * v
        func action(_ pass: PipelineAction.Pass, _ k: Int) -> PipelineAction {
            let chunkInGroup = (k % group) / p
            let localChunk = pass == .forward ? chunkInGroup : v - 1 - chunkInGroup
            return PipelineAction(pass, microBatch: (k / group) * p + k % p, chunk: localChunk * p + s)
        }
        let warmUp = min(2 * (p - s - 1) + (v - 1) * p, total)
        var order = (0..<warmUp).map { action(.forward, $0) }
        order.reserveCapacity(2 * total)
        for k in 0..<(total - warmUp) {
            order.append(action(.forward, k + warmUp))
            order.append(action(.backward, k))
        }
        for k in (total - warmUp)..<total { order.append(action(.backward, k)) }
        return order
    }
}

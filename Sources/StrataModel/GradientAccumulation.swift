/// How each micro-batch's weight gradients join the gradients kept across micro-batches.
public enum GradientAccumulation: String, CaseIterable, Hashable, Sendable {
    /// PyTorch autograd's AccumulateGrad: a separate add kernel per parameter per
    /// micro-batch, reading the kept gradient and the new one and writing the sum.
    case add
    /// Megatron-LM's gradient_accumulation_fusion: the weight-gradient product writes into
    /// the kept gradient (β = 1), so accumulating costs no separate kernel.
    case fused
}

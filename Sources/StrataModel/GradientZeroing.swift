/// How the gradients kept across micro-batches start each iteration empty.
public enum GradientZeroing: String, CaseIterable, Hashable, Sendable {
    /// The kept gradients are written with zeros once an iteration, one memory-bound pass
    /// over their bytes, and every micro-batch's gradient is added to them: Megatron-LM's
    /// `zero_grad_buffer` on its contiguous gradient buffer, and PyTorch's
    /// `zero_grad(set_to_none=False)` or `torch._foreach_zero_`.
    case memset
    /// PyTorch's default `zero_grad(set_to_none=True)`: the gradients are dropped, so
    /// nothing is written, and the first micro-batch's gradient becomes the kept one
    /// without an add.
    case setToNone = "set_to_none"
}

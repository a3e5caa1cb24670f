/// What a column-parallel product keeps for its backward when sequence parallelism has
/// all-gathered its input: the frameworks differ, and both the memory and the backward's
/// collectives follow.
public enum SequenceParallelInputs: String, CaseIterable, Hashable, Sendable {
    /// Only this GPU's slice of the sequence, gathered again in the backward to compute the
    /// weight's gradient: Megatron-LM (Korthikanti et al. 2022, §4.2.2), 34·s·b·h/t bytes a
    /// layer.
    case sliced
    /// The gathered whole, as eager PyTorch's autograd keeps a product's input when the
    /// all-gather is its own autograd function (scripts/validate/run.py): two of a
    /// layer's inputs kept t times larger, and no all-gather in the backward.
    case gathered
}

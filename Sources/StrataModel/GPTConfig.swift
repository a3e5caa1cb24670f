/// The sizes of a GPT model (Radford et al. 2019; Brown et al. 2020): LayerNorm, GELU MLP,
/// multi-head attention, learned position embeddings.
public struct GPTConfig: Hashable, Sendable {
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// The MLP's inner size; 4 × hidden in GPT-2 and GPT-3.
    public var ffnHidden: Int
    public var vocabulary: Int
    public var sequence: Int
    /// Whether the output head reuses the token embedding's weights.
    public var tiedEmbeddings: Bool

    public init(layers: Int, hidden: Int, heads: Int, ffnHidden: Int, vocabulary: Int, sequence: Int, tiedEmbeddings: Bool) {
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.ffnHidden = ffnHidden
        self.vocabulary = vocabulary
        self.sequence = sequence
        self.tiedEmbeddings = tiedEmbeddings
    }

    public var headDim: Int { hidden / heads }
}

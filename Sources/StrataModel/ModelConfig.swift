import Foundation

/// The transformer families Strata models.
public enum ModelFamily: String, CaseIterable, Hashable, Sendable {
    /// GPT-2/GPT-3 (Radford et al. 2019; Brown et al. 2020): LayerNorm, GELU MLP,
    /// multi-head attention, learned position embeddings, tied embeddings.
    case gpt
    /// LLaMA (Touvron et al. 2023; Dubey et al. 2024): RMSNorm, SwiGLU MLP, grouped-query
    /// attention, rotary position embeddings, untied embeddings.
    case llama
}

/// How tokens choose experts, which sets the per-expert token counts of an MoE layer.
public enum RoutingDistribution: Hashable, Sendable {
    /// Every expert receives the same share.
    case uniform
    /// Expert *i* (0-based, sorted by popularity) receives a share ∝ 1 / (i + 1)^α.
    case zipf(alpha: Double)
    /// Measured shares from a file, one weight per expert; `path` as written in the strategy.
    case histogram(path: String, weights: [Double])

    /// The fraction of routed tokens each of `experts` experts receives (sums to 1).
    public func shares(experts: Int) -> [Double] {
        let raw: [Double] = switch self {
        case .uniform: Array(repeating: 1, count: experts)
        case let .zipf(alpha): (0..<experts).map { 1 / pow(Double($0 + 1), alpha) }
        case let .histogram(_, weights): weights
        }
        let total = raw.reduce(0, +)
        return raw.map { $0 / total }
    }
}

/// A mixture-of-experts MLP (Shazeer et al. 2017; Fedus et al. 2021; DeepSeek-AI 2024):
/// each token goes to `topK` of `experts` routed experts, plus every shared expert.
public struct MoEConfig: Hashable, Sendable {
    public var experts: Int
    public var topK: Int
    /// The inner size of one expert's MLP.
    public var expertFFN: Int
    public var sharedExperts: Int
    /// Tokens an expert accepts, as a multiple of its fair share; `nil` means no limit
    /// (dropless routing, as in Megablocks and DeepSeek-V3).
    public var capacityFactor: Double?
    /// Every `every`-th layer is MoE (1 = all), after the first `firstDense` dense layers.
    public var every: Int
    public var firstDense: Int
    public var routing: RoutingDistribution
    /// Seed of the routing draw, so per-expert token counts are reproducible.
    public var seed: Int

    public init(experts: Int, topK: Int, expertFFN: Int, sharedExperts: Int, capacityFactor: Double?,
                every: Int, firstDense: Int, routing: RoutingDistribution, seed: Int) {
        self.experts = experts
        self.topK = topK
        self.expertFFN = expertFFN
        self.sharedExperts = sharedExperts
        self.capacityFactor = capacityFactor
        self.every = every
        self.firstDense = firstDense
        self.routing = routing
        self.seed = seed
    }
}

/// The sizes of a transformer language model.
public struct ModelConfig: Hashable, Sendable {
    public var family: ModelFamily
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// Key/value heads: `heads` for multi-head attention, fewer for grouped-query attention.
    public var kvHeads: Int
    /// The dense MLP's inner size (for SwiGLU, the size of each of the gate and up projections).
    public var ffnHidden: Int
    public var vocabulary: Int
    public var sequence: Int
    /// Whether the output head reuses the token embedding's weights.
    public var tiedEmbeddings: Bool
    /// The MoE MLP, when the model has one.
    public var moe: MoEConfig?

    public init(family: ModelFamily, layers: Int, hidden: Int, heads: Int, kvHeads: Int, ffnHidden: Int,
                vocabulary: Int, sequence: Int, tiedEmbeddings: Bool, moe: MoEConfig? = nil) {
        self.family = family
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads
        self.ffnHidden = ffnHidden
        self.vocabulary = vocabulary
        self.sequence = sequence
        self.tiedEmbeddings = tiedEmbeddings
        self.moe = moe
    }

    public var headDim: Int { hidden / heads }

    /// Whether layer `index` has an MoE MLP.
    public func isMoELayer(_ index: Int) -> Bool {
        guard let moe else { return false }
        return index >= moe.firstDense && (index - moe.firstDense) % moe.every == 0
    }
}

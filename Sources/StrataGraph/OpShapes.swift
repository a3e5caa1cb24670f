import StrataCore
import StrataModel

/// Each op of the strategy tree as a whole (for parameter counts and memory) and as the
/// shard one GPU computes (for time), from the model's sizes and the op's layout.
struct OpShapes {
    let model: ModelConfig
    let tree: StrategyTree
    let mesh: Mesh
    let microBatch: Int
    let pipelined: Bool

    /// How many pieces `dimension` of op `index` is cut into on one GPU. The data-parallel
    /// split of tokens is already in the micro-batch (each replica runs its own), so only
    /// the other axes count for `tokens` and `batch`.
    func pieces(_ dimension: String, of index: Int) -> Int {
        guard let layout = tree.layouts[index] else { return 1 }
        let replicas = tree.attributes[index].dataParallel
        var axes = layout.axes(of: dimension).filter { dimension != "tokens" && dimension != "batch" || !replicas.contains($0) }
        // Routed experts: each tensor-parallel rank routes its own share of the tokens
        // (UnitLowering.moe) to whole experts, so the tensor axis splits tokens, not weights.
        if let tensor = tree.attributes[index].tensorParallel, isRoutedExpert(index) { axes.removeAll { $0 == tensor } }
        return mesh.size(of: axes)
    }

    /// Whether op `index` belongs to a routed expert (not the router or a shared expert).
    func isRoutedExpert(_ index: Int) -> Bool { tree.modules.hasAncestor(index, named: "experts") }

    /// How many GPUs compute op `index` identically: the mesh axes that neither split any of
    /// its dimensions, nor hold other data (data-parallel replicas), nor other layers (the
    /// pipeline). Routers and routed experts share tokens out over the tensor-parallel group
    /// themselves, so that axis does not replicate them.
    func replication(of index: Int, pipelineAxis: String?) -> Int {
        guard let layout = tree.layouts[index] else { return 1 }
        let a = tree.attributes[index]
        var used = Set(layout.splits.flatMap(\.axes)).union(a.dataParallel)
        if let pipelineAxis { used.insert(pipelineAxis) }
        if let tp = a.tensorParallel, tree.modules.nodes[index].name == "router" || isRoutedExpert(index) { used.insert(tp) }
        return mesh.axes.filter { !used.contains($0.name) }.reduce(1) { $0 * $1.size }
    }

    /// The inner size of the MLP an op belongs to.
    func innerSize(of path: String) -> Int {
        guard let moe = model.moe else { return model.ffnHidden }
        if path.contains(".experts[") { return moe.expertFFN }
        if path.contains(".shared_experts.") { return moe.expertFFN * moe.sharedExperts }
        return model.ffnHidden
    }

    /// Tokens of one micro-batch on one GPU for op `index`.
    func tokens(of index: Int) -> Int { microBatch * model.sequence / pieces("tokens", of: index) }

    /// The op as this GPU computes it (`expertTokens` for the experts of a MoE layer: the
    /// tokens each local expert receives).
    func local(_ index: Int, expertTokens: [Int]? = nil) -> Op {
        shape(index, local: true, expertTokens: expertTokens)
    }

    /// The whole op: its parameters are the model's.
    func whole(_ index: Int) -> Op { shape(index, local: false, expertTokens: nil) }

    private func shape(_ index: Int, local: Bool, expertTokens: [Int]?) -> Op {
        let node = tree.modules.nodes[index]
        guard case let .op(role) = node.kind else { preconditionFailure("\(tree.modules.path(of: index)) is not an op") }
        let path = tree.modules.path(of: index)
        let a = tree.attributes[index]
        let activations = a.precision.activations, compute = a.precision.compute
        let cut = { (dimension: String) in local ? pieces(dimension, of: index) : 1 }
        let tokens = local ? self.tokens(of: index) : microBatch * model.sequence
        let h = model.hidden, d = model.headDim
        let bias = model.family == .gpt
        switch role {
        case .embedding:
            return OpCosts.embedding(path, tokens: tokens, hidden: h, vocabularyRows: model.vocabulary / cut("vocab"),
                                     positionRows: model.family == .gpt ? model.sequence : 0, precision: activations)
        case .norm:
            return OpCosts.norm(path, tokens: tokens, hidden: h, layerNorm: model.family == .gpt, precision: activations)
        case .qkv:
            let heads = model.heads / cut("n"), kvHeads = max(1, model.kvHeads / cut("n"))
            return OpCosts.gemm(path, m: tokens, n: (heads + 2 * kvHeads) * d, k: h / cut("k"), bias: bias, precision: compute)
        case .attention:
            let heads = model.heads / cut("heads"), kvHeads = max(1, model.kvHeads / cut("heads"))
            let chunks = cut("seq"), length = model.sequence / chunks
            var op = OpCosts.attention(path, batch: microBatch / cut("batch"), heads: heads, kvHeads: kvHeads,
                                       queryLength: length, keyLength: length, headDim: d, maskedFraction: 0.5,
                                       precision: compute)
            // Ring attention: `chunks` steps, each over one block of keys and values.
            op.forward.flops *= Double(chunks)
            op.backward.flops *= Double(chunks)
            return op
        case .out:
            return OpCosts.gemm(path, m: tokens, n: h / cut("n"), k: h / cut("k"), bias: bias, precision: compute)
        case .expand, .contract:
            let inner = innerSize(of: path)
            let (n, k) = role == .expand ? (inner, h) : (h, inner)
            if let expertTokens, path.contains(".experts[") {
                return OpCosts.groupedGemm(path, tokens: expertTokens, n: n / cut("n"), k: k / cut("k"), bias: bias,
                                           weightPrecision: a.precision.weights, activationPrecision: activations,
                                           computePrecision: compute)
            }
            var op = OpCosts.gemm(path, m: tokens, n: n / cut("n"), k: k / cut("k"), bias: bias, precision: compute)
            if role == .expand, model.family == .llama, path.hasSuffix(".up") { op.savedBytes = 0 }  // gate holds the input
            return op
        case .activation:
            let rows = expertTokens.map { $0.reduce(0, +) } ?? tokens
            let elements = rows * innerSize(of: path) / cut("features")
            return model.family == .gpt ? OpCosts.gelu(path, elements: elements, precision: activations)
                : OpCosts.swiglu(path, elements: elements, precision: activations)
        case .router:
            return OpCosts.gemm(path, m: tokens, n: model.moe?.experts ?? 1, k: h, bias: false, precision: compute)
        case .head:
            let head = OpCosts.gemm(path, m: tokens, n: model.vocabulary / cut("n"), k: h / cut("k"), bias: false, precision: compute)
            // A tied head shares the embedding's weights, unless a pipeline puts them on
            // different stages: then the last stage keeps a copy, as Megatron-LM does.
            return model.tiedEmbeddings && !pipelined ? head.withoutParameters() : head
        case .loss:
            return OpCosts.crossEntropy(path, tokens: tokens, vocabulary: model.vocabulary / cut("vocab"), precision: activations,
                                        vocabularyParallel: cut("vocab") > 1)
        }
    }
}

import StrataModel

/// Lowers the keyword attributes (data, tensor, sequence, context and expert parallelism,
/// ZeRO and FSDP) to the general form: which mesh axes split each dimension of an op's
/// iteration space, and which axes its weights, gradients and optimizer state are
/// sharded over.
enum Layouts {
    /// The iteration-space dimensions of an op, in order; empty for a group of ops.
    static func dimensions(of kind: ModuleKind, expert: Bool = false) -> [String] {
        guard case let .op(role) = kind else { return [] }
        let base: [String] = switch role {
        case .embedding: ["tokens", "vocab", "hidden"]
        case .norm: ["tokens", "hidden"]
        case .qkv, .out, .expand, .contract, .router, .head: ["tokens", "n", "k"]
        case .attention: ["batch", "heads", "seq"]
        case .activation: ["tokens", "features"]
        case .loss: ["tokens", "vocab"]
        }
        return expert ? ["experts"] + base : base
    }

    /// Megatron's split for each role (Shoeybi et al. 2019, figure 3; Narayanan et al.
    /// 2021): column-parallel QKV and expanding MLP layers, row-parallel projections back to
    /// the hidden size, heads split in attention, vocabulary-parallel embedding, head and
    /// cross-entropy. Norms and the router are replicated.
    static func defaultStyle(of role: OpRole) -> TensorParallelStyle {
        switch role {
        case .qkv, .expand, .activation: .column
        case .out, .contract: .row
        case .attention: .heads
        case .embedding, .head, .loss: .vocab
        case .norm, .router: .replicated
        }
    }

    /// The layout of one op from its effective attributes.
    static func layout(role: OpRole, expert: Bool, attributes a: NodeAttributes, style: TensorParallelStyle,
                       fsdp: Bool, split explicitSplit: [String: [String]]?, place explicitPlace: [String]?) -> OpLayout {
        let tp = a.tensorParallel.map { [$0] } ?? []
        let context = a.contextParallel.map { [$0] } ?? []
        // Routed experts are split over the expert axis instead of replicated over it.
        let expertAxes = expert ? (a.expertParallel.map { [$0] } ?? []) : []
        let replicas = a.dataParallel.filter { !expertAxes.contains($0) }
        let sequenceSplit = a.sequenceParallel && role == .norm ? tp : []
        let tpSplit = style == .replicated ? [] : tp

        var splits: [(String, [String])] = []
        if expert { splits.append(("experts", expertAxes)) }
        switch role {
        case .attention:
            splits += [("batch", replicas), ("heads", tpSplit), ("seq", context)]
        case .embedding:
            splits += [("tokens", replicas + context), ("vocab", style == .vocab ? tp : []), ("hidden", [])]
        case .loss:
            splits += [("tokens", replicas + context), ("vocab", style == .vocab ? tp : [])]
        case .norm:
            splits += [("tokens", replicas + context + sequenceSplit), ("hidden", [])]
        case .activation:
            splits += [("tokens", replicas + context), ("features", tpSplit)]
        case .qkv, .out, .expand, .contract, .router, .head:
            let n = style == .column || style == .vocab ? tpSplit : []
            let k = style == .row ? tpSplit : []
            splits += [("tokens", replicas + context), ("n", n), ("k", k)]
        }
        if let explicitSplit {
            splits = splits.map { dimension, axes in (dimension, explicitSplit[dimension] ?? axes) }
        }

        let shardedByData = fsdp || a.zero >= 3 ? replicas : []
        var weights: [String] = []
        if role.hasMatrixWeight || role == .norm {
            let split = splits.filter { ["n", "k", "vocab", "experts"].contains($0.0) }.flatMap(\.1)
            weights = unique(split + shardedByData)
        }
        if let explicitPlace { weights = explicitPlace }
        let gradients = unique(weights + (fsdp || a.zero >= 2 ? replicas : []))
        let optimizerState = unique(gradients + (fsdp || a.zero >= 1 ? replicas : []))
        let hasState = role.hasMatrixWeight || role == .norm
        return OpLayout(splits: splits, weights: weights,
                        gradients: hasState ? gradients : [], optimizerState: hasState ? optimizerState : [])
    }

    private static func unique(_ axes: [String]) -> [String] {
        var seen: [String] = []
        for axis in axes where !seen.contains(axis) { seen.append(axis) }
        return seen
    }
}

/// What a module of the model is: a container of other modules, or an operation.
public enum ModuleKind: Hashable, Sendable {
    /// The whole model (the root).
    case model
    /// A group of modules: a layer, an attention block, an MLP, an expert.
    case container
    /// An operation, with the role it plays (which decides its tensor-parallel style).
    case op(OpRole)

    public var isOp: Bool { if case .op = self { true } else { false } }
}

/// The role of an operation in a transformer, which decides how Megatron-style tensor
/// parallelism splits it (Shoeybi et al. 2019) and how its cost is modelled.
public enum OpRole: String, Hashable, Sendable, CaseIterable {
    case embedding, norm, qkv, attention, out
    /// Linear layers that expand to the MLP's inner size (GPT's fc1; LLaMA's gate and up).
    case expand
    /// The activation (GELU, or SwiGLU's gating product).
    case activation
    /// Linear layers that contract back to the hidden size (GPT's fc2; LLaMA's down).
    case contract
    case router, head, loss

    /// Whether the op owns a weight matrix that tensor parallelism can split.
    public var hasMatrixWeight: Bool {
        switch self {
        case .embedding, .qkv, .out, .expand, .contract, .router, .head: true
        default: false
        }
    }
}

/// One module of the model's tree.
public struct ModuleNode: Hashable, Sendable {
    /// The name without index: `layers`, `attention`, `qkv`.
    public var name: String
    /// The instance index of a repeated module (`layers[3]` has 3), or `nil`.
    public var index: Int?
    public var kind: ModuleKind
    /// Index of the parent in `ModuleTree.nodes`; `nil` for the root.
    public var parent: Int?
    public var children: [Int]

    /// `layers[3]` or `qkv`: the path segment naming this node.
    public var segment: String { index.map { "\(name)[\($0)]" } ?? name }
}

/// The model as a tree of modules, the tree a strategy's selectors address:
/// `embedding`, `layers[i].attention.qkv`, `layers[i].mlp.experts[e].down`, `head` …
///
/// Stored flat, parents before children, so a walk in index order is a pre-order walk.
public struct ModuleTree: Hashable, Sendable {
    public private(set) var nodes: [ModuleNode] = []

    public static let rootIndex = 0

    /// Builds the module tree of `config`.
    public init(_ config: ModelConfig) {
        nodes.append(ModuleNode(name: "model", index: nil, kind: .model, parent: nil, children: []))
        let root = Self.rootIndex
        add("embedding", .op(.embedding), under: root)
        for layer in 0..<config.layers {
            let node = add("layers", index: layer, .container, under: root)
            add("attention_norm", .op(.norm), under: node)
            let attention = add("attention", .container, under: node)
            add("qkv", .op(.qkv), under: attention)
            add("core", .op(.attention), under: attention)
            add("out", .op(.out), under: attention)
            add("mlp_norm", .op(.norm), under: node)
            let mlp = add("mlp", .container, under: node)
            if let moe = config.moe, config.isMoELayer(layer) {
                add("router", .op(.router), under: mlp)
                for expert in 0..<moe.experts {
                    addMLP(add("experts", index: expert, .container, under: mlp), family: config.family)
                }
                if moe.sharedExperts > 0 {
                    addMLP(add("shared_experts", .container, under: mlp), family: config.family)
                }
            } else {
                addMLP(mlp, family: config.family)
            }
        }
        add("final_norm", .op(.norm), under: root)
        add("head", .op(.head), under: root)
        add("loss", .op(.loss), under: root)
    }

    private mutating func addMLP(_ parent: Int, family: ModelFamily) {
        switch family {
        case .gpt:
            add("fc1", .op(.expand), under: parent)
            add("act", .op(.activation), under: parent)
            add("fc2", .op(.contract), under: parent)
        case .llama:
            add("gate", .op(.expand), under: parent)
            add("up", .op(.expand), under: parent)
            add("act", .op(.activation), under: parent)
            add("down", .op(.contract), under: parent)
        }
    }

    @discardableResult
    private mutating func add(_ name: String, index: Int? = nil, _ kind: ModuleKind, under parent: Int) -> Int {
        nodes.append(ModuleNode(name: name, index: index, kind: kind, parent: parent, children: []))
        nodes[parent].children.append(nodes.count - 1)
        return nodes.count - 1
    }

    /// Whether a module above node `index` is called `name` (walking parents, not building
    /// and searching the path string: the compiler asks for every op of every program).
    public func hasAncestor(_ index: Int, named name: String) -> Bool {
        var node = nodes[index].parent
        while let current = node {
            if nodes[current].name == name { return true }
            node = nodes[current].parent
        }
        return false
    }

    /// The dotted path of node `index`, such as `layers[3].mlp.fc1`; `model` for the root.
    public func path(of index: Int) -> String {
        var segments: [String] = []
        var current: Int? = index
        while let node = current, node != Self.rootIndex {
            segments.append(nodes[node].segment)
            current = nodes[node].parent
        }
        return segments.isEmpty ? "model" : segments.reversed().joined(separator: ".")
    }

    /// The layer a node belongs to, if any.
    public func layer(of index: Int) -> Int? {
        var current: Int? = index
        while let node = current {
            if nodes[node].name == "layers", nodes[node].parent == Self.rootIndex { return nodes[node].index }
            current = nodes[node].parent
        }
        return nil
    }
}

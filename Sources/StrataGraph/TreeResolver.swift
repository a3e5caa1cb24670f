import StrataCore
import StrataModel

/// Applies the strategy's attributes to the module tree: every node gets the attributes
/// set on it, or else its parent's; every op gets its tensor-parallel style and layout;
/// every node its pipeline stage.
enum TreeResolver {
    static func resolve(modules: ModuleTree, declarations: StrategyDeclarations, rootPrecision: SubtreePrecision,
                        pipeline: PipelineSettings?) -> StrategyTree {
        let count = modules.nodes.count
        let rootAttributes = NodeAttributes(precision: rootPrecision)
        var attributes = Array(repeating: rootAttributes, count: count)
        var styles = [TensorParallelStyle?](repeating: nil, count: count)
        var layouts = [OpLayout?](repeating: nil, count: count)
        var stages = [Int?](repeating: 0, count: count)
        var sources = Array(repeating: [String: SourceLocation](), count: count)
        var inheritedStyle = [TensorParallelStyle?](repeating: nil, count: count)
        var isExpert = [Bool](repeating: false, count: count)
        let fsdp = declarations.fsdp != nil

        // Parents come before children in `nodes`, so one forward pass sees each parent first.
        for index in 0..<count {
            let node = modules.nodes[index]
            if let parent = node.parent {
                attributes[index] = attributes[parent]
                inheritedStyle[index] = inheritedStyle[parent]
                isExpert[index] = isExpert[parent] || (node.name == "experts" && node.index != nil)
            }
            var split: [String: [String]]?
            var place: [String]?
            for (key, entry) in declarations.explicit[index] {
                sources[index][key] = entry.location
                switch entry.setting {
                case let .dataParallel(axes): attributes[index].dataParallel = axes
                case let .zero(stage): attributes[index].zero = stage
                case let .tensorParallel(axis): attributes[index].tensorParallel = axis
                case let .sequenceParallel(flag): attributes[index].sequenceParallel = flag
                case let .contextParallel(axis): attributes[index].contextParallel = axis
                case let .expertParallel(axis): attributes[index].expertParallel = axis
                case let .recompute(mode): attributes[index].recompute = mode
                case let .offload(targets): attributes[index].offload = targets
                case let .precision(weights, activations, gradients):
                    var precision = attributes[index].precision
                    if let weights { precision.weights = weights }
                    if let activations { precision.activations = activations }
                    if let gradients { precision.gradients = gradients }
                    attributes[index].precision = precision
                case let .kernel(name): attributes[index].kernel = name
                case let .tensorParallelStyle(style): inheritedStyle[index] = style
                case let .split(dimensions): split = dimensions
                case let .placeWeights(axes): place = axes
                }
            }
            if case let .op(role) = node.kind {
                let style = attributes[index].tensorParallel == nil ? .replicated
                    : inheritedStyle[index] ?? Layouts.defaultStyle(of: role)
                styles[index] = style
                layouts[index] = Layouts.layout(role: role, expert: isExpert[index], attributes: attributes[index],
                                                style: style, fsdp: fsdp, split: split, place: place)
            }
            stages[index] = stage(of: index, in: modules, pipeline: pipeline)
        }
        // The parallel cross-entropy needs vocabulary-parallel logits: the loss follows the head.
        if let head = modules.nodes.firstIndex(where: { $0.name == "head" && $0.parent == ModuleTree.rootIndex }),
           let loss = modules.nodes.firstIndex(where: { $0.name == "loss" && $0.parent == ModuleTree.rootIndex }),
           styles[head] != .vocab || attributes[head].tensorParallel != attributes[loss].tensorParallel {
            attributes[loss].tensorParallel = attributes[head].tensorParallel
            styles[loss] = styles[head] == .vocab ? .vocab : .replicated
            layouts[loss] = Layouts.layout(role: .loss, expert: false, attributes: attributes[loss], style: styles[loss]!,
                                           fsdp: fsdp, split: nil, place: nil)
        }
        return StrategyTree(modules: modules, attributes: attributes, styles: styles, layouts: layouts,
                            stages: stages, sources: sources)
    }

    /// Layers go to the stage of their chunk; the embedding to the first stage; the final
    /// norm, head and loss to the last. The root spans all stages.
    private static func stage(of index: Int, in modules: ModuleTree, pipeline: PipelineSettings?) -> Int? {
        guard let pipeline, pipeline.stages > 1 else { return 0 }
        if index == ModuleTree.rootIndex { return nil }
        if let layer = modules.layer(of: index) { return pipeline.stage(ofLayer: layer) }
        return modules.nodes[index].name == "embedding" ? 0 : pipeline.stages - 1
    }
}

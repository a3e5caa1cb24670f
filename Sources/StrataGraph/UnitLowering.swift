import StrataCore
import StrataModel

/// Lowers the model's modules into units of steps for one GPU: each layer's ops in
/// forward order with the tensor-parallel collectives where activation layouts change, the
/// expert-parallel all-to-alls around routed experts, and ring attention for context
/// parallelism.
struct UnitLowering {
    let strategy: ResolvedStrategy
    let mesh: Mesh
    let shapes: OpShapes
    /// The GPU whose shard is lowered (its expert-parallel coordinate picks its experts).
    let rank: Int

    private var tree: StrategyTree { strategy.tree }
    private var model: ModelConfig { strategy.model }
    private var activationBytes: Double { strategy.precision.bytesPerElement }

    private func child(_ parent: Int, _ name: String) -> Int? {
        tree.modules.nodes[parent].children.first { tree.modules.nodes[$0].name == name }
    }

    private func children(_ parent: Int) -> [Int] { tree.modules.nodes[parent].children }

    /// The units of global chunk `chunk`, in forward order.
    func units(ofChunk chunk: Int, chunks: Int, layersPerChunk: [Int]) -> [LoweredUnit] {
        let root = ModuleTree.rootIndex
        var units: [LoweredUnit] = []
        if chunk == 0, let embedding = child(root, "embedding") { units.append(standalone(embedding)) }
        let first = layersPerChunk[..<chunk].reduce(0, +)
        let layers = children(root).filter { tree.modules.nodes[$0].name == "layers" }
        for layer in layers[first..<first + layersPerChunk[chunk]] { units.append(self.layer(layer)) }
        if chunk == chunks - 1 {
            for name in ["final_norm", "head", "loss"] {
                if let node = child(root, name) { units.append(standalone(node)) }
            }
        }
        return units
    }

    /// Bytes of the activation that leaves chunk `chunk` (its last layer's output), the size
    /// of the pipeline's transfer to the next stage and of the gradient coming back.
    func boundaryBytes(ofChunk chunk: Int, layersPerChunk: [Int]) -> Int64 {
        let layers = children(ModuleTree.rootIndex).filter { tree.modules.nodes[$0].name == "layers" }
        let last = layers[min(layers.count - 1, layersPerChunk[...chunk].reduce(0, +) - 1)]
        let norm = child(last, "attention_norm")!
        return Int64(Double(shapes.tokens(of: norm) * model.hidden) * activationBytes)
    }

    // MARK: Layouts of activations

    /// The tensor-parallel axis an op's group uses, if it splits anything.
    private func tensorAxis(_ index: Int) -> String? {
        guard let axis = tree.attributes[index].tensorParallel, mesh.size(of: axis) > 1 else { return nil }
        return axis
    }

    private func sequenceSplit(_ index: Int) -> Bool {
        tree.attributes[index].sequenceParallel && tensorAxis(index) != nil
    }

    /// Bytes of one micro-batch's hidden states with every token of the GPU's context shard.
    private func hiddenBytes(_ index: Int) -> Int64 {
        let context = tree.attributes[index].contextParallel.map { mesh.size(of: $0) } ?? 1
        return Int64(Double(strategy.microBatch * model.sequence / context * model.hidden) * activationBytes)
    }

    /// Into column-parallel ops sharing one input (`consumers`): with sequence parallelism,
    /// all-gather the sequence-split activations, keep only this rank's slice for backward
    /// and all-gather it again there, reduce-scattering the input's gradient (Korthikanti
    /// et al. 2022, §4.2.2), or keep the gathered whole and gather nothing in the backward
    /// (`sequence_parallel_inputs = gathered`); without it, all-reduce the input's gradient
    /// (Shoeybi et al. 2019's f). Returns the consumers' steps wrapped in those collectives.
    private func columnParallel(_ consumers: [Int], residualSplit: Bool, label: String, residualAxis: String? = nil) -> [LoweredStep] {
        let ops = consumers.map(op)
        guard let axis = tensorAxis(consumers[0]) ?? (residualSplit ? residualAxis : nil) else { return ops }
        let bytes = hiddenBytes(consumers[0])
        let splitsWork = tensorAxis(consumers[0]) != nil && tree.styles[consumers[0]] != .replicated
        if residualSplit, !splitsWork {
            // A replicated op (a replicated head) needs the whole sequence: gather it. Every
            // rank then computes the same input gradient and keeps its own slice — nothing
            // to reduce — and keeps the whole input it saved.
            return [.tensorParallel(forward: .allGather, backward: nil, axes: [axis], bytes: bytes, label: label)] + ops
        }
        if residualSplit, strategy.training.sequenceParallelInputs == .gathered {
            return [.tensorParallel(forward: .allGather, backward: .reduceScatter, axes: [axis], bytes: bytes, label: label)] + ops
        }
        if residualSplit {
            let ranks = Int64(mesh.size(of: axis))
            let sliced = ops.map { step -> LoweredStep in
                guard case .op(let index, var op, let ring) = step else { return step }
                op.savedBytes /= ranks
                return .op(index: index, op: op, ring: ring)
            }
            return [.tensorParallel(forward: .allGather, backward: .reduceScatter, axes: [axis], bytes: bytes, label: label)]
                + sliced
                + [.tensorParallel(forward: nil, backward: .allGather, axes: [axis], bytes: bytes, label: "\(label) again")]
        }
        guard tree.styles[consumers[0]] == .column || tree.styles[consumers[0]] == .vocab else { return ops }
        return [.tensorParallel(forward: nil, backward: .allReduce, axes: [axis], bytes: bytes, label: label)] + ops
    }

    /// Dropout after a block's output, in the residual stream's layout.
    private func dropout(_ name: String, tokens: Int) -> [LoweredStep] {
        guard strategy.training.dropout > 0 else { return [] }
        return [.op(index: ModuleTree.rootIndex,
                    op: OpCosts.dropout(name, elements: tokens * model.hidden, precision: strategy.precision), ring: nil)]
    }

    /// Out of a row-parallel op (or the vocabulary-parallel embedding), whose output is a
    /// partial sum: all-reduce it, or reduce-scatter it into sequence-split activations
    /// (all-gathering their gradients).
    private func leaveTensorParallel(_ producer: Int, residualSplit: Bool, label: String) -> [LoweredStep] {
        guard let axis = tensorAxis(producer) else { return [] }
        let style = tree.styles[producer]
        guard style == .row || style == .vocab else { return [] }
        if residualSplit {
            return [.tensorParallel(forward: .reduceScatter, backward: .allGather, axes: [axis], bytes: hiddenBytes(producer), label: label)]
        }
        return [.tensorParallel(forward: .allReduce, backward: nil, axes: [axis], bytes: hiddenBytes(producer), label: label)]
    }

    /// LLaMA's rotary embeddings on this GPU's queries and keys, before attention (GPT
    /// adds learned positions in its embedding instead).
    private func rope(_ core: Int) -> [LoweredStep] {
        guard model.family == .llama, case let .attention(batch, heads, _, sequence, headDim, _) = shapes.local(core).family else { return [] }
        let kvHeads = max(1, model.kvHeads / shapes.pieces("heads", of: core))
        let elements = batch * sequence * (heads + kvHeads) * headDim
        return [.op(index: core, op: OpCosts.rope("\(tree.modules.path(of: core)).rope", elements: elements,
                                                  precision: tree.attributes[core].precision.activations), ring: nil)]
    }

    private func op(_ index: Int) -> LoweredStep {
        let op = shapes.local(index)
        if case .attention = op.family, let axis = tree.attributes[index].contextParallel, mesh.size(of: axis) > 1 {
            let steps = mesh.size(of: axis)
            let kvHeads = max(1, model.kvHeads / shapes.pieces("heads", of: index))
            let bytes = Int64(2 * Double(strategy.microBatch * model.sequence / steps * kvHeads * model.headDim) * activationBytes)
            return .op(index: index, op: op, ring: (axis, steps, bytes))
        }
        return .op(index: index, op: op, ring: nil)
    }

    // MARK: Units

    private func standalone(_ index: Int) -> LoweredUnit {
        let name = tree.modules.nodes[index].name
        let split = sequenceSplit(index)
        var steps: [LoweredStep] = []
        switch name {
        case "embedding":
            steps = [op(index)] + leaveTensorParallel(index, residualSplit: sequenceSplit(index), label: "embedding output")
        case "head":
            // The final norm's output is sequence-split if its norm is; the head gathers it.
            let norm = child(ModuleTree.rootIndex, "final_norm") ?? index
            steps = columnParallel([index], residualSplit: sequenceSplit(norm), label: "head input", residualAxis: tensorAxis(norm))
        case "loss":
            steps = [op(index)]
            if let axis = tensorAxis(index), tree.styles[index] == .vocab {
                let tokens = shapes.tokens(of: index)
                steps.append(.crossEntropyReductions(axes: [axis], bytes: Int64(tokens * 4)))
            }
        default:
            steps = [op(index)]
        }
        let output = split ? hiddenBytes(index) / Int64(mesh.size(of: tensorAxis(index)!)) : hiddenBytes(index)
        return LoweredUnit(node: index, steps: steps, recompute: .none, inputBytes: 0, outputBytes: output)
    }

    private func layer(_ index: Int) -> LoweredUnit {
        let attention = child(index, "attention")!, mlp = child(index, "mlp")!
        let norm1 = child(index, "attention_norm")!, norm2 = child(index, "mlp_norm")!
        let qkv = child(attention, "qkv")!, core = child(attention, "core")!, out = child(attention, "out")!
        let split = sequenceSplit(norm1)
        let residualTokens = shapes.tokens(of: norm1)
        var steps: [LoweredStep] = [op(norm1)]
        steps += columnParallel([qkv], residualSplit: split, label: "\(tree.modules.path(of: attention)) input")
        steps += rope(core) + [op(core), op(out)]
        steps += leaveTensorParallel(out, residualSplit: split, label: "\(tree.modules.path(of: attention)) output")
        steps += dropout("\(tree.modules.path(of: index)).attention_dropout", tokens: residualTokens)
        steps.append(.op(index: norm1, op: OpCosts.add("\(tree.modules.path(of: index)).attention_residual",
                                                        elements: residualTokens * model.hidden, precision: strategy.precision), ring: nil))
        steps.append(op(norm2))
        if child(mlp, "router") != nil {
            steps += moe(mlp, residualSplit: split)
        } else {
            steps += denseMLP(mlp, residualSplit: split)
        }
        steps += dropout("\(tree.modules.path(of: index)).mlp_dropout", tokens: residualTokens)
        steps.append(.op(index: norm2, op: OpCosts.add("\(tree.modules.path(of: index)).mlp_residual",
                                                        elements: residualTokens * model.hidden, precision: strategy.precision), ring: nil))
        let residual = Int64(Double(residualTokens * model.hidden) * activationBytes)
        var unit = LoweredUnit(node: index, isLayer: true, steps: steps, recompute: tree.attributes[index].recompute,
                               inputBytes: residual, outputBytes: residual)
        unit.backwardGradientBytes = denseMLPGradientBytes(mlp, residual: residual)
        return unit
    }

    /// The activation gradients a dense layer's backward holds at once, at its widest: the
    /// residual stream's gradient (kept for the skip path while the MLP's backward runs),
    /// the gradient of the activation's output and the gradient it writes for each
    /// expanding product's output (one for GELU's fc1, two for SwiGLU's gate and up), as
    /// autograd holds them in the activation's backward. Zero for a MoE layer, whose
    /// experts' widths follow its routing (not counted yet).
    private func denseMLPGradientBytes(_ mlp: Int, residual: Int64) -> Int64 {
        let expanding = children(mlp).filter { if case .op(.expand) = tree.modules.nodes[$0].kind { true } else { false } }
        guard let first = expanding.first, case let .op(_, product, _) = op(first), case let .gemm(m, n, _) = product.family
        else { return 0 }
        let width = Int64(Double(m * n) * activationBytes)
        return residual + width * Int64(1 + expanding.count)
    }

    private func denseMLP(_ mlp: Int, residualSplit: Bool) -> [LoweredStep] {
        let ops = children(mlp)
        let path = tree.modules.path(of: mlp)
        // The expanding layers (fc1, or gate and up) share the MLP's input.
        let expanding = ops.filter { if case .op(.expand) = tree.modules.nodes[$0].kind { true } else { false } }
        var steps = columnParallel(expanding, residualSplit: residualSplit, label: "\(path) input")
        steps += ops.filter { !expanding.contains($0) }.map(op)
        steps += leaveTensorParallel(ops.last!, residualSplit: residualSplit, label: "\(path) output")
        return steps
    }

    /// A MoE MLP: route, dispatch tokens to the GPUs holding their experts, run the local
    /// experts as grouped GEMMs, combine the results back, and run the shared experts.
    private func moe(_ mlp: Int, residualSplit: Bool) -> [LoweredStep] {
        guard let moe = model.moe, let router = child(mlp, "router") else { return [] }
        let path = tree.modules.path(of: mlp)
        let experts = children(mlp).filter { tree.modules.nodes[$0].name == "experts" }
        let axis = tree.attributes[experts[0]].expertParallel.flatMap { mesh.size(of: $0) > 1 ? $0 : nil }
        let groupSize = axis.map { mesh.size(of: $0) } ?? 1
        let groupIndex = axis.map { mesh.index(of: rank, inGroupOver: [$0]) } ?? 0
        // With tensor parallelism each rank of the group routes its own share of the tokens
        // (Megatron-LM requires sequence parallelism with expert and tensor parallelism).
        let tensorRanks = tensorAxis(mlp).map { mesh.size(of: $0) } ?? 1
        let tokens = shapes.tokens(of: router) / tensorRanks
        let routing = ExpertRouting(moe: moe, tokens: tokens, groupSize: groupSize)
        let hiddenBytes = Double(model.hidden) * activationBytes
        let perDestination = routing.assignmentsPerDestination.map { Int64(Double($0) * hiddenBytes) }

        let routerOp = OpCosts.gemm(tree.modules.path(of: router), m: tokens, n: moe.experts, k: model.hidden, bias: false,
                                    precision: tree.attributes[router].precision.compute)
        let assignments = routing.assignmentsPerExpert.reduce(0, +)
        let activations = strategy.precision
        var steps: [LoweredStep] = [.op(index: router, op: routerOp, ring: nil)]
        steps.append(.op(index: router, op: OpCosts.moePermute("\(path).permute", tokens: tokens, experts: moe.experts,
                                                               assignments: assignments, hidden: model.hidden, precision: activations),
                         ring: nil))
        if let axis { steps.append(.expertExchange(axes: [axis], bytesPerDestination: perDestination, label: "\(path) dispatch")) }
        // Local experts, grouped by precision and kernel so each group is one grouped GEMM.
        let local = Array(experts[groupIndex * routing.expertsPerRank..<(groupIndex + 1) * routing.expertsPerRank])
        let received = routing.receivedTokens(rank: groupIndex)
        var groups: [(first: Int, tokens: [Int])] = []
        for (position, expert) in local.enumerated() {
            let a = tree.attributes[expert]
            if let match = groups.firstIndex(where: { tree.attributes[$0.first].precision == a.precision && tree.attributes[$0.first].kernel == a.kernel }) {
                groups[match].tokens.append(received[position])
            } else {
                groups.append((expert, [received[position]]))
            }
        }
        for group in groups {
            for op in children(group.first) {
                steps.append(.op(index: op, op: shapes.local(op, expertTokens: group.tokens), ring: nil))
            }
        }
        if let axis { steps.append(.expertExchange(axes: [axis], bytesPerDestination: perDestination, label: "\(path) combine")) }
        steps.append(.op(index: router, op: OpCosts.moeUnpermute("\(path).unpermute", tokens: tokens, assignments: assignments,
                                                                 hidden: model.hidden, precision: activations), ring: nil))
        if let shared = child(mlp, "shared_experts") { steps += denseMLP(shared, residualSplit: residualSplit) }
        return steps
    }
}

import StrataCore
import StrataGraph
import StrataModel

/// The resolved strategy as `simulate check` prints it.
enum StrategyReport {
    static func describe(_ strategy: ResolvedStrategy) -> String {
        var lines = ["\(strategy.path): ok"]
        if !strategy.parameters.isEmpty {
            lines.append("parameters: " + strategy.parameters.map { "\($0.name) = \($0.value)" }.joined(separator: ", "))
        }
        lines += describeModel(strategy.model)
        lines += describeSetup(strategy)
        lines.append("tree (each module shows the attributes that differ from its parent's; each op its layout)")
        lines += TreePrinter(strategy: strategy).lines()
        return lines.joined(separator: "\n")
    }

    static func parameterCount(_ model: ModelConfig) -> Int64 {
        var dense = model
        dense.moe = nil
        var total = TransformerBuilder(config: dense, microBatch: 1, precision: .bf16).ops().reduce(Int64(0)) { $0 + $1.parameters }
        guard let moe = model.moe else { return total }
        let matrices: Int64 = model.family == .llama ? 3 : 2
        let denseMLP = matrices * Int64(model.hidden) * Int64(model.ffnHidden) + (model.family == .gpt ? Int64(model.ffnHidden + model.hidden) : 0)
        let expert = matrices * Int64(model.hidden) * Int64(moe.expertFFN) + (model.family == .gpt ? Int64(moe.expertFFN + model.hidden) : 0)
        let moeLayers = Int64((0..<model.layers).filter(model.isMoELayer).count)
        let router = Int64(model.hidden * moe.experts)
        total += moeLayers * (Int64(moe.experts + moe.sharedExperts) * expert + router - denseMLP)
        return total
    }

    private static func describeModel(_ model: ModelConfig) -> [String] {
        let attention = model.kvHeads == model.heads ? "\(model.heads) heads" : "\(model.heads) heads (\(model.kvHeads) key/value)"
        var lines = [
            "model \(model.family.rawValue): \(model.layers) layers, hidden \(model.hidden), \(attention), ffn \(model.ffnHidden), vocab \(model.vocabulary), seq \(model.sequence), \(model.tiedEmbeddings ? "tied" : "untied") embeddings; \(Format.grouped(Double(parameterCount(model)))) parameters",
        ]
        if let moe = model.moe {
            let which = moe.every == 1 ? "every layer" : "every \(moe.every) layers"
            let routing: String = switch moe.routing {
            case .uniform: "uniform"
            case let .zipf(alpha): "zipf(\(alpha))"
            case let .histogram(path, _): "histogram \(path)"
            }
            let capacity = moe.capacityFactor.map { "capacity factor \($0)" } ?? "dropless"
            lines.append("  moe: \(moe.experts) experts (top \(moe.topK)) + \(moe.sharedExperts) shared, expert ffn \(moe.expertFFN), \(which) after \(moe.firstDense) dense, \(capacity), routing \(routing), seed \(moe.seed)")
        }
        return lines
    }

    private static func describeSetup(_ strategy: ResolvedStrategy) -> [String] {
        let training = strategy.training, state = training.state
        let spec = strategy.cluster.gpus[0].spec
        var lines = [
            "training: global_batch \(training.globalBatch), micro_batch \(training.microBatch), \(strategy.microBatchesPerReplica) micro-batches per replica; \(training.precision.rawValue), gradients \(state.gradientPrecision.rawValue), \(state.optimizer.rawValue) with \(state.statePrecision.rawValue) state\(state.masterWeights ? " and fp32 master weights" : "")",
            "cluster: \(strategy.topologyPath) (\(strategy.cluster.name): \(strategy.cluster.gpus.count) × \(spec.name)), \(strategy.gpuCount) GPUs used",
            "mesh: " + strategy.mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × ") + " (outermost first)",
        ]
        if let p = strategy.pipeline {
            let virtual = p.virtualStages > 1 ? " × \(p.virtualStages) virtual" : ""
            lines.append("pipeline: axis \(p.axis), \(p.stages) stages\(virtual), \(p.schedule.rawValue), layers per \(p.virtualStages > 1 ? "chunk" : "stage") \(p.layersPerChunk)")
        }
        let sync = strategy.gradientSync
        lines.append("grad_sync: bucket \(Format.bytes(Double(sync.bucketBytes))), overlap \(sync.overlap ? "on" : "off"), \(sync.afterLastMicroBatch ? "after the last micro-batch" : "after every micro-batch")")
        if let fsdp = strategy.fsdp {
            lines.append("fsdp: unit \(fsdp.unit.rawValue), prefetch \(fsdp.prefetch), reshard after forward \(fsdp.reshardAfterForward)")
        }
        return lines
    }
}

/// Prints the strategy tree, folding runs of identical repeated modules into one line
/// such as `layers[0..11]`.
struct TreePrinter {
    let strategy: ResolvedStrategy
    var tree: StrategyTree { strategy.tree }

    func lines() -> [String] {
        [describe(ModuleTree.rootIndex, label: "model", parent: nil)] + children(of: ModuleTree.rootIndex, depth: 1)
    }

    /// The lines below `index`, with consecutive identical siblings folded.
    private func children(of index: Int, depth: Int) -> [String] {
        var lines: [String] = []
        let kids = tree.modules.nodes[index].children
        var start = 0
        while start < kids.count {
            let first = tree.modules.nodes[kids[start]]
            let body = subtree(kids[start], depth: depth)
            var end = start
            if first.index != nil {
                while end + 1 < kids.count, tree.modules.nodes[kids[end + 1]].name == first.name,
                      subtree(kids[end + 1], depth: depth) == body {
                    end += 1
                }
            }
            let label: String
            if let low = first.index {
                let high = tree.modules.nodes[kids[end]].index!
                label = low == high ? "\(first.name)[\(low)]" : "\(first.name)[\(low)..\(high)]"
            } else {
                label = first.name
            }
            lines.append(String(repeating: "  ", count: depth) + label + body.head)
            lines += body.rest
            start = end + 1
        }
        return lines
    }

    private struct Rendered: Equatable {
        var head: String
        var rest: [String]
    }

    private func subtree(_ index: Int, depth: Int) -> Rendered {
        Rendered(head: describe(index, label: "", parent: tree.modules.nodes[index].parent),
                 rest: children(of: index, depth: depth + 1))
    }

    /// `label` followed by the node's attributes (all of them for the root) and, for an
    /// op, its layout.
    private func describe(_ index: Int, label: String, parent: Int?) -> String {
        let a = tree.attributes[index]
        let p = parent.map { tree.attributes[$0] }
        var parts: [String] = []
        func add(_ key: String, _ value: String, changed: Bool) {
            if p == nil || changed { parts.append("\(key)=\(value)") }
        }
        let axes = { (list: [String]) in list.isEmpty ? "none" : list.count == 1 ? list[0] : "[" + list.joined(separator: ",") + "]" }
        add("data_parallel", axes(a.dataParallel), changed: a.dataParallel != p?.dataParallel)
        add("zero", String(a.zero), changed: a.zero != p?.zero)
        add("tensor_parallel", a.tensorParallel ?? "none", changed: a.tensorParallel != p?.tensorParallel)
        add("sequence_parallel", String(a.sequenceParallel), changed: a.sequenceParallel != p?.sequenceParallel)
        add("context_parallel", a.contextParallel ?? "none", changed: a.contextParallel != p?.contextParallel)
        add("expert_parallel", a.expertParallel ?? "none", changed: a.expertParallel != p?.expertParallel)
        add("recompute", a.recompute.rawValue, changed: a.recompute != p?.recompute)
        add("offload", a.offload.isEmpty ? "none" : a.offload.map(\.rawValue).joined(separator: ","), changed: a.offload != p?.offload)
        add("precision", a.precision.description, changed: a.precision != p?.precision)
        if a.kernel != nil || p?.kernel != nil { add("kernel", a.kernel ?? "default", changed: a.kernel != p?.kernel) }
        let stage = tree.stages[index]
        if parent == nil {
            if let pipeline = strategy.pipeline { parts.append("stages=0..\(pipeline.stages - 1)") }
        } else if stage != parent.flatMap({ tree.stages[$0] }), let stage {
            parts.append("stage=\(stage)")
        }
        var text = label + (parts.isEmpty ? "" : "  " + parts.joined(separator: " "))
        if let layout = tree.layouts[index], let style = tree.styles[index] {
            let splits = layout.splits.filter { !$0.axes.isEmpty }.map { "\($0.dimension)=\(axes($0.axes))" }
            var op = a.tensorParallel == nil ? [] : ["tp \(style.rawValue)"]
            op.append("split " + (splits.isEmpty ? "none" : splits.joined(separator: " ")))
            if !layout.optimizerState.isEmpty || !layout.weights.isEmpty {
                op.append("shard weights=\(axes(layout.weights)) gradients=\(axes(layout.gradients)) optimizer=\(axes(layout.optimizerState))")
            } else if case let .op(role) = tree.modules.nodes[index].kind, role.hasMatrixWeight || role == .norm {
                op.append("weights replicated")
            }
            text += "  | " + op.joined(separator: " | ")
        }
        return text
    }
}

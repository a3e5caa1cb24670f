import Foundation
import StrataCore
import StrataModel
import Testing
@testable import StrataGraph

/// The bytes of every communication the compiler emits, against the formulas of the papers
/// that define each parallelism, on the small strategies (one node of 4 GPUs). A collective's
/// `bytes` is the whole buffer: the all-reduced tensor, the gathered output, the scattered
/// input, or everything an all-to-all sends.
@Suite struct CollectiveBytesTests {
    typealias Named = (name: String, call: CollectiveCall)

    /// The collectives of `rank`'s program with their task names (which carry the pass and
    /// the micro-batch: `layers[3].mlp input gradient all_reduce mb5`).
    static func named(_ graph: ExecutionGraph, rank: Int = 0) -> [Named] {
        graph.program(of: rank).tasks.compactMap { task in
            if case let .collective(call) = task.action { (task.name, call) } else { nil }
        }
    }

    /// b · s · h · bytes: one micro-batch's hidden states, the unit of Megatron's formulas.
    static func hiddenBytes(_ strategy: ResolvedStrategy, sequence: Int? = nil) -> Int64 {
        Int64(Double(strategy.microBatch * (sequence ?? strategy.model.sequence) * strategy.model.hidden)
            * strategy.precision.bytesPerElement)
    }

    /// A summary of calls as sorted `kind label` lines, to compare with what a formula lists.
    static func summary(_ calls: [Named]) -> [String] {
        calls.map { "\($0.call.kind.rawValue) \($0.call.label)" }.sorted()
    }

    // MARK: Tensor parallelism

    /// Shoeybi et al. 2019 (Megatron-LM), §3 and figure 3: a layer's forward all-reduces the
    /// attention block's and the MLP's outputs (g), its backward the gradients of their inputs
    /// (f): four all-reduces of b · s · h per layer per micro-batch. The vocabulary-parallel
    /// embedding all-reduces its output; the vocabulary-parallel head all-reduces its input's
    /// gradient, and the parallel cross-entropy reduces the logits' maximum, the target logit
    /// and the sum of exponentials: three all-reduces of b · s fp32 values.
    @Test func tensorParallelWithoutSequenceParallelism() throws {
        let (strategy, graph) = try CompileSupport.compile(file: "strategies/small/tp2-dp2.strata")
        let calls = Self.named(graph).filter { $0.call.axes == ["tensor"] }
        let bsh = Self.hiddenBytes(strategy)
        let microBatches = strategy.microBatchesPerReplica
        #expect(microBatches == 8)
        for mb in 0..<microBatches {
            let ofMicroBatch = calls.filter { $0.name.hasSuffix(" mb\(mb)") }
            for layer in 0..<strategy.model.layers {
                let prefix = "layers[\(layer)]."
                let layerCalls = ofMicroBatch.filter { $0.call.label.hasPrefix(prefix) }
                #expect(Self.summary(layerCalls) == [
                    "all_reduce \(prefix)attention input gradient", "all_reduce \(prefix)attention output",
                    "all_reduce \(prefix)mlp input gradient", "all_reduce \(prefix)mlp output",
                ], "layer \(layer) mb\(mb)")
                #expect(layerCalls.allSatisfy { $0.call.bytes == bsh })
            }
            let rest = ofMicroBatch.filter { !$0.call.label.hasPrefix("layers[") }
            #expect(Self.summary(rest) == [
                "all_reduce embedding output", "all_reduce head input gradient", "all_reduce loss logit max",
                "all_reduce loss sum of exponentials", "all_reduce loss target logit",
            ], "mb\(mb)")
            for (_, call) in rest {
                let expected = call.label.hasPrefix("loss") ? Int64(strategy.microBatch * strategy.model.sequence * 4) : bsh
                #expect(call.bytes == expected, "\(call.label)")
            }
        }
        #expect(calls.count == microBatches * (4 * strategy.model.layers + 5))
    }

    /// Korthikanti et al. 2022, §4.2.2 and figure 5: with sequence parallelism each of f and
    /// g becomes an all-gather in one pass and a reduce-scatter in the other, each moving the
    /// whole b · s · h tensor (the same bytes on the wire as the all-reduce it replaces). A
    /// layer's forward: all-gather into attention and the MLP, reduce-scatter out of them.
    /// Its backward: all-gather the outputs' gradients, reduce-scatter the inputs' gradients,
    /// and all-gather again the sequence-split inputs the weight gradients need (only this
    /// rank's slice was kept, §4.2.2's last paragraph). tp4-sp's head is replicated, so its
    /// loss needs no reductions.
    @Test func tensorParallelWithSequenceParallelism() throws {
        let (strategy, graph) = try CompileSupport.compile(file: "strategies/small/tp4-sp.strata")
        let calls = Self.named(graph)
        #expect(calls.allSatisfy { $0.call.axes == ["tensor"] })
        let bsh = Self.hiddenBytes(strategy)
        #expect(calls.allSatisfy { $0.call.bytes == bsh })
        for mb in 0..<strategy.microBatchesPerReplica {
            let ofMicroBatch = calls.filter { $0.name.hasSuffix(" mb\(mb)") }
            for layer in 0..<strategy.model.layers {
                let p = "layers[\(layer)]."
                let forward = ofMicroBatch.filter { $0.call.label.hasPrefix(p) && !$0.call.label.hasSuffix("gradient") }
                let backward = ofMicroBatch.filter { $0.call.label.hasPrefix(p) && $0.call.label.hasSuffix("gradient") }
                #expect(Self.summary(forward) == [
                    "all_gather \(p)attention input", "all_gather \(p)mlp input",
                    "reduce_scatter \(p)attention output", "reduce_scatter \(p)mlp output",
                ], "layer \(layer) mb\(mb) forward")
                #expect(Self.summary(backward) == [
                    "all_gather \(p)attention input again gradient", "all_gather \(p)attention output gradient",
                    "all_gather \(p)mlp input again gradient", "all_gather \(p)mlp output gradient",
                    "reduce_scatter \(p)attention input gradient", "reduce_scatter \(p)mlp input gradient",
                ], "layer \(layer) mb\(mb) backward")
            }
            #expect(!ofMicroBatch.contains { $0.call.label.hasPrefix("loss") })
        }
    }

    // MARK: Data parallelism

    /// The gradient collectives of one iteration (Li et al. 2020, PyTorch DDP's buckets;
    /// Rajbhandari et al. 2020, ZeRO §5) carry every gradient this rank holds once per
    /// synchronisation — its parameters × gradient bytes — all-reduced without ZeRO,
    /// reduce-scattered with ZeRO ≥ 1 or FSDP, in buckets of whole tensors: a bucket closes
    /// at the first op's gradient that takes it to the bucket size, so it is over the size by
    /// less than one op's gradient (at most the largest op's: the embedding with its
    /// positions, or an MLP projection). ZeRO-1/2 all-gather the updated parameters
    /// (parameters × weight bytes) after the step, bucketed the same way.
    @Test(arguments: [
        ("strategies/small/base-llama-1b.strata", CollectiveKind.allReduce),
        ("strategies/small/tp2-dp2.strata", .allReduce),
        ("strategies/small/zero1-dp4.strata", .reduceScatter),
        ("strategies/small/zero2-dp4.strata", .reduceScatter),
        ("strategies/small/zero3-dp4.strata", .reduceScatter),
        ("strategies/small/fsdp-dp4.strata", .reduceScatter),
        ("strategies/small/pp2-interleaved-dp2.strata", .allReduce),
    ])
    func gradientSynchronisation(_ file: String, kind: CollectiveKind) throws {
        let (strategy, graph) = try CompileSupport.compile(file: file)
        let state = strategy.training.state
        for rankClass in graph.classes {
            let calls = Self.named(graph, rank: rankClass.members[0])
            let gradients = calls.filter { $0.call.label == "gradients" }
            #expect(gradients.allSatisfy { $0.call.kind == kind && $0.call.axes == ["data"] })
            let model = strategy.model
            let largestOp = Double(max(model.vocabulary + model.sequence, 3 * model.ffnHidden) * model.hidden)
            let gradientBound = strategy.gradientSync.bucketBytes + Int64(largestOp * state.gradientBytesPerParameter)
            #expect(gradients.allSatisfy { $0.call.bytes < gradientBound })
            #expect(gradients.dropLast().contains { $0.call.bytes >= strategy.gradientSync.bucketBytes } || gradients.count <= 2,
                    "\(file): buckets fill to their size before they go")
            let synchronisations = strategy.gradientSync.afterLastMicroBatch ? 1 : strategy.microBatchesPerReplica
            let expected = Double(rankClass.parameters) * state.gradientBytesPerParameter * Double(synchronisations)
            CompileSupport.expectClose(Double(gradients.reduce(0) { $0 + $1.call.bytes }), expected, within: 1e-6,
                                       "\(file) \(rankClass.label) gradient bytes")

            let updated = calls.filter { $0.call.label == "updated parameters" }
            let zero = strategy.tree.attributes[ModuleTree.rootIndex].zero
            if strategy.fsdp == nil, zero == 1 || zero == 2 {
                let weightBound = strategy.gradientSync.bucketBytes + Int64(largestOp * state.weightBytesPerParameter)
                #expect(updated.allSatisfy { $0.call.kind == .allGather && $0.call.bytes < weightBound })
                CompileSupport.expectClose(Double(updated.reduce(0) { $0 + $1.call.bytes }),
                                           Double(rankClass.parameters) * state.weightBytesPerParameter, within: 1e-6,
                                           "\(file) updated parameter bytes")
            } else {
                #expect(updated.isEmpty)
            }
        }
    }

    /// ZeRO-3 and FSDP (Rajbhandari et al. 2020 §5.3; Zhao et al. 2023 §3.2) all-gather each
    /// unit's parameters before its forward and, having freed them after it (resharding),
    /// again before its backward, every micro-batch: the gathered buffer is the layer's
    /// parameters × weight bytes, layer parameters being QKV, out, the three MLP matrices
    /// and two RMSNorm scales.
    @Test(arguments: ["strategies/small/zero3-dp4.strata", "strategies/small/fsdp-dp4.strata"])
    func shardedParametersAreGatheredPerUse(_ file: String) throws {
        let (strategy, graph) = try CompileSupport.compile(file: file)
        let m = strategy.model
        let h = Int64(m.hidden)
        let layerParameters = h * Int64((m.heads + 2 * m.kvHeads) * m.headDim) + h * h + 3 * h * Int64(m.ffnHidden) + 2 * h
        let layerBytes = Double(layerParameters) * strategy.training.state.weightBytesPerParameter
        let gathers = Self.named(graph).filter { $0.call.label.hasPrefix("parameters of ") }
        #expect(gathers.allSatisfy { $0.call.kind == .allGather && $0.call.axes == ["data"] })
        for mb in 0..<strategy.microBatchesPerReplica {
            for layer in 0..<m.layers {
                for pass in ["forward", "backward"] {
                    let matching = gathers.filter { $0.name.hasSuffix("layers[\(layer)] \(pass) mb\(mb)") }
                    #expect(matching.count == 1, "layer \(layer) \(pass) mb\(mb)")
                    // ZeRO-3 shards each op's parameters; the gathered size is rebuilt from the shards.
                    for gather in matching {
                        CompileSupport.expectClose(Double(gather.call.bytes), layerBytes, within: 1e-6, gather.name)
                    }
                }
            }
        }
    }

    /// FSDP gathers `prefetch` units ahead: with 1, a layer's all-gather waits for the
    /// layer before to have its parameters in place (its copy-out), so it runs beside that
    /// layer's compute; with 0, for that layer's last kernel, so it runs alone.
    @Test(arguments: [(1, "parameter copy-out layers[0] forward mb0"), (0, "layers[0].")])
    func fsdpGathersAheadByItsPrefetch(_ prefetch: Int, waitsFor prefix: String) throws {
        let file = "strategies/small/fsdp-dp4.strata"
        let text = try String(contentsOfFile: CompileSupport.path(file), encoding: .utf8)
            .replacingOccurrences(of: "prefetch = 1", with: "prefetch = \(prefetch)")
        let (_, graph) = try CompileSupport.compile(text: text, at: file)
        let tasks = graph.program(of: 0).tasks
        let gather = try #require(tasks.first { $0.name == "parameter all_gather layers[1] forward mb0" })
        #expect(gather.dependencies.count == 1)
        #expect(gather.dependencies.allSatisfy { tasks[$0].name.hasPrefix(prefix) }, "\(gather.dependencies.map { tasks[$0].name })")
    }

    /// FSDP2's hooks run around every gathered unit's pass: the program marks the unit's
    /// first task of each pass (a backward reduce-scatters only on the micro-batch that
    /// synchronises), and the tasks the hooks issue, the gathers, their copy-outs and each
    /// unit's chunk_cat and reduce-scatter, so that the executor prices them in the hooks.
    @Test func fsdpMarksEachUnitsHooksAndWhatTheyIssue() throws {
        let (_, graph) = try CompileSupport.compile(file: "strategies/small/fsdp-dp4.strata")
        let tasks = graph.program(of: 0).tasks
        let gathers = tasks.filter { if case let .collective(call) = $0.action { call.kind == .allGather } else { false } }
        let starts = tasks.compactMap { $0.hook.startsFSDPUnit }
        #expect(starts.filter { $0 == .forward }.count * 2 == gathers.count)
        #expect(starts.filter { $0 != .forward }.count * 2 == gathers.count)
        let synchronised = starts.filter { $0 == .backward(synchronised: true) }.count
        let microBatches = Set(tasks.compactMap { task -> Int? in
            if case let .compute(kernel) = task.action, kernel.pass == .forward { task.name.split(separator: " ").last.flatMap { Int($0.dropFirst(2)) } } else { nil }
        }).count
        #expect(synchronised * microBatches == gathers.count / 2, "one synchronised backward a unit")
        for task in tasks {
            let issued: Bool
            switch task.action {
            case let .collective(call): issued = call.kind == .allGather || call.kind == .reduceScatter
            case let .compute(kernel): issued = kernel.family == .copy && kernel.pass != .optimizer
            default: issued = false
            }
            #expect(task.hook.issuedByFSDP == issued, "\(task.name)")
        }
        // Every pass's hooks begin at its gather (the units are resharded after forward).
        for task in tasks where task.hook.startsFSDPUnit != nil {
            guard case let .collective(call) = task.action else { Issue.record("\(task.name)"); continue }
            #expect(call.kind == .allGather)
        }
    }

    /// FSDP2 gathers a unit's parameters into one flat buffer and copies them out into the
    /// unit's tensors on the compute stream before the unit runs, and concatenates the
    /// unsharded gradients into one buffer before each reduce-scatter (chunk_cat): a copy
    /// reading and writing every gathered parameter byte, and every gradient byte, which
    /// the unit's first op (or the reduce-scatter) waits for. A ZeRO-3 subtree without
    /// FSDP gathers with no copy.
    @Test(arguments: [("strategies/small/fsdp-dp4.strata", true), ("strategies/small/zero3-dp4.strata", false)])
    func fsdpCopiesGatheredParametersOutAndGradientsIn(_ file: String, copies: Bool) throws {
        let (_, graph) = try CompileSupport.compile(file: file)
        let tasks = graph.program(of: 0).tasks
        func copied(_ task: GraphTask) -> Double? {
            // FSDP's copies, not the optimizer's casts to and from its master weights nor the
            // gradients' averaging pass (GradientAverageTests).
            if case let .compute(kernel) = task.action, kernel.family == .copy, kernel.pass != .optimizer,
               !task.name.hasPrefix("gradients average") { kernel.work.bytes } else { nil }
        }
        let copyTasks = tasks.filter { copied($0) != nil }
        #expect(copyTasks.isEmpty == !copies, "\(file)")
        for task in tasks {
            guard case let .collective(call) = task.action, call.kind == .allGather || call.kind == .reduceScatter else { continue }
            let consumers = copyTasks.filter { $0.dependencies.contains(task.id) }
            // What the collective reads: written by the copy, or by the averaging pass after it.
            let inputs = task.dependencies.flatMap { id in
                tasks[id].name.hasPrefix("gradients average") ? tasks[id].dependencies + [id] : [id]
            }
            let feeders = copyTasks.filter { inputs.contains($0.id) }
            if !copies {
                #expect(consumers.isEmpty && feeders.isEmpty)
            } else if call.label.hasPrefix("parameters of ") {
                #expect(consumers.count == 1, "\(task.name)")
                if let copy = consumers.first {
                    #expect(copy.stream == .compute && copy.name.hasPrefix("parameter copy-out"))
                    #expect(copied(copy) == 2 * Double(call.bytes), "\(copy.name)")
                    // The unit's first op waits for the copy, not for the gather itself.
                    #expect(tasks.contains { $0.dependencies.contains(copy.id) && $0.stream == .compute })
                }
            } else if call.label == "gradients" {
                #expect(feeders.count == 1, "\(task.name)")
                if let concatenation = feeders.first {
                    #expect(concatenation.name.hasPrefix("gradients chunk_cat"))
                    #expect(copied(concatenation) == 2 * Double(call.bytes), "\(concatenation.name)")
                }
            }
        }
    }

    // MARK: Pipeline parallelism

    /// Pipeline transfers (Huang et al. 2019; Narayanan et al. 2021 §2.2): each forward
    /// sends one b · s · h activation to the next stage, each backward its gradient to the
    /// previous one — divided by t when sequence parallelism leaves the activation split
    /// (Korthikanti et al. 2022 §4.2.3 keep the scatter-gather of Narayanan et al.). A stage
    /// sends activations for every micro-batch from each of its chunks but the model's last,
    /// gradients from each but the first; it receives before it computes, and every send
    /// has its receive on the neighbouring stage with the same tag and bytes.
    @Test(arguments: [
        "strategies/small/pp4-gpipe.strata", "strategies/small/pp4-1f1b.strata", "strategies/small/pp4-zb-h1.strata",
        "strategies/small/pp2-interleaved-dp2.strata", "inline:pp2-tp2-sp",
    ])
    func pipelineTransfers(_ file: String) throws {
        let (strategy, graph): (ResolvedStrategy, ExecutionGraph)
        if file == "inline:pp2-tp2-sp" {
            (strategy, graph) = try CompileSupport.compile(text: """
                import "base-llama-1b.strata"
                strategy {
                    mesh { pipe = 2  tensor = 2 }
                    tensor_parallel = tensor
                    sequence_parallel = true
                    pipeline { axis = pipe  schedule = 1f1b }
                }
                """, at: "strategies/small/pp2-tp2-sp.strata")
        } else {
            (strategy, graph) = try CompileSupport.compile(file: file)
        }
        let pipeline = try #require(strategy.pipeline)
        let chunks = pipeline.stages * pipeline.virtualStages
        let microBatches = strategy.microBatchesPerReplica
        let tensor = strategy.tree.attributes[ModuleTree.rootIndex].sequenceParallel
            ? strategy.size(of: strategy.tree.attributes[ModuleTree.rootIndex].tensorParallel ?? "") : 1
        let bytes = Self.hiddenBytes(strategy) / Int64(tensor)
        for rank in 0..<graph.rankCount {
            let stage = graph.mesh.coordinate(of: rank, along: pipeline.axis)
            let tasks = graph.program(of: rank).tasks
            let ownChunks = Array(stride(from: stage, to: chunks, by: pipeline.stages))
            var sends: [PointToPoint] = [], receives: [PointToPoint] = []
            for task in tasks {
                switch task.action {
                case let .send(p): sends.append(p)
                case let .receive(p):
                    receives.append(p)
                    // The chunk's first compute waits for the transfer.
                    let next = tasks[(task.id + 1)...].first { if case .compute = $0.action { true } else { false } }
                    #expect(next?.dependencies.contains(task.id) == true, "rank \(rank): \(task.name) before \(next?.name ?? "nothing")")
                default: break
                }
            }
            let isActivation = { (p: PointToPoint) in p.tag.hasPrefix("F ") || p.tag.hasPrefix("B ") }
            #expect(sends.filter(isActivation).allSatisfy { $0.bytes == bytes && $0.axis == pipeline.axis })
            #expect(receives.filter(isActivation).allSatisfy { $0.bytes == bytes && $0.axis == pipeline.axis })
            // Tied embeddings: the first and last stages swap their copies' gradients, once.
            let model = strategy.model
            let embeddingSends = sends.filter { !isActivation($0) }
            if model.tiedEmbeddings, stage == 0 || stage == pipeline.stages - 1 {
                let tp = strategy.tree.attributes[ModuleTree.rootIndex].tensorParallel.map { strategy.size(of: $0) } ?? 1
                let rows = Int64(model.vocabulary / tp) * Int64(model.hidden)
                #expect(embeddingSends.map(\.bytes) == [Int64(Double(rows) * strategy.training.state.gradientBytesPerParameter)],
                        "rank \(rank): one embedding-gradient exchange")
            } else {
                #expect(embeddingSends.isEmpty, "rank \(rank)")
            }
            let activationSends = sends.filter { $0.tag.hasPrefix("F ") }.count
            let gradientSends = sends.filter { $0.tag.hasPrefix("B ") }.count
            #expect(activationSends == microBatches * ownChunks.filter { $0 != chunks - 1 }.count, "rank \(rank)")
            #expect(gradientSends == microBatches * ownChunks.filter { $0 != 0 }.count, "rank \(rank)")
            #expect(receives.count == sends.count, "rank \(rank)")

            // Every send meets a receive of the same tag on the neighbour it names.
            for send in sends {
                let peer = graph.mesh.neighbour(of: rank, along: send.axis, offset: send.offset)
                let matches = graph.program(of: peer).tasks.filter {
                    if case let .receive(r) = $0.action { r.tag == send.tag && r.offset == -send.offset && r.bytes == send.bytes } else { false }
                }
                #expect(matches.count == 1, "rank \(rank) \(send.tag) → rank \(peer)")
            }
        }
    }

    // MARK: Context parallelism

    /// Ring attention (Liu et al. 2023): over a ring of cp ranks each attention forward passes
    /// its key/value block on cp − 1 times — K and V of b · (s / cp) tokens and the rank's
    /// kv_heads / t heads of head_dim: 2 · b · (s/cp) · (kv_heads/t) · head_dim · bytes — and
    /// backward passes the block and its gradient, twice that.
    @Test func ringAttentionExchanges() throws {
        let (strategy, graph) = try CompileSupport.compile(file: "strategies/small/cp2-tp2.strata")
        let m = strategy.model
        let cp = strategy.size(of: "context"), tp = strategy.size(of: "tensor")
        let block = Int64(2 * Double(strategy.microBatch * (m.sequence / cp) * (m.kvHeads / tp) * m.headDim)
            * strategy.precision.bytesPerElement)
        let tasks = graph.program(of: 0).tasks
        for mb in 0..<strategy.microBatchesPerReplica {
            for layer in 0..<m.layers {
                for (pass, factor) in [("forward", Int64(1)), ("backward", 2)] {
                    let prefix = "layers[\(layer)].attention.core \(pass) mb\(mb) "
                    let sends = tasks.compactMap { task -> PointToPoint? in
                        if case let .send(p) = task.action, p.tag.hasPrefix(prefix) { p } else { nil }
                    }
                    let receives = tasks.filter { if case let .receive(p) = $0.action { p.tag.hasPrefix(prefix) } else { false } }
                    #expect(sends.count == cp - 1 && receives.count == cp - 1, "\(prefix)")
                    #expect(sends.allSatisfy { $0.bytes == factor * block && $0.axis == "context" }, "\(prefix)")
                }
            }
        }
    }

    // MARK: Expert parallelism

    /// Expert parallelism (Lepikhin et al. 2020, GShard; Fedus et al. 2021): around each
    /// MoE layer's routed experts one all-to-all dispatches tokens and one combines them,
    /// in both passes. A rank sends each destination the assignments of its tokens to that
    /// destination's experts, × h × bytes. With the routing shares p_e, T = b · s tokens per
    /// rank, top-k and capacity c, expert e receives min(round(p_e · T · k), ⌊c · T · k / E⌋)
    /// assignments from each rank; uniform dropless routing gives T · k · h · bytes in all.
    @Test(arguments: [
        "strategies/small/moe-ep4-mixed-precision.strata", "strategies/moe/mixtral-8x7b-ep.strata", "inline:moe-uniform",
    ])
    func expertAllToAll(_ file: String) throws {
        let (strategy, graph): (ResolvedStrategy, ExecutionGraph)
        if file == "inline:moe-uniform" {
            (strategy, graph) = try CompileSupport.compile(text: """
                import "base-llama-1b.strata"
                model llama { moe { experts = 8  top_k = 2  expert_ffn = 4096  capacity_factor = none  routing = uniform } }
                strategy {
                    mesh { data = 4 }
                    data_parallel = data
                    layers[*].mlp.experts { expert_parallel = data }
                }
                """, at: "strategies/small/moe-uniform.strata")
        } else {
            (strategy, graph) = try CompileSupport.compile(file: file)
        }
        let m = strategy.model
        let moe = try #require(m.moe)
        let axis = try #require(strategy.tree.modules.nodes.indices.first { strategy.tree.modules.nodes[$0].name == "experts" }
            .flatMap { strategy.tree.attributes[$0].expertParallel })
        let group = strategy.size(of: axis)
        let tokens = strategy.microBatch * m.sequence
        let assignments = Double(tokens * moe.topK)
        let capacity = moe.capacityFactor.map { Int(($0 * assignments / Double(moe.experts)).rounded(.down)) } ?? .max
        let perExpert = moe.routing.shares(experts: moe.experts).map { min(Int(($0 * assignments).rounded()), capacity) }
        let perRank = moe.experts / group
        let hiddenBytes = Int64(Double(m.hidden) * strategy.precision.bytesPerElement)
        let expected = (0..<group).map { Int64(perExpert[$0 * perRank..<($0 + 1) * perRank].reduce(0, +)) * hiddenBytes }
        if moe.capacityFactor == nil {
            // Dropless: everything is sent, whatever the routing.
            CompileSupport.expectClose(Double(expected.reduce(0, +)), assignments * Double(hiddenBytes), within: 1e-4,
                                       "dropless all-to-all bytes")
        }
        if moe.routing == .uniform {
            #expect(expected.reduce(0, +) == Int64(tokens * moe.topK) * hiddenBytes)
        }
        let moeLayers = (0..<m.layers).filter(m.isMoELayer)
        for rankClass in graph.classes {
            let calls = Self.named(graph, rank: rankClass.members[0]).filter { $0.call.kind == .allToAll }
            #expect(calls.allSatisfy { $0.call.axes == [axis] && $0.call.bytesPerDestination == expected
                && $0.call.bytes == expected.reduce(0, +) })
            for mb in 0..<strategy.microBatchesPerReplica {
                let ofMicroBatch = calls.filter { $0.name.hasSuffix(" mb\(mb)") }
                #expect(ofMicroBatch.count == 4 * moeLayers.count)
                for layer in moeLayers {
                    let p = "layers[\(layer)].mlp "
                    #expect(Self.summary(ofMicroBatch.filter { $0.call.label.hasPrefix(p) }) == [
                        "all_to_all \(p)combine", "all_to_all \(p)combine gradient",
                        "all_to_all \(p)dispatch", "all_to_all \(p)dispatch gradient",
                    ], "layer \(layer) mb\(mb)")
                }
            }
        }
    }

    // MARK: Groups

    /// Every collective's group has the product of its axes' sizes as members, and the
    /// members of each group — which may lie in different classes — run the same sequence of
    /// calls over it (NCCL matches calls on a communicator in program order), with the same
    /// bytes except all-to-all, whose sizes are per sender.
    @Test(arguments: CompileSupport.shippedStrategies().filter { $0.hasPrefix("strategies/small/") && !$0.contains("offload") }
        + ["strategies/moe/mixtral-8x7b-ep.strata", "strategies/gpt3/gpt3-175b-megatron-3d.strata"])
    func groupsMatch(_ file: String) throws {
        let (_, graph) = try CompileSupport.compile(file: file)
        let mesh = graph.mesh
        // Per class and axes: the calls in program order.
        var sequences: [[[String]: [String]]] = []
        for rankClass in graph.classes {
            var byAxes: [[String]: [String]] = [:]
            for task in rankClass.tasks {
                guard case let .collective(call) = task.action else { continue }
                let bytes = call.kind == .allToAll ? "" : " \(call.bytes)"
                byAxes[call.axes, default: []].append("\(call.kind.rawValue) \(call.label)\(bytes)")
            }
            sequences.append(byAxes)
        }
        let allAxes = Set(sequences.flatMap(\.keys))
        for axes in allAxes {
            var visited = Set<Int>()
            for rank in 0..<graph.rankCount where !visited.contains(rank) {
                let group = mesh.group(of: rank, over: axes)
                #expect(group.count == mesh.size(of: axes), "\(axes)")
                #expect(group.contains(rank) && Set(group).count == group.count)
                visited.formUnion(group)
                let first = sequences[graph.classOfRank[group[0]]][axes] ?? []
                for member in group.dropFirst() {
                    let sequence = sequences[graph.classOfRank[member]][axes] ?? []
                    #expect(sequence == first, "\(file): ranks \(group[0]) and \(member) over \(axes)")
                }
            }
        }
    }
}

/// The compiler simulates one program per class of ranks (`RankClass`); these check the
/// classes are sound: they partition the ranks, there are as many as pipeline stages times
/// distinct expert signatures (what an expert-parallel rank's experts receive and how they
/// run), and a program built for any other member of a class is the class's program.
@Suite struct RankClassTests {
    /// `tasks` with routed experts' indices renamed to `experts[local]`: ranks of one class
    /// run the same grouped GEMMs on different experts, named after the representative's.
    static func renamed(_ tasks: [GraphTask]) -> [GraphTask] {
        let rename = { (text: String) in text.replacing(/experts\[\d+\]/, with: "experts[local]") }
        return tasks.map { task in
            var task = task
            task.name = rename(task.name)
            if case var .compute(kernel) = task.action {
                kernel.op = rename(kernel.op)
                task.action = .compute(kernel)
            }
            return task
        }
    }

    /// The program `rank` would run, built directly rather than taken from its class.
    static func ownProgram(of rank: Int, _ strategy: ResolvedStrategy, _ graph: ExecutionGraph) -> [GraphTask] {
        let mesh = graph.mesh
        let shapes = OpShapes(model: strategy.model, tree: strategy.tree, mesh: mesh, microBatch: strategy.microBatch,
                              pipelined: (strategy.pipeline?.stages ?? 1) > 1)
        let microBatches = strategy.microBatchesPerReplica
        let stage = strategy.pipeline.map { mesh.coordinate(of: rank, along: $0.axis) } ?? 0
        let schedule = strategy.pipeline.map {
            PipelineScheduler.actions($0.schedule, stages: $0.stages, microBatches: microBatches, virtualStages: $0.virtualStages)[stage]
        } ?? (0..<microBatches).flatMap { [PipelineAction(.forward, microBatch: $0, chunk: 0), PipelineAction(.backward, microBatch: $0, chunk: 0)] }
        return Compiler.program(of: rank, stage: stage, strategy: strategy, mesh: mesh, shapes: shapes, schedule: schedule).tasks
    }

    /// Distinct (token counts, precision, kernel) of the experts each expert-parallel
    /// coordinate holds, over every MoE layer: 1 without expert parallelism.
    static func expertSignatures(_ strategy: ResolvedStrategy) -> Int {
        guard let moe = strategy.model.moe else { return 1 }
        let tree = strategy.tree
        let nodes = tree.modules.nodes
        let experts = nodes.indices.filter { nodes[$0].name == "experts" }
        guard let axis = experts.first.flatMap({ tree.attributes[$0].expertParallel }), strategy.size(of: axis) > 1 else { return 1 }
        let group = strategy.size(of: axis), perRank = moe.experts / group
        let tokens = strategy.microBatch * strategy.model.sequence
        let shares = moe.routing.shares(experts: moe.experts)
        let assignments = Double(tokens * moe.topK)
        let capacity = moe.capacityFactor.map { Int(($0 * assignments / Double(moe.experts)).rounded(.down)) } ?? .max
        let counts = shares.map { min(Int(($0 * assignments).rounded()), capacity) }
        var signatures = Set<String>()
        for coordinate in 0..<group {
            // Each layer's local experts in order: what the rank's grouped GEMMs compute.
            signatures.insert(experts.filter { nodes[$0].index! / perRank == coordinate }.map { expert -> String in
                let a = tree.attributes[expert]
                return "\(counts[nodes[expert].index!]) \(a.precision.description) \(a.kernel ?? "")"
            }.joined(separator: ","))
        }
        return signatures.count
    }

    static let mixedPrecisionUniform = """
        import "base-llama-1b.strata"
        model llama { moe { experts = 8  top_k = 2  expert_ffn = 4096  every = 2  routing = uniform } }
        strategy {
            mesh { data = 4 }
            data_parallel = data
            layers[*].mlp.experts { expert_parallel = data }
            layers[*].mlp.experts[0..1] { precision = fp8 }
        }
        """

    static func compile(_ file: String) throws -> (ResolvedStrategy, ExecutionGraph) {
        file == "inline:mixed-precision-uniform"
            ? try CompileSupport.compile(text: mixedPrecisionUniform, at: "strategies/small/mixed-precision-uniform.strata")
            : try CompileSupport.compile(file: file)
    }

    @Test(arguments: CompileSupport.shippedStrategies().filter { !$0.contains("offload") } + ["inline:mixed-precision-uniform"])
    func classesPartitionRanks(_ file: String) throws {
        let (strategy, graph) = try Self.compile(file)
        var seen = [Int](repeating: 0, count: graph.rankCount)
        for (index, rankClass) in graph.classes.enumerated() {
            #expect(rankClass.members == rankClass.members.sorted() && !rankClass.members.isEmpty)
            for member in rankClass.members {
                seen[member] += 1
                #expect(graph.classOfRank[member] == index)
            }
            // A class never spans stages.
            if let axis = strategy.pipeline?.axis {
                #expect(Set(rankClass.members.map { graph.mesh.coordinate(of: $0, along: axis) }).count == 1)
            }
        }
        #expect(seen.allSatisfy { $0 == 1 })
        #expect(graph.classes.count == (strategy.pipeline?.stages ?? 1) * Self.expertSignatures(strategy), "\(file)")
    }

    /// Every member of every class, rebuilt on its own, runs its class's program exactly.
    @Test(arguments: [
        "strategies/small/tp2-dp2.strata", "strategies/small/cp2-tp2.strata", "strategies/small/pp2-interleaved-dp2.strata",
        "strategies/small/moe-ep4-mixed-precision.strata", "strategies/small/zero3-dp4.strata", "inline:mixed-precision-uniform",
    ])
    func membersRunTheirClassProgram(_ file: String) throws {
        let (strategy, graph) = try Self.compile(file)
        for rankClass in graph.classes {
            for member in rankClass.members.dropFirst() {
                let own = Self.renamed(Self.ownProgram(of: member, strategy, graph))
                let first = zip(own, Self.renamed(rankClass.tasks)).first { $0 != $1 }
                #expect(own.count == rankClass.tasks.count, "\(file): rank \(member) in \(rankClass.label)")
                #expect(first == nil, "\(file): rank \(member) in \(rankClass.label) differs at \(String(describing: first))")
            }
        }
    }

    /// The same for a few members of the big expert-parallel strategies: Mixtral's skewed
    /// routing (a class per expert-parallel rank) and DeepSeek's uniform routing (one class
    /// per stage, whose ranks hold different experts receiving equal tokens).
    @Test(arguments: ["strategies/moe/mixtral-8x7b-ep.strata", "strategies/moe/deepseek-v3-style-ep-pp.strata"])
    func expertParallelMembersRunTheirClassProgram(_ file: String) throws {
        let (strategy, graph) = try Self.compile(file)
        for rankClass in graph.classes.prefix(2) + graph.classes.suffix(1) {
            for member in [rankClass.members[rankClass.members.count / 2], rankClass.members.last!] where member != rankClass.members[0] {
                let own = Self.renamed(Self.ownProgram(of: member, strategy, graph))
                let first = zip(own, Self.renamed(rankClass.tasks)).first { $0 != $1 }
                #expect(own.count == rankClass.tasks.count, "\(file): rank \(member) in \(rankClass.label)")
                #expect(first == nil, "\(file): rank \(member) in \(rankClass.label) differs at \(String(describing: first))")
            }
        }
    }
}

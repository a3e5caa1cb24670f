import Testing
@testable import StrataGraph

/// FSDP2's root unit and its memory: `fully_shard` on the model after its layers takes the
/// parameters no layer holds (the embedding, the final norm, a tied head) as one unit, or
/// every parameter with `unit = model`; the shards stay in the master weights' precision,
/// and a unit is gathered into unsharded parameters of its own.
struct FSDPRootTests {
    /// A two-layer LLaMA with tied embeddings, two micro-batches a GPU, FSDP over four GPUs as
    /// `fsdp` says.
    static func strategy(_ fsdp: String, precision: String = "bf16") -> String {
        """
        model llama { layers = 2  hidden = 256  heads = 4  ffn = 1024  vocab = 1024  seq = 128  tied_embeddings = true }
        training { global_batch = 8  micro_batch = 1  precision = \(precision) }
        cluster { topology = "../../topologies/h100-sxm-4gpu.xml"  gpus = 4 }
        strategy {
            mesh { data = 4 }
            data_parallel = data
            fsdp { \(fsdp) }
        }
        """
    }

    static func gathers(_ graph: ExecutionGraph) -> [GraphTask] {
        graph.program(of: 0).tasks.filter { if case let .collective(call) = $0.action { call.kind == .allGather } else { false } }
    }

    @Test func theModulesNoLayerHoldsAreGatheredOnceAPass() throws {
        let (_, graph) = try CompileSupport.compile(text: Self.strategy("unit = layer  prefetch = 1  reshard_after_forward = true"),
                                                    at: "strategies/small/fsdp-root.strata")
        let tasks = graph.program(of: 0).tasks
        let names = Self.gathers(graph).map(\.name)
        // Per micro-batch: the root's gather, each layer's, then in the backward the root's
        // again (it was resharded after forward) and each layer's in reverse.
        let perMicroBatch = ["root forward", "layers[0] forward", "layers[1] forward",
                             "root backward", "layers[1] backward", "layers[0] backward"]
        #expect(names.count == perMicroBatch.count * 2)
        for (name, expected) in zip(names, Array(repeating: perMicroBatch, count: 2).joined()) {
            #expect(name.contains("parameter all_gather \(expected)"), "\(name)")
        }
        // One unit's hooks a pass for the root, as for each layer.
        #expect(tasks.filter { $0.hook.startsFSDPUnit == .forward }.count == 3 * 2)
        // The root's forward gather is freed by the model's last forward task (the loss's),
        // and its backward gather by the embedding's backward, the backward's last task.
        let rootForward = try #require(tasks.firstIndex { $0.name.hasPrefix("parameter all_gather root forward mb0") })
        let lossForward = try #require(tasks.firstIndex { $0.name == "loss forward mb0" })
        let rootBytes = tasks[rootForward].allocates
        #expect(tasks[lossForward].frees >= rootBytes)
        let embeddingBackward = try #require(tasks.firstIndex { $0.name == "embedding backward mb0" })
        #expect(tasks[embeddingBackward].frees >= rootBytes)
        // The root's gradients (the embedding's and the final norm's) are reduce-scattered
        // together once its backward is done, not with the layers'.
        let scatters = tasks.indices.filter {
            if case let .collective(call) = tasks[$0].action { call.kind == .reduceScatter } else { false }
        }
        let last = try #require(scatters.last)
        #expect(last > embeddingBackward)
    }

    @Test func withoutReshardingTheRootIsKeptFromForwardToBackward() throws {
        let (_, graph) = try CompileSupport.compile(text: Self.strategy("unit = layer  reshard_after_forward = false"),
                                                    at: "strategies/small/fsdp-root.strata")
        let names = Self.gathers(graph).map(\.name)
        #expect(names.filter { $0.contains("root") }.count == 2, "one a micro-batch, at its forward")
        #expect(!names.contains { $0.contains("root backward") })
        #expect(graph.program(of: 0).tasks.filter { $0.hook.startsFSDPUnit != nil && $0.hook.startsFSDPUnit != .forward }.count == 3 * 2,
                "the root's backward hooks still run, with nothing to gather")
    }

    @Test func theWholeModelAsOneUnitIsGatheredOnceAPass() throws {
        let (_, graph) = try CompileSupport.compile(text: Self.strategy("unit = model"), at: "strategies/small/fsdp-root.strata")
        let names = Self.gathers(graph).map(\.name)
        #expect(names.count == 2 * 2)
        #expect(names.allSatisfy { $0.contains("parameter all_gather root") })
    }

    /// With master weights, FSDP keeps no 16-bit shard: the persistent memory is the
    /// gradients and the optimizer's state (masters included), and a unit's gather holds
    /// its whole 16-bit parameters.
    @Test func fsdpKeepsNoSixteenBitShardBesideTheMasters() throws {
        let (strategy, graph) = try CompileSupport.compile(text: Self.strategy("unit = layer"),
                                                           at: "strategies/small/fsdp-root.strata")
        let state = strategy.training.state
        #expect(state.masterWeights)
        let tasks = graph.program(of: 0).tasks
        let rank = graph.program(of: 0)
        // Whole gradients until the last micro-batch reduces them; the optimizer's state,
        // masters included, sharded over the four replicas; no 16-bit weights.
        CompileSupport.expectClose(Double(rank.persistentBytes),
                                   (state.gradientBytesPerParameter + state.optimizerBytesPerParameter / 4) * Double(rank.parameters),
                                   within: 0.001, "FSDP with master weights")
        let layer = tasks.first { $0.name.hasPrefix("parameter all_gather layers[0] forward mb0") }
        guard let layer, case let .collective(call) = layer.action else { Issue.record("no layer gather"); return }
        #expect(layer.allocates == call.bytes, "the whole unsharded unit, not the part beyond the shard")
    }
}

import ArgumentParser
import Foundation
import StrataCore
import StrataGraph
import StrataModel

/// `simulate export`: the resolved plan as JSON, for a runner that executes it for real.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Print the resolved plan of a strategy as JSON for a training runner.",
        discussion: """
            The plan has the model, the batch and precisions, the mesh, the parallel layout of \
            the model as a whole, the pipeline and every GPU's role: its mesh coordinates, its \
            stage and the ranks of each of its groups. scripts/validate/ runs such plans on real \
            GPUs. Strategies whose subtrees differ from the model as a whole are exported with \
            "uniform": false and the differences listed, since the runner executes uniform \
            layouts only.
            """
    )

    @OptionGroup var strategy: StrategyOptions

    @Flag(help: "Print JSON (the only format; kept for symmetry with 'run --json').")
    var json = false

    func run() throws {
        let (_, resolved) = try Pipeline(options: strategy).resolve()
        print(try PlanExport.json(resolved))
    }
}

/// The JSON document `simulate export` prints. Keys are snake_case and sorted.
enum PlanExport {
    struct Plan: Encodable {
        var formatVersion = 1
        var strategy: String
        var model: Model
        var training: Training
        var gpus: Int
        var topology: String
        var gpuName: String
        var mesh: [Axis]
        var parallel: Parallel
        var uniform: Bool
        var differences: [String]
        var ranks: [Rank]
    }

    struct Model: Encodable {
        var family: String
        var layers, hidden, heads, kvHeads, ffn, vocab, seq: Int
        var tiedEmbeddings: Bool
        var parameters: Int64
        var moe: MoE?
    }

    struct MoE: Encodable {
        var experts, topK, expertFfn, sharedExperts, every, firstDense: Int
        var capacityFactor: Double?
        var routing: String
        var routingShares: [Double]
        /// The kernel table the experts' products name (`kernel = "torch._grouped_mm"`), or
        /// nil for eager PyTorch's loop over experts: the runner runs what Strata prices.
        var expertKernel: String?
    }

    struct Training: Encodable {
        var globalBatch, microBatch, microBatchesPerReplica: Int
        var precision, gradientPrecision, optimizer, optimizerState: String
        var masterWeights: Bool
        var masterCopies: String
        var zeroGradients: String
        var dropout: Double
    }

    struct Axis: Encodable {
        var name: String
        var size: Int
    }

    struct Parallel: Encodable {
        var dataParallel: [String]
        var zero: Int
        var fsdp: FSDP?
        var tensorParallel: String?
        var sequenceParallel: Bool
        /// With sequence parallelism: what a column-parallel product keeps of its gathered
        /// input (`sliced` or `gathered`).
        var sequenceParallelInputs: String?
        var contextParallel: String?
        var expertParallel: String?
        var recompute: String
        var pipeline: Pipeline?
        var gradientBucketBytes: Int64
        var gradientOverlap: Bool
        var gradientSyncAfterLastMicroBatch: Bool
        var gradientAverage: String
    }

    struct FSDP: Encodable {
        var unit: String
        var prefetch: Int
        var reshardAfterForward: Bool
    }

    struct Pipeline: Encodable {
        var axis: String
        var stages, virtualStages: Int
        var schedule: String
        var layersPerChunk: [Int]
    }

    struct Rank: Encodable {
        var rank: Int
        var coordinates: [String: Int]
        var stage: Int
        /// For each mesh axis (and the data-parallel axes together, as "data_parallel"):
        /// the ranks of this GPU's group, in group order.
        var groups: [String: [Int]]
    }

    static func json(_ strategy: ResolvedStrategy) throws -> String {
        let tree = strategy.tree
        let root = tree.attributes[ModuleTree.rootIndex]
        let mesh = Mesh(strategy.mesh)
        let model = strategy.model
        let state = strategy.training.state
        let expert = tree.modules.nodes.indices.first { tree.modules.nodes[$0].name == "experts" }
        let expertAxis = expert.flatMap { tree.attributes[$0].expertParallel }
        let expertKernel = expert.flatMap { tree.attributes[$0].kernel }

        // What differs anywhere below the root, apart from what MoE experts are meant to differ in.
        var differences: [String] = []
        for index in tree.attributes.indices.dropFirst() {
            var a = tree.attributes[index]
            a.expertParallel = root.expertParallel
            // An expert (a module called `experts`) or anything inside one.
            let withinExpert = tree.modules.nodes[index].name == "experts" || tree.modules.hasAncestor(index, named: "experts")
            if withinExpert, a.kernel == expertKernel { a.kernel = root.kernel }
            if a != root, !differences.contains(tree.modules.path(of: index)) {
                if withinExpert && a.precision == root.precision { continue }
                differences.append(tree.modules.path(of: index))
            }
            if tree.sources[index]["split"] != nil || tree.sources[index]["place"] != nil || tree.sources[index]["tp_style"] != nil {
                differences.append(tree.modules.path(of: index) + " (explicit layout)")
            }
        }

        let ranks = (0..<mesh.rankCount).map { rank -> Rank in
            var groups: [String: [Int]] = [:]
            for axis in mesh.axes { groups[axis.name] = mesh.group(of: rank, over: [axis.name]) }
            groups["data_parallel"] = mesh.group(of: rank, over: root.dataParallel)
            return Rank(rank: rank,
                        coordinates: Dictionary(uniqueKeysWithValues: mesh.axes.map { ($0.name, mesh.coordinate(of: rank, along: $0.name)) }),
                        stage: strategy.pipeline.map { mesh.coordinate(of: rank, along: $0.axis) } ?? 0,
                        groups: groups)
        }
        let moe = model.moe.map { moe -> MoE in
            let routing: String = switch moe.routing {
            case .uniform: "uniform"
            case let .zipf(alpha): "zipf(\(alpha))"
            case let .histogram(path, _): "histogram(\(path))"
            }
            return MoE(experts: moe.experts, topK: moe.topK, expertFfn: moe.expertFFN, sharedExperts: moe.sharedExperts,
                       every: moe.every, firstDense: moe.firstDense, capacityFactor: moe.capacityFactor, routing: routing,
                       routingShares: moe.routing.shares(experts: moe.experts), expertKernel: expertKernel)
        }
        let plan = Plan(
            strategy: strategy.path,
            model: Model(family: model.family.rawValue, layers: model.layers, hidden: model.hidden, heads: model.heads,
                         kvHeads: model.kvHeads, ffn: model.ffnHidden, vocab: model.vocabulary, seq: model.sequence,
                         tiedEmbeddings: model.tiedEmbeddings, parameters: StrategyReport.parameterCount(model), moe: moe),
            training: Training(globalBatch: strategy.globalBatch, microBatch: strategy.microBatch,
                               microBatchesPerReplica: strategy.microBatchesPerReplica, precision: strategy.precision.rawValue,
                               gradientPrecision: state.gradientPrecision.rawValue, optimizer: state.optimizer.rawValue,
                               optimizerState: state.statePrecision.rawValue, masterWeights: state.masterWeights,
                               masterCopies: state.masterCopies.rawValue,
                               zeroGradients: strategy.training.gradientZeroing.rawValue, dropout: strategy.training.dropout),
            gpus: strategy.gpuCount, topology: strategy.topologyPath, gpuName: strategy.cluster.gpus[0].spec.name,
            mesh: strategy.mesh.map { Axis(name: $0.name, size: $0.size) },
            parallel: Parallel(
                dataParallel: root.dataParallel, zero: root.zero,
                fsdp: strategy.fsdp.map { FSDP(unit: $0.unit.rawValue, prefetch: $0.prefetch, reshardAfterForward: $0.reshardAfterForward) },
                tensorParallel: root.tensorParallel, sequenceParallel: root.sequenceParallel && root.tensorParallel != nil,
                sequenceParallelInputs: root.sequenceParallel && root.tensorParallel != nil
                    ? strategy.training.sequenceParallelInputs.rawValue : nil,
                contextParallel: root.contextParallel, expertParallel: expertAxis, recompute: root.recompute.rawValue,
                pipeline: strategy.pipeline.map { Pipeline(axis: $0.axis, stages: $0.stages, virtualStages: $0.virtualStages,
                                                           schedule: $0.schedule.rawValue, layersPerChunk: $0.layersPerChunk) },
                gradientBucketBytes: strategy.gradientSync.bucketBytes, gradientOverlap: strategy.gradientSync.overlap,
                gradientSyncAfterLastMicroBatch: strategy.gradientSync.afterLastMicroBatch,
                gradientAverage: strategy.gradientSync.average.rawValue),
            uniform: differences.isEmpty, differences: differences, ranks: ranks)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(data: try encoder.encode(plan), encoding: .utf8)!
    }
}

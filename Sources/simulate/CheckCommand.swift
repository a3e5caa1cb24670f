import ArgumentParser
import StrataCore
import StrataGraph
import StrataModel

/// `simulate check`: parse and validate a strategy without simulating or storing it.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a strategy file and print it resolved, with every default filled in.",
        discussion: "Exits 0 when the strategy is valid; otherwise prints every problem found and exits 2."
    )

    @OptionGroup var strategy: StrategyOptions

    func run() throws {
        let (_, resolved) = try Pipeline(options: strategy).resolve()
        print(Self.describe(resolved))
    }

    static func describe(_ strategy: ResolvedStrategy) -> String {
        let model = strategy.model
        let parameters = GPTBuilder(config: model, microBatch: 1, precision: strategy.precision).ops()
            .reduce(Int64(0)) { $0 + $1.parameters }
        let training = strategy.training
        let spec = strategy.cluster.gpus[0].spec
        var lines = ["\(strategy.path): ok"]
        if !strategy.parameters.isEmpty {
            lines.append("parameters")
            lines += strategy.parameters.map { "  \($0.name) = \($0.value)" }
        }
        lines.append("model gpt")
        lines.append("  layers \(model.layers), hidden \(model.hidden), heads \(model.heads), ffn \(model.ffnHidden)")
        lines.append("  vocab \(model.vocabulary), seq \(model.sequence), tied_embeddings \(model.tiedEmbeddings)")
        lines.append("  \(Format.grouped(Double(parameters))) parameters")
        lines.append("training")
        lines.append("  global_batch \(strategy.globalBatch), micro_batch \(strategy.microBatch), \(strategy.microBatchesPerReplica) micro-batches per replica")
        lines.append("  precision \(strategy.precision.rawValue), optimizer \(training.optimizer.rawValue), master_weights \(training.masterWeights)")
        lines.append("cluster")
        lines.append("  topology \(strategy.topologyPath) (\(strategy.cluster.name): \(strategy.cluster.gpus.count) × \(spec.name))")
        lines.append("  gpus \(strategy.gpuCount)")
        lines.append("strategy")
        lines.append("  mesh " + strategy.mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × "))
        lines.append("  data_parallel \(strategy.dataParallelAxis) (\(strategy.dataParallel) replicas)")
        return lines.joined(separator: "\n")
    }
}

import ArgumentParser
import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataGraph
import StrataStore

/// `simulate run`: simulate one iteration of a strategy and store the result.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Simulate one training iteration of a strategy and store the result.",
        discussion: """
            Prints a summary (or one JSON object with --json) and appends a row to the results \
            database. A strategy that does not fit in GPU memory is a result, not an error: it \
            is reported, stored, and the command exits 0.
            """
    )

    @OptionGroup var strategy: StrategyOptions

    @Option(help: ArgumentHelp("The results database; created if missing.", valueName: "path"))
    var db = "strata.sqlite"

    @Flag(help: "Print one JSON object on standard output instead of the summary.")
    var json = false

    @Flag(help: "Simulate every GPU instead of one per class of identical GPUs (slower; for checking folding).")
    var exact = false

    @Option(help: ArgumentHelp("Write the iteration's timeline as a Chrome/Perfetto trace (open it at ui.perfetto.dev).",
                               valueName: "path"))
    var trace: String?

    func run() throws {
        let pipeline = Pipeline(options: strategy)
        let (text, resolved) = try pipeline.resolve()
        let topologyText = try Pipeline.readText(resolved.topologyPath, what: "topology file")
        let costModels = try Pipeline.costs(for: resolved, traces: strategy.traces)
        let (graph, result, metrics, costs) = try Pipeline.simulate(resolved, recordsTimeline: trace != nil, exact: exact,
                                                                    costs: costModels)
        if let trace, let timeline = result.timeline {
            let text = TraceWriter.json(graph: graph, timeline: timeline, ranks: result.simulatedRanks,
                                        gpuNames: (0..<graph.rankCount).map { resolved.cluster.gpus[$0].spec.name },
                                        criticalPath: result.criticalPath)
            do {
                try text.write(toFile: trace, atomically: true, encoding: .utf8)
            } catch {
                throw DiagnosticError(Diagnostic(file: trace, "cannot write the trace: \(error.localizedDescription)",
                                                 help: "check that the folder exists and is writable"))
            }
        }

        // Everything is validated and simulated before the database is opened, so bad
        // input never touches it.
        let store = try RunStore(path: db)
        let sources = StrategySources(of: try Parser.parse(text, path: strategy.file))
        let inputs = RunInputs(strategyText: text, imports: sources.imports, topologyPath: resolved.topologyPath,
                               overrides: strategy.parsedOverrides, costs: costModels, digests: FileDigests())
        let rows = RunRecords.rows(strategyPath: strategy.file, strategyText: text, topologyText: topologyText,
                                   overrides: strategy.parsedOverrides, strategy: resolved, result: result, metrics: metrics,
                                   costs: costs, inputs: inputs)
        let id = try store.insert(rows.run, gpus: rows.gpus, links: rows.links, criticalPath: rows.criticalPath)

        if json {
            print(try RunReport.json(metrics: metrics, result: result, runID: id, strategy: resolved, costs: costs))
        } else {
            print(RunReport.summary(metrics: metrics, result: result, strategy: resolved, runID: id, database: db, costs: costs))
        }
    }
}

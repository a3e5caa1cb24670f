import ArgumentParser
import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataGraph
import StrataStore

/// `simulate plot timeline`: what every simulated GPU did over one iteration, from a
/// strategy file or a stored run.
struct PlotTimelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timeline",
        abstract: "Draw one iteration's timeline: a lane per simulated GPU, a row per stream.",
        discussion: """
            Simulates FILE (with --set, --topology, --traces as 'simulate run' takes them), or \
            replays stored run --run ID from --db: its strategy text, topology text and \
            overrides as stored, with imported files and cost tables read from disk again \
            (a warning says when the replay's iteration time differs from the stored one). \
            Folded runs show one lane per class of identical GPUs (×N: how many); --exact \
            shows every GPU. Each pixel column of a row takes the colour of the kind of task \
            that covers most of it, so runs of many thousand tasks stay readable.
            """
    )

    @Argument(help: ArgumentHelp("The strategy file (.strata); omit with --run.", valueName: "file"))
    var file: String?

    @Option(help: ArgumentHelp("Use this topology XML instead of the one the strategy names.", valueName: "path"))
    var topology: String?

    @Option(name: .customLong("set"),
            help: ArgumentHelp("Override a 'let' parameter of the strategy, e.g. --set dp=8. Repeatable.", valueName: "name=value"))
    var overrides: [String] = []

    @Option(help: ArgumentHelp("Measured kernel tables to price ops with (default: traces/ beside the topology's folder).",
                               valueName: "dir"))
    var traces: String?

    @Option(name: .customLong("run"), help: ArgumentHelp("Replay this stored run instead of a strategy file.", valueName: "id"))
    var storedRun: Int64?

    @Option(help: ArgumentHelp("The results database --run reads.", valueName: "path"))
    var db = "strata.sqlite"

    @Flag(help: "Simulate and draw every GPU instead of one per class of identical GPUs.")
    var exact = false

    @OptionGroup var output: PlotOutput

    func validate() throws {
        for argument in overrides where Override(argument: argument) == nil {
            throw ValidationError("--set expects name=value, such as --set dp=8; got '\(argument)'")
        }
    }

    func run() throws {
        let command = "simulate plot timeline"
        let strategy: ResolvedStrategy
        var tables = traces
        var stored: RunRecord?
        switch (file, storedRun) {
        case (nil, nil):
            throw DiagnosticError(Diagnostic(file: command, "nothing to draw",
                                             help: "pass a strategy file, or --run ID with --db PATH for a stored run"))
        case (.some, .some):
            throw DiagnosticError(Diagnostic(file: command, "a strategy file and --run are two different runs",
                                             help: "pass one: the file to simulate, or --run ID to replay a stored run"))
        case let (.some(file), nil):
            let text = try Pipeline.readText(file, what: "strategy file")
            strategy = try Resolver.resolve(try Parser.parse(text, path: file),
                                            overrides: overrides.compactMap(Override.init(argument:)), topologyOverride: topology)
        case let (nil, .some(id)):
            if !overrides.isEmpty || topology != nil {
                throw DiagnosticError(Diagnostic(file: command, "--run replays a stored run as it was; --set and --topology change it",
                                                 help: "plot the strategy file with --set instead, or drop them"))
            }
            let run = try RunStore(readingFrom: db).run(id: id)
            let replay = try StoredRunReplay.resolve(run, traces: traces)
            strategy = replay.strategy
            tables = replay.traces
            stored = run
        }
        let (graph, result, metrics, costs) = try Pipeline.simulate(strategy, recordsTimeline: true, exact: exact, traces: tables)
        if let stored, let warning = StoredRunReplay.check(stored, replayedSeconds: metrics.iterationTimeSeconds) {
            Simulate.printError(warning.description)
        }
        let spec = strategy.cluster.gpus[0].spec
        let mesh = strategy.mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × ")
        let source = stored.map { "run \($0.id ?? 0): " } ?? ""
        let overridesText = stored.map { StoredOverrides(json: $0.overrides).display }
            ?? overrides.joined(separator: " ")
        let title = "\(source)\(strategy.path)\(overridesText.isEmpty ? "" : " (\(overridesText))") — one iteration"
        let folded = result.simulatedRanks.count < graph.rankCount
            ? "; one lane per class of identical GPUs (×N: GPUs in the class)" : ""
        let subtitle = "\(strategy.gpuCount) × \(spec.name) on \(strategy.cluster.name), mesh \(mesh): "
            + "\(Format.duration(metrics.iterationTimeSeconds)), \(Format.grouped(metrics.tokensPerSecond)) tokens/s, "
            + "MFU \(Format.percent(metrics.mfu)), costs \(costs)\(folded)"
        let chart = TimelinePlot.chart(graph: graph, result: result, timeline: result.timeline!, title: title, subtitle: subtitle)
        try output.write(chart.svg())
    }
}

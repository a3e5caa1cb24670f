import ArgumentParser
import Foundation
import StrataCore
import StrataPlot
import StrataStore

/// `simulate plot scatter`: a sweep's runs as throughput against GPUs or peak memory,
/// with the Pareto front of the runs that fit.
struct PlotScatterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scatter",
        abstract: "Draw stored runs' tokens/s against GPUs or peak memory, with the Pareto front of those that fit.",
        discussion: """
            Every run --strategy and --topology keep is a point: a dot when it fits in memory, \
            a grey cross when it does not. The step line joins the Pareto front (the runs \
            'simulate query --pareto' lists), labelled with run id, strategy and overrides.
            """
    )

    @Option(help: ArgumentHelp("The results database.", valueName: "path"))
    var db = "strata.sqlite"

    @Option(help: ArgumentHelp("What to put on the x axis: GPU count or peak memory per GPU.", valueName: "gpus|memory"))
    var x: RunRanking.Cost = .gpus

    @Option(help: ArgumentHelp("Only runs whose strategy path matches this glob ('*' any text).", valueName: "pattern"))
    var strategy: String?

    @Option(help: ArgumentHelp("Only runs on the topology of this name.", valueName: "name"))
    var topology: String?

    @Option(help: ArgumentHelp("Only runs on this many GPUs (with --x memory: the layouts of one cluster size).", valueName: "n"))
    var gpus: Int?

    @OptionGroup var output: PlotOutput

    func run() throws {
        let store = try RunStore(readingFrom: db)
        let runs = try store.runs(matching: RunFilter(strategyPattern: strategy, topologyName: topology, gpus: gpus))
        guard !runs.isEmpty else {
            let filters = [strategy.map { "--strategy '\($0)'" }, topology.map { "--topology '\($0)'" }, gpus.map { "--gpus \($0)" }]
                .compactMap { $0 }
            throw DiagnosticError(Diagnostic(file: db, filters.isEmpty ? "no runs to draw" : "no runs match \(filters.joined(separator: " and "))",
                                             help: "'simulate query --db \(db)' lists the stored runs"))
        }
        let cost = x
        let front = Set(RunRanking.front(runs.filter(\.fitsInMemory), cost: cost).compactMap(\.id))
        // Memory in GiB, or MiB when every run needs less than a GiB.
        let (memoryUnit, bytesPerUnit) = runs.map(\.peakMemoryBytes).max()! >= 1 << 30 ? ("GiB", 1_073_741_824.0) : ("MiB", 1_048_576.0)
        // Labels name what differs: the overrides alone when every run is one strategy file.
        let paths = Set(runs.map(\.strategyPath))
        let shared = paths.count == 1 ? paths.first : nil
        let points = runs.map { run in
            let name = RunColumns.shortName(run)
            let overrides = StoredOverrides(json: run.overrides).display
            let label = shared != nil && !overrides.isEmpty ? overrides : name
            let xValue = cost == .gpus ? Double(run.gpus) : Double(run.peakMemoryBytes) / bytesPerUnit
            return ScatterChart.Point(
                x: xValue, y: run.tokensPerS, fits: run.fitsInMemory, onFront: front.contains(run.id ?? -1),
                label: "\(run.id ?? 0): \(label)",
                tooltip: "run \(run.id ?? 0): \(name) on \(run.topologyName), \(run.gpus) GPUs, \(Format.grouped(run.tokensPerS)) tokens/s, "
                    + "peak \(Format.bytes(Double(run.peakMemoryBytes)))\(run.fitsInMemory ? "" : " (does not fit)")")
        }
        // GPU counts go by factors (mostly of 2): a log scale with powers of 2 as ticks.
        let xScale: ScatterChart.XScale = cost == .gpus ? .log(base: 2) : .linear
        // The GPUs' memory, when all runs had the same: what "fits" is measured against.
        var capacity: Int64?
        if cost == .memory {
            let capacities = Set(try runs.compactMap { try store.breakdown(ofRun: $0.id ?? 0)?.memoryCapacityBytes })
            if capacities.count == 1 { capacity = capacities.first }
        }
        let outCount = runs.count - runs.filter(\.fitsInMemory).count
        let versus = cost == .gpus ? "GPUs" : "peak memory per GPU"
        let chart = ScatterChart(
            title: "Throughput against \(versus): \(runs.count) run\(runs.count == 1 ? "" : "s") in \((db as NSString).lastPathComponent)",
            subtitle: "\(front.count) on the Pareto front; \(outCount) do\(outCount == 1 ? "es" : "") not fit in memory"
                + (shared.map { "; every run is \($0), labels give run id and --set values" } ?? "")
                + (strategy.map { "; strategy \($0)" } ?? "") + (topology.map { "; topology \($0)" } ?? "")
                + (gpus.map { "; \($0) GPUs" } ?? ""),
            xTitle: cost == .gpus ? "GPUs (log scale)" : "peak memory of the fullest GPU (\(memoryUnit))",
            yTitle: "throughput (tokens/s)", xScale: xScale, points: points,
            frontDescription: "Pareto front: no run that fits has more tokens/s with " + (cost == .gpus ? "fewer GPUs" : "less memory"),
            xLimit: capacity.map { (Double($0) / bytesPerUnit, "GPU memory \(Format.bytes(Double($0)))") })
        try output.write(chart.svg())
    }
}

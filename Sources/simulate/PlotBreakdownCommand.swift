import ArgumentParser
import Foundation
import StrataCore
import StrataGraph
import StrataPlot
import StrataStore

/// `simulate plot breakdown`: where stored runs' iteration time went, one stacked bar per
/// run.
struct PlotBreakdownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "breakdown",
        abstract: "Draw where stored runs' time went: compute, exposed communication by kind, bubble, idle.",
        discussion: """
            One bar per run, the mean over its GPUs, so each bar is as long as the run's \
            iteration. Kinds of exposed communication that overlap each other share the \
            exposed time in proportion to their own.
            """
    )

    @Option(help: ArgumentHelp("The results database.", valueName: "path"))
    var db = "strata.sqlite"

    @Argument(help: ArgumentHelp("The runs to draw, by id, top to bottom.", valueName: "run"))
    var runs: [Int64] = []

    @OptionGroup var output: PlotOutput

    /// Compute, each kind of communication, the bubble, then idle outside a pipeline.
    static let categories: [Category] = [PlotColours.stream(.compute)]
        + ["tp-comm", "cp-comm", "ep-comm", "pp-comm", "grad-sync", "param-gather"].map { name in
            PlotColours.stream(StreamKind(rawValue: name)!)
        } + [PlotColours.bubble, PlotColours.idle]

    func run() throws {
        guard !runs.isEmpty else {
            throw DiagnosticError(Diagnostic(file: "simulate plot breakdown", "no runs to draw",
                                             help: "name runs by id, such as 'simulate plot breakdown --db \(db) 1 2 3'"))
        }
        let store = try RunStore(readingFrom: db)
        let records = try runs.map { id throws in try store.run(id: id) }
        // Labels name what differs: the overrides alone when every run is one strategy file.
        let paths = Set(records.map(\.strategyPath))
        let shared = paths.count == 1 ? paths.first : nil
        let bars = try records.map { run throws -> StackedBarChart.Bar in
            let id = run.id ?? 0
            let overrides = StoredOverrides(json: run.overrides).display
            let what = shared != nil && !overrides.isEmpty ? overrides : RunColumns.shortName(run)
            let name = "run \(id) · \(what) · \(run.gpus) GPU\(run.gpus == 1 ? "" : "s")"
            guard let times = try store.breakdown(ofRun: id) else {
                return StackedBarChart.Bar(label: name, segments: [], total: "no per-GPU rows")
            }
            return StackedBarChart.Bar(label: name, segments: Self.segments(times),
                                       total: Format.duration(run.iterationTimeS))
        }
        let chart = StackedBarChart(
            title: "Where the iteration time goes",
            subtitle: "mean per GPU; exposed communication is what compute did not hide"
                + (shared.map { "; every run is \($0), labels give run id and --set values" } ?? ""),
            axisTitle: "time per iteration", categories: Self.categories, bars: bars)
        try output.write(chart.svg())
    }

    /// The bar of one run: compute, the exposed time split over kinds in proportion to
    /// each kind's own exposed time (they overlap when two kinds wait at once), the
    /// bubble, and idle time outside it.
    static func segments(_ times: RunTimeBreakdown) -> [Double] {
        let kinds = times.exposedByKind.map(\.seconds)
        let sum = kinds.reduce(0, +)
        let share = sum > 0 ? times.exposedCommunicationS / sum : 0
        return [times.computeS] + kinds.map { $0 * share } + [times.bubbleS, max(0, times.idleS - times.bubbleS)]
    }
}

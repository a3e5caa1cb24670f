import StrataCore
import StrataEngine
import StrataGraph
import StrataPlot

/// Turns a simulated iteration's recorded timeline into a `TimelineChart`: a lane per
/// simulated GPU (one per class of identical GPUs when folded), a row per stream it used
/// in `StreamKind` order, compute coloured by pass and communication by kind.
enum TimelinePlot {
    static func chart(graph: ExecutionGraph, result: SimulationResult, timeline: Timeline, title: String,
                      subtitle: String) -> TimelineChart {
        var categories: [Category] = []
        var index: [String: Int] = [:]
        func category(_ category: Category) -> Int {
            if let known = index[category.name] { return known }
            categories.append(category)
            index[category.name] = categories.count - 1
            return categories.count - 1
        }
        // Fixed order for the legend, whatever appears first.
        for pass in [Pass.forward, .backward, .backwardInput, .backwardWeight, .recompute, .optimizer] {
            _ = category(PlotColours.pass(pass))
        }
        for kind in StreamKind.allCases where kind != .compute { _ = category(PlotColours.stream(kind)) }

        let lanes = result.simulatedRanks.enumerated().map { sim, rank -> TimelineChart.Lane in
            let program = graph.program(of: rank)
            var rows: [StreamKind: [TimelineChart.Span]] = [:]
            for span in timeline.spans[sim] {
                let task = program.tasks[span.task]
                let colour: Int = if case let .compute(kernel) = task.action {
                    category(PlotColours.pass(kernel.pass))
                } else {
                    category(PlotColours.stream(task.stream))
                }
                rows[task.stream, default: []].append(TimelineChart.Span(start: span.start.seconds, end: span.end.seconds,
                                                                         category: colour, name: task.name))
            }
            // "GPU 64 · stage 1 (×64)": the pipeline stage, and how many GPUs the lane stands for.
            let alike = program.members.count
            let stage = program.label.hasPrefix("stage") ? program.label.split(separator: ",").first.map { " · \($0)" } ?? "" : ""
            let folded = alike > 1 && result.simulatedRanks.count < graph.rankCount ? " (×\(alike))" : ""
            let label = "GPU \(rank)\(stage)\(folded)"
            return TimelineChart.Lane(label: label, rows: StreamKind.allCases.compactMap { kind in
                rows[kind].map { TimelineChart.Row(label: kind.rawValue, spans: $0) }
            })
        }
        return TimelineChart(title: title, subtitle: subtitle, lanes: lanes, categories: categories,
                             duration: result.iterationTime.seconds)
    }
}

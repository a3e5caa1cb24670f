import ArgumentParser

/// `simulate plot`: draw a run or a sweep as SVG, with Strata's own renderer (no tools
/// needed to view it but a browser).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw a run's timeline, a sweep's throughput against cost, or where runs' time went, as SVG.",
        discussion: "docs/plots.md shows an example of each and the command that drew it.",
        subcommands: [PlotTimelineCommand.self, PlotScatterCommand.self, PlotBreakdownCommand.self]
    )
}

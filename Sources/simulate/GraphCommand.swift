import ArgumentParser
import StrataCore
import StrataGraph

/// `simulate graph`: what one GPU executes under a strategy.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print the tasks one GPU runs in an iteration, or the graph as Graphviz dot.",
        discussion: """
            Compiles the strategy and prints rank R's program in order: each task's stream, \
            what it computes or communicates (with the group of ranks it talks to), the \
            tasks it waits for, and the memory it allocates or frees. Ranks that differ only \
            in whom they talk to share one program; the header says how many do.
            """
    )

    @OptionGroup var strategy: StrategyOptions

    @Option(help: ArgumentHelp("The rank whose program to print.", valueName: "r"))
    var rank = 0

    @Flag(help: "Print Graphviz dot instead of a table: tasks as nodes, one cluster per stream, dependencies as edges.")
    var dot = false

    @Option(help: ArgumentHelp("Print at most this many tasks (all by default).", valueName: "n"))
    var limit: Int?

    func validate() throws {
        guard rank >= 0 else { throw ValidationError("--rank must be 0 or more, got \(rank)") }
        if let limit, limit <= 0 { throw ValidationError("--limit must be a positive number of tasks, got \(limit)") }
    }

    func run() throws {
        let (_, resolved) = try Pipeline(options: strategy).resolve()
        let graph = try Compiler.compile(resolved)
        guard rank < graph.rankCount else {
            throw DiagnosticError(Diagnostic(file: "--rank \(rank)", "the strategy runs on \(graph.rankCount) GPUs (ranks 0 to \(graph.rankCount - 1))",
                                             help: "pass a rank below \(graph.rankCount)"))
        }
        print(dot ? GraphReport.dot(graph, rank: rank, limit: limit) : GraphReport.table(graph, rank: rank, limit: limit))
    }
}

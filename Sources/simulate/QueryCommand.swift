import ArgumentParser
import StrataCore
import StrataStore

/// `simulate query`: list stored runs, or run read-only SQL on the results database.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "List recent runs, or run read-only SQL on a results database.",
        discussion: """
            Without --sql, prints the most recent runs as a table. With --sql, runs the \
            statement on a read-only connection and prints its rows; tables are 'run' (one row \
            per simulated run) and 'run_gpu' (one row per GPU of a run).
            """
    )

    @Option(help: ArgumentHelp("The results database.", valueName: "path"))
    var db = "strata.sqlite"

    @Option(help: ArgumentHelp("A read-only SQL statement to run, such as \"SELECT id, mfu FROM run\".", valueName: "statement"))
    var sql: String?

    @Flag(help: "Print rows as CSV instead of an aligned table.")
    var csv = false

    @Option(help: ArgumentHelp("How many recent runs to list.", valueName: "n"))
    var limit = 20

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be a positive number of runs, got \(limit)") }
    }

    func run() throws {
        let store = try RunStore(readingFrom: db)
        let result: QueryResult
        if let sql {
            result = try store.query(sql)
        } else {
            result = Self.recent(try store.recentRuns(limit: limit))
        }
        print(csv ? Tables.csv(result) : Tables.aligned(result), terminator: result.rows.isEmpty && !csv ? "" : "\n")
        if result.rows.isEmpty, !csv { print(sql == nil ? "no runs in \(db)" : "(no rows)") }
    }

    static func recent(_ runs: [RunRecord]) -> QueryResult {
        QueryResult(
            columns: ["id", "created (UTC)", "strategy", "topology", "gpus", "iteration", "tokens/s", "MFU", "peak memory", "fits"],
            rows: runs.map { run in
                [
                    String(run.id ?? 0), run.createdAt, run.strategyPath, run.topologyName, String(run.gpus),
                    Format.duration(run.iterationTimeS), Format.grouped(run.tokensPerS), Format.percent(run.mfu),
                    Format.bytes(Double(run.peakMemoryBytes)), run.fitsInMemory ? "yes" : "no",
                ]
            })
    }
}

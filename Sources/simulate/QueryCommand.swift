import ArgumentParser
import StrataCore
import StrataStore

/// `simulate query`: list stored runs, report the best ones, a Pareto front or what
/// differs between two runs, or run read-only SQL on the results database.
struct QueryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "List, rank and compare stored runs, or run read-only SQL on a results database.",
        discussion: """
            Without a report option, prints the most recent runs as a table. --best N ranks \
            the runs that fit in memory by throughput; --pareto gpus|memory prints the runs \
            no other fitting run beats with both more tokens/s and fewer GPUs (or less peak \
            memory); --compare A B shows what differs between two runs and where the time \
            moved. --strategy, --topology and --gpus narrow the listing, --best and --pareto. With \
            --sql, runs the statement on a read-only connection; tables are 'run' (one row \
            per simulated run), 'run_gpu' (one row per GPU of a run) and 'run_link'.

            Reports print as an aligned table, or with --csv and --json as CSV (snake_case \
            keys, raw numbers: seconds, bytes, fractions) and JSON.
            """
    )

    @Option(help: ArgumentHelp("The results database.", valueName: "path"))
    var db = "strata.sqlite"

    @Option(help: ArgumentHelp("A read-only SQL statement to run, such as \"SELECT id, mfu FROM run\".", valueName: "statement"))
    var sql: String?

    @Option(help: ArgumentHelp("Report the N runs with the most tokens/s among those that fit in memory.", valueName: "n"))
    var best: Int?

    @Option(help: ArgumentHelp("Report the Pareto front of tokens/s against GPU count or peak memory, among runs that fit.",
                               valueName: "gpus|memory"))
    var pareto: RunRanking.Cost?

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("Compare two runs by id: inputs, strategy text and where the time moved.", valueName: "run"))
    var compare: [Int64] = []

    @Option(help: ArgumentHelp("Only runs whose strategy path matches this glob ('*' any text), such as 'strategies/llama3/*'.",
                               valueName: "pattern"))
    var strategy: String?

    @Option(help: ArgumentHelp("Only runs on the topology of this name, as the listing shows it.", valueName: "name"))
    var topology: String?

    @Option(help: ArgumentHelp("Only runs on this many GPUs.", valueName: "n"))
    var gpus: Int?

    @Flag(help: "Print rows as CSV instead of an aligned table.")
    var csv = false

    @Flag(help: "Print the report as JSON instead of an aligned table.")
    var json = false

    @Option(help: ArgumentHelp("How many recent runs to list.", valueName: "n"))
    var limit = 20

    func validate() throws {
        guard limit > 0 else { throw ValidationError("--limit must be a positive number of runs, got \(limit)") }
    }

    /// Which report the options ask for.
    enum Report {
        case recent, sql(String), best(Int), pareto(RunRanking.Cost), compare(Int64, Int64)
    }

    /// The report, or a diagnostic when options ask for two at once or make no sense.
    func report() throws(DiagnosticError) -> Report {
        let command = "simulate query"
        var chosen: [String] = []
        if sql != nil { chosen.append("--sql") }
        if best != nil { chosen.append("--best") }
        if pareto != nil { chosen.append("--pareto") }
        if !compare.isEmpty { chosen.append("--compare") }
        if chosen.count > 1 {
            throw DiagnosticError(Diagnostic(file: command, "\(chosen.joined(separator: " and ")) ask for different reports",
                                             help: "pass one of --sql, --best, --pareto and --compare at a time"))
        }
        if csv, json {
            throw DiagnosticError(Diagnostic(file: command, "--csv and --json ask for different output formats",
                                             help: "pass one of them, or neither for an aligned table"))
        }
        if sql != nil || !compare.isEmpty, strategy != nil || topology != nil || gpus != nil {
            let filter = strategy != nil ? "--strategy" : topology != nil ? "--topology" : "--gpus"
            throw DiagnosticError(Diagnostic(file: command, "\(filter) narrows the listing, --best and --pareto, not \(chosen[0])",
                                             help: chosen[0] == "--sql" ? "filter in the statement: WHERE strategy_path GLOB '…'"
                                                 : "--compare names its two runs by id; drop \(filter)"))
        }
        if let best {
            guard best > 0 else {
                throw DiagnosticError(Diagnostic(file: command, "--best needs a positive number of runs, got \(best)",
                                                 help: "ask for at least one, such as --best 5"))
            }
            return .best(best)
        }
        if let pareto { return .pareto(pareto) }
        if !compare.isEmpty {
            guard compare.count == 2 else {
                throw DiagnosticError(Diagnostic(file: command, "--compare takes two run ids, got \(compare.count)",
                                                 help: "name the run to compare from and the one to compare to, such as --compare 3 7"))
            }
            return .compare(compare[0], compare[1])
        }
        if let sql { return .sql(sql) }
        return .recent
    }

    var filter: RunFilter { RunFilter(strategyPattern: strategy, topologyName: topology, gpus: gpus, fitsOnly: true) }

    func run() throws {
        let report = try report()
        let store = try RunStore(readingFrom: db)
        switch report {
        case .recent:
            let runs: [RunRecord]
            if strategy != nil || topology != nil || gpus != nil {
                var filter = filter
                filter.fitsOnly = false
                runs = Array(try store.runs(matching: filter).reversed().prefix(limit))
            } else {
                runs = try store.recentRuns(limit: limit)
            }
            if json {
                print(ReportTable(columns: RunColumns.columns, rows: runs.map(RunColumns.cells)).jsonRows.text)
                return
            }
            let result = Self.recent(runs)
            print(csv ? Tables.csv(result) : Tables.aligned(result), terminator: result.rows.isEmpty && !csv ? "" : "\n")
            if result.rows.isEmpty, !csv { print("no runs in \(db)\(filterNote)") }
        case let .sql(sql):
            let result = try store.query(sql)
            if json {
                print(ReportTable(result).jsonRows.text)
                return
            }
            print(csv ? Tables.csv(result) : Tables.aligned(result), terminator: result.rows.isEmpty && !csv ? "" : "\n")
            if result.rows.isEmpty, !csv { print("(no rows)") }
        case let .best(count):
            let runs = RunRanking.best(try store.runs(matching: filter), count: count)
            emit(table(runs, ranked: true), emptyNote: "no run in \(db) fits in memory\(filterNote)")
        case let .pareto(cost):
            let runs = RunRanking.front(try store.runs(matching: filter), cost: cost)
            emit(table(runs, ranked: false), emptyNote: "no run in \(db) fits in memory\(filterNote)")
        case let .compare(first, second):
            let a = try store.run(id: first), b = try store.run(id: second)
            let report = CompareReport(a: a, b: b, breakdownA: try store.breakdown(ofRun: first),
                                       breakdownB: try store.breakdown(ofRun: second))
            print(json ? report.json.text : csv ? report.csv : report.text)
        }
    }

    private var filterNote: String {
        var parts: [String] = []
        if let strategy { parts.append("strategy matching '\(strategy)'") }
        if let topology { parts.append("topology '\(topology)'") }
        if let gpus { parts.append("\(gpus) GPUs") }
        return parts.isEmpty ? "" : " with " + parts.joined(separator: " and ")
    }

    private func table(_ runs: [RunRecord], ranked: Bool) -> ReportTable {
        let columns = (ranked ? [ReportTable.Column(key: "rank", title: "rank")] : []) + RunColumns.columns.filter { $0.key != "fits_in_memory" }
        let rows = runs.enumerated().map { index, run in
            (ranked ? [ReportTable.Cell(String(index + 1), .integer(Int64(index + 1)))] : []) + RunColumns.cells(run).dropLast()
        }
        return ReportTable(columns: columns, rows: rows)
    }

    /// Prints `table` in the chosen format; an empty aligned table prints `emptyNote`.
    private func emit(_ table: ReportTable, emptyNote: String) {
        if json {
            Swift.print(table.jsonRows.text)
        } else if csv {
            Swift.print(table.csv)
        } else {
            Swift.print(table.rows.isEmpty ? emptyNote : table.aligned)
        }
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

import Foundation
import Testing

/// The main path end to end: the shipped example runs, prints its summary, stores a row,
/// and `query` shows it.
@Suite struct RunTests {
    static let example = "strategies/examples/gpt-125m-dp4.strata"

    /// A prediction whose critical path waits on the host for a tenth or more says it is
    /// host-paced, and where to measure the host (tensor parallelism 4 with sequence
    /// parallelism on LLaMA-1B: 49% on the H100 tables); the example, GPU-paced, does not.
    @Test func aHostPacedPredictionSaysSo() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite").path
        let file = "strategies/validation/llama-1b-tp4-sp.strata"
        let output = try Golden.run(["run", file, "--db", database])
        #expect(output.status == 0, "\(output.stderr)")
        try Golden.check("run-host-paced-summary", arguments: ["run", file, "--db", "$DB"], output: output,
                         replacing: [database: "$DB"])
        let example = try Golden.run(["run", Self.example, "--db", database])
        #expect(!example.stdout.contains("host-paced"))
    }

    @Test func exampleRunsStoresAndQueries() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite").path
        let replacing = [database: "$DB"]

        let summaryArguments = ["run", Self.example, "--db", database]
        let summary = try Golden.run(summaryArguments)
        #expect(summary.status == 0)
        try Golden.check("run-example-summary", arguments: ["run", Self.example, "--db", "$DB"], output: summary, replacing: replacing)

        let json = try Golden.run(["run", Self.example, "--db", database, "--json", "--set", "dp=2"])
        #expect(json.status == 0)
        try Golden.check("run-example-json", arguments: ["run", Self.example, "--db", "$DB", "--json", "--set", "dp=2"],
                         output: json, replacing: replacing)
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        for key in ["iteration_time_s", "tokens_per_s", "mfu", "model_flops_per_iteration", "peak_memory_bytes",
                    "fits_in_memory", "gpus", "run_id"] {
            #expect(object?[key] != nil, "--json lacks \(key)")
        }

        let sql = "SELECT id, strategy_path, topology_name, overrides, gpus, fits_in_memory FROM run ORDER BY id"
        let query = try Golden.run(["query", "--db", database, "--sql", sql])
        #expect(query.status == 0)
        try Golden.check("query-sql", arguments: ["query", "--db", "$DB", "--sql", sql], output: query, replacing: replacing)

        let csv = try Golden.run(["query", "--db", database, "--sql", sql, "--csv"])
        #expect(csv.stdout == """
            id,strategy_path,topology_name,overrides,gpus,fits_in_memory
            1,strategies/examples/gpt-125m-dp4.strata,h100-sxm-4gpu,{},4,1
            2,strategies/examples/gpt-125m-dp4.strata,h100-sxm-4gpu,"{""dp"":""2""}",2,1

            """)

        let recent = try Golden.run(["query", "--db", database])
        #expect(recent.status == 0)
        #expect(recent.stdout.split(separator: "\n").count == 4, "a header, a rule and two runs")
        #expect(recent.stdout.contains("h100-sxm-4gpu"))
    }

    @Test func checkPrintsTheResolvedStrategy() throws {
        let arguments = ["check", Self.example, "--set", "dp=2"]
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        try Golden.check("check-example", arguments: arguments, output: output)
    }

    @Test func aRunThatDoesNotFitIsAResultNotAnError() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite").path
        let output = try Golden.run(["run", "Tests/Fixtures/does-not-fit.strata", "--db", database, "--json"])
        #expect(output.status == 0, "\(output.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect(object?["fits_in_memory"] as? Bool == false)
        let stored = try Golden.run(["query", "--db", database, "--sql", "SELECT fits_in_memory FROM run", "--csv"])
        #expect(stored.stdout == "fits_in_memory\n0\n")
    }

    @Test func queryOnAMissingDatabaseIsBadInput() throws {
        let arguments = ["query", "--db", "Tests/Fixtures/no-such.sqlite"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("bad-query-missing-database", arguments: arguments, output: output)
    }

    @Test func queryThatWritesIsRefused() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite").path
        _ = try Golden.run(["run", Self.example, "--db", database])
        let arguments = ["query", "--db", database, "--sql", "DELETE FROM run"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("bad-query-write", arguments: ["query", "--db", "$DB", "--sql", "DELETE FROM run"], output: output,
                         replacing: [database: "$DB"])
        let count = try Golden.run(["query", "--db", database, "--sql", "SELECT count(*) FROM run", "--csv"])
        #expect(count.stdout.hasSuffix("\n1\n"))
    }
}

/// The Perfetto trace of a small run is a snapshot: GPUs as processes, streams as threads,
/// tasks as complete events, memory as counters.
@Suite struct TraceTests {
    @Test func traceOfATinyRun() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = folder.appendingPathComponent("trace.json").path
        let arguments = ["run", "Tests/Fixtures/tiny-dp2.strata", "--db", folder.appendingPathComponent("runs.sqlite").path,
                         "--trace", trace]
        let run = try Golden.run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        let events = parsed?["traceEvents"] as? [[String: Any]] ?? []
        #expect(events.contains { $0["ph"] as? String == "X" })
        #expect(events.contains { $0["ph"] as? String == "C" })
        try Golden.check("trace-tiny-dp2", arguments: ["run", "Tests/Fixtures/tiny-dp2.strata", "--trace", "trace.json"],
                         output: Golden.Output(status: run.status, stdout: text, stderr: ""))
    }
}

import Foundation
import Testing

/// A small sweep in a database: tiny layouts over the two test GPUs, one run that does not
/// fit. Reports and plots of it are snapshots.
enum SweepFixture {
    static let layouts = "Tests/Fixtures/tiny-layouts.strata"
    /// The `--set` values of each run, in id order; run 5 is does-not-fit.strata.
    static let runs: [[String]] = [["dp=1"], ["dp=2"], ["tp=2", "dp=1"], ["pp=2", "dp=1"]]

    /// A fresh folder with `runs.sqlite` holding runs 1 to 5.
    static func database() throws -> (folder: URL, path: String) {
        let folder = try Golden.temporaryFolder()
        let path = folder.appendingPathComponent("runs.sqlite").path
        for sets in runs {
            let output = try Golden.run(["run", layouts, "--db", path] + sets.flatMap { ["--set", $0] })
            #expect(output.status == 0, "\(output.stderr)")
        }
        let output = try Golden.run(["run", "Tests/Fixtures/does-not-fit.strata", "--db", path])
        #expect(output.status == 0, "\(output.stderr)")
        return (folder, path)
    }
}

/// `simulate query --best`, `--pareto` and `--compare` in each output format, and their
/// bad input, as users see them.
@Suite struct QueryReportTests {
    @Test func reportsOfASmallSweep() throws {
        let (folder, database) = try SweepFixture.database()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, [String])] = [
            ("query-best", ["--best", "3"]),
            ("query-best-csv", ["--best", "2", "--csv"]),
            ("query-best-json", ["--best", "2", "--json"]),
            ("query-best-filtered", ["--best", "5", "--strategy", "Tests/Fixtures/tiny-*", "--topology", "test-2gpu", "--gpus", "2"]),
            ("query-pareto-gpus", ["--pareto", "gpus"]),
            ("query-pareto-memory", ["--pareto", "memory"]),
            ("query-compare", ["--compare", "2", "4"]),
            ("query-compare-strategies", ["--compare", "1", "5"]),
            ("query-compare-csv", ["--compare", "2", "4", "--csv"]),
            ("query-compare-json", ["--compare", "2", "4", "--json"]),
            ("query-sql-json", ["--sql", "SELECT id, gpus, overrides, fits_in_memory FROM run ORDER BY id", "--json"]),
        ]
        for (name, options) in cases {
            let output = try Golden.run(["query", "--db", database] + options)
            #expect(output.status == 0, "\(name): \(output.stderr)")
            try Golden.check(name, arguments: ["query", "--db", "$DB"] + options, output: output, replacing: [database: "$DB"])
        }
        // JSON parses, with numbers as numbers.
        let json = try Golden.run(["query", "--db", database, "--best", "2", "--json"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 2)
        #expect(rows?.first?["tokens_per_s"] is Double)
        let compare = try Golden.run(["query", "--db", database, "--compare", "2", "4", "--json"])
        #expect(try JSONSerialization.jsonObject(with: Data(compare.stdout.utf8)) is [String: Any])
    }

    @Test func badReportRequestsAreDiagnosed() throws {
        let (folder, database) = try SweepFixture.database()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, [String])] = [
            ("bad-query-unknown-run", ["--compare", "1", "9"]),
            ("bad-query-best-zero", ["--best", "0"]),
            ("bad-query-two-reports", ["--best", "3", "--pareto", "gpus"]),
            ("bad-query-compare-one-run", ["--compare", "1"]),
            ("bad-query-csv-and-json", ["--best", "1", "--csv", "--json"]),
            ("bad-query-filter-with-sql", ["--sql", "SELECT 1", "--strategy", "x*"]),
            ("bad-query-pareto-axis", ["--pareto", "cost"]),
        ]
        for (name, options) in cases {
            let output = try Golden.run(["query", "--db", database] + options)
            #expect(output.status == 2, "\(name)")
            #expect(output.stdout.isEmpty, "\(name)")
            try Golden.check(name, arguments: ["query", "--db", "$DB"] + options, output: output, replacing: [database: "$DB"])
        }
        let missing = ["query", "--db", "Tests/Fixtures/no-such.sqlite", "--best", "3"]
        let output = try Golden.run(missing)
        #expect(output.status == 2)
        try Golden.check("bad-query-best-missing-database", arguments: missing, output: output)
    }
}

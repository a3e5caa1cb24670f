import Foundation
import Testing

/// `simulate sweep` and `simulate merge` end to end on a tiny four-GPU grid: every point
/// stored with its status, reruns and interrupted sweeps resume, shards merge into one.
@Suite struct SweepTests {
    static let strategy = "Tests/Fixtures/sweep-tiny.strata"
    /// 18 points: 3 valid (tp × dp = 4 with micro-batch 1), 15 invalid.
    static let grid = ["--grid", "tp=1,2,4", "--grid", "dp=1,2,4", "--grid", "micro_batch=1,3"]

    static func sweep(_ database: String, _ extra: [String] = [], environment: [String: String] = [:]) throws -> Golden.Output {
        try Golden.run(["sweep", strategy] + grid + ["--db", database] + extra, environment: environment)
    }

    static func scalar(_ database: String, _ sql: String) throws -> String {
        let output = try Golden.run(["query", "--db", database, "--sql", sql, "--csv"])
        return output.stdout.split(separator: "\n").dropFirst().joined(separator: "\n")
    }

    /// The summary with its timings (which vary) blanked.
    static func stable(_ output: Golden.Output) -> Golden.Output {
        var output = output
        output.stdout = output.stdout.replacingOccurrences(
            of: #"wall time     [0-9.]+ s \([0-9.]+ points/s"#, with: "wall time     T s (R points/s", options: .regularExpression)
        output.stderr = output.stderr.replacingOccurrences(
            of: #"[0-9]+:[0-9]{2} elapsed, ETA [0-9]+:[0-9]{2}"#, with: "T elapsed, ETA T", options: .regularExpression)
        return output
    }

    @Test func everyPointIsStoredWithItsStatusAndARerunSkipsThemAll() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("sweep.sqlite").path
        let first = try Self.sweep(database, ["--jobs", "2"])
        #expect(first.status == 0)
        try Golden.check("sweep-tiny", arguments: ["sweep", Self.strategy] + Self.grid + ["--db", "DB", "--jobs", "2"],
                         output: Self.stable(first), replacing: [database: "DB"])
        #expect(try Self.scalar(database, "SELECT status, count(*) FROM sweep_point GROUP BY status ORDER BY status")
            == "invalid,15\nok,3")
        #expect(try Self.scalar(database, "SELECT count(*) FROM run") == "3")
        #expect(try Self.scalar(database, "SELECT count(*) FROM sweep_point WHERE status = 'ok' AND run_id IS NULL") == "0")
        #expect(try Self.scalar(database, "SELECT grid, points FROM sweep")
            == #""[[""tp"",[""1"",""2"",""4""]],[""dp"",[""1"",""2"",""4""]],[""micro_batch"",[""1"",""3""]]]",18"#)

        let again = try Self.sweep(database)
        #expect(again.status == 0)
        #expect(again.stdout.contains("simulated     0\n  skipped       18 (already stored)\n  invalid       0\n"))
        #expect(try Self.scalar(database, "SELECT count(*) FROM run") == "3")
        #expect(try Self.scalar(database, "SELECT count(*) FROM sweep") == "1")
    }

    @Test func aSweepSkipsWhatSimulateRunStored() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("sweep.sqlite").path
        let run = try Golden.run(["run", Self.strategy, "--set", "tp=2", "--set", "dp=2", "--set", "micro_batch=1", "--db", database])
        #expect(run.status == 0)
        let sweep = try Self.sweep(database)
        #expect(sweep.stdout.contains("simulated     2\n  skipped       1 (already stored)\n"))
        #expect(try Self.scalar(database, "SELECT count(*) FROM run") == "3")
        #expect(try Self.scalar(database, "SELECT run_id FROM sweep_point WHERE overrides = '{\"dp\":\"2\",\"micro_batch\":\"1\",\"tp\":\"2\"}'") == "1")
    }

    @Test func aPointIsStoredExactlyAsSimulateRunStoresIt() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let swept = folder.appendingPathComponent("sweep.sqlite").path, single = folder.appendingPathComponent("run.sqlite").path
        #expect(try Golden.run(["sweep", Self.strategy, "--grid", "tp=2", "--grid", "dp=2", "--grid", "micro_batch=1", "--db", swept]).status == 0)
        #expect(try Golden.run(["run", Self.strategy, "--set", "tp=2", "--set", "dp=2", "--set", "micro_batch=1", "--db", single]).status == 0)
        for table in ["run", "run_gpu", "run_link"] {
            let columns = "SELECT name FROM pragma_table_info('\(table)') WHERE name NOT IN ('id', 'created_at')"
            let names = try Self.scalar(single, columns).split(separator: "\n").joined(separator: ", ")
            let rows = "SELECT \(names) FROM \(table)"
            #expect(try Self.scalar(swept, rows) == (try Self.scalar(single, rows)), "\(table) rows differ")
        }
    }

    /// The internal hook stops the sweep the way Ctrl-C does (after the points in
    /// progress); the rerun simulates only what is left.
    @Test func anInterruptedSweepResumesWithTheRest() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("sweep.sqlite").path
        let stopped = try Self.sweep(database, ["--jobs", "1"], environment: ["STRATA_SWEEP_STOP_AFTER": "1"])
        #expect(stopped.status == 130)
        #expect(stopped.stderr.contains("points done and stored; run the same command again to resume (stored points are skipped)"))
        // With one job the sweep stops right after the first valid point, the fifth.
        let runs = 1, storedPoints = 5
        #expect(try Self.scalar(database, "SELECT count(*) FROM run") == "\(runs)")
        #expect(try Self.scalar(database, "SELECT count(*) FROM sweep_point") == "\(storedPoints)")
        #expect(stopped.stdout.contains("simulated     \(runs)\n"))

        let resumed = try Self.sweep(database, ["--jobs", "1"])
        #expect(resumed.status == 0)
        #expect(resumed.stdout.contains("simulated     \(3 - runs)\n  skipped       \(storedPoints) (already stored)\n"))
        #expect(try Self.scalar(database, "SELECT count(*) FROM run") == "3")
        #expect(try Self.scalar(database, "SELECT count(*) FROM sweep_point") == "18")
    }

    @Test func shardsPartitionThePointsAndMergeJoinsThemIntoOneSweep() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let parts = (0..<3).map { folder.appendingPathComponent("part-\($0).sqlite").path }
        for (index, part) in parts.enumerated() {
            let output = try Self.sweep(part, ["--shard", "\(index)/3"])
            #expect(output.status == 0)
            #expect(try Self.scalar(part, "SELECT count(*) FROM sweep_point") == "6")
            #expect(try Self.scalar(part, "SELECT count(*) FROM sweep_point WHERE point % 3 != \(index)") == "0")
        }
        let merged = folder.appendingPathComponent("merged.sqlite").path
        // The output already holds a run of the grid: it is kept, not copied twice.
        _ = try Golden.run(["run", Self.strategy, "--set", "tp=1", "--set", "dp=4", "--set", "micro_batch=1", "--db", merged])
        let merge = try Golden.run(["merge", merged] + parts)
        #expect(merge.status == 0)
        try Golden.check("merge-shards", arguments: ["merge", "OUT"] + parts.map { ($0 as NSString).lastPathComponent },
                         output: merge, replacing: [folder.path + "/": "", merged: "OUT"])
        #expect(try Self.scalar(merged, "SELECT count(*) FROM run") == "3")
        #expect(try Self.scalar(merged, "SELECT count(*) FROM sweep") == "1")
        #expect(try Self.scalar(merged, "SELECT status, count(*) FROM sweep_point GROUP BY status ORDER BY status") == "invalid,15\nok,3")
        #expect(try Self.scalar(merged, "SELECT count(*) FROM sweep_point LEFT JOIN run ON run.id = run_id WHERE status = 'ok' AND run.id IS NULL") == "0")
        #expect(try Self.scalar(merged, "SELECT count(*) FROM run_gpu") == "12")

        let again = try Golden.run(["merge", merged] + parts)
        #expect(again.stdout.hasSuffix("0 runs and 0 sweep points copied, 3 already there\n"))
        let resumed = try Self.sweep(merged)
        #expect(resumed.stdout.contains("simulated     0\n  skipped       18 (already stored)\n"))
    }
}

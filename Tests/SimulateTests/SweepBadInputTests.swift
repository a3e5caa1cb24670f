import Foundation
import GRDB
import Testing

/// Bad sweep and merge input: a clear message naming the culprit, exit status 2, and no
/// database created or changed.
@Suite struct SweepBadInputTests {
    static let strategy = SweepTests.strategy

    @Test(arguments: [
        ("sweep-bad-unknown-parameter", ["--grid", "tpp=1,2", "--grid", "dp=1,2"]),
        ("sweep-bad-no-values", ["--grid", "tp="]),
        ("sweep-bad-no-equals", ["--grid", "tp"]),
        ("sweep-bad-no-name", ["--grid", "=1,2"]),
        ("sweep-bad-empty-value", ["--grid", "tp=1,,2"]),
        ("sweep-bad-duplicate-key", ["--grid", "tp=1,2", "--grid", "tp=4"]),
        ("sweep-bad-duplicate-value", ["--grid", "tp=1,2,1"]),
        ("sweep-bad-value-syntax", ["--grid", "tp=1,(2"]),
        ("sweep-bad-grid-and-set", ["--grid", "tp=1,2", "--set", "tp=4"]),
        ("sweep-bad-no-grid", []),
        ("sweep-bad-shard-range", ["--grid", "tp=1,2", "--shard", "3/3"]),
        ("sweep-bad-shard-syntax", ["--grid", "tp=1,2", "--shard", "1-of-3"]),
        ("sweep-bad-jobs", ["--grid", "tp=1,2", "--jobs", "0"]),
    ])
    func badGridIsDiagnosedAndCreatesNoDatabase(name: String, arguments: [String]) throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("sweep.sqlite").path
        let output = try Golden.run(["sweep", Self.strategy] + arguments + ["--db", database])
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: database), "bad input must not create the database")
        try Golden.check(name, arguments: ["sweep", Self.strategy] + arguments + ["--db", "DB"], output: output,
                         replacing: [database: "DB"])
    }

    /// A database that a newer Strata migrated further: refused by sweep and merge alike,
    /// and left as it was.
    @Test func aDatabaseFromANewerSchemaIsRefused() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let newer = folder.appendingPathComponent("newer.sqlite").path
        #expect(try SweepTests.sweep(newer).status == 0)
        try DatabaseQueue(path: newer).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: newer))
        let sweep = try SweepTests.sweep(newer)
        #expect(sweep.status == 2)
        try Golden.check("sweep-bad-newer-schema", arguments: ["sweep", Self.strategy] + SweepTests.grid + ["--db", "DB"],
                         output: sweep, replacing: [newer: "DB"])
        let out = folder.appendingPathComponent("out.sqlite").path
        let merge = try Golden.run(["merge", out, newer])
        #expect(merge.status == 2)
        try Golden.check("merge-bad-newer-schema", arguments: ["merge", "OUT", "IN"], output: merge,
                         replacing: [newer: "IN", out: "OUT"])
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try Data(contentsOf: URL(fileURLWithPath: newer)) == before)
    }

    @Test func mergeRefusesAMissingInputBeforeWritingAnything() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let out = folder.appendingPathComponent("out.sqlite").path
        let good = folder.appendingPathComponent("good.sqlite").path
        #expect(try SweepTests.sweep(good).status == 0)
        let merge = try Golden.run(["merge", out, good, folder.appendingPathComponent("missing.sqlite").path])
        #expect(merge.status == 2)
        try Golden.check("merge-bad-missing-input", arguments: ["merge", "OUT", "GOOD", "MISSING"], output: merge,
                         replacing: [folder.path + "/": "", out: "OUT"])
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// Another process holds the write lock: the sweep waits briefly, then says so.
    @Test func aLockedDatabaseIsReportedAndKept() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("locked.sqlite").path
        #expect(try SweepTests.sweep(database).status == 0)
        let holder = try DatabaseQueue(path: database)
        let output = try holder.inDatabase { db in
            try db.execute(sql: "BEGIN EXCLUSIVE")
            defer { try? db.execute(sql: "ROLLBACK") }
            return try SweepTests.sweep(database)
        }
        #expect(output.status == 2)
        try Golden.check("sweep-bad-locked", arguments: ["sweep", Self.strategy] + SweepTests.grid + ["--db", "DB"],
                         output: output, replacing: [database: "DB"])
        #expect(try SweepTests.scalar(database, "SELECT count(*) FROM sweep_point") == "18")
    }

    /// A database the user may not write: as root (who may write anything) the sweep runs
    /// as 'nobody' through setpriv.
    @Test func aReadOnlyDatabaseIsReported() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("readonly.sqlite").path
        #expect(try SweepTests.sweep(database).status == 0)
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: database)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path) }
        let arguments = ["sweep", Self.strategy] + SweepTests.grid + ["--db", database]
        let output: Golden.Output
        if geteuid() == 0 {
            guard FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else { return }
            output = try Golden.run(arguments, executable: URL(fileURLWithPath: "/usr/bin/setpriv"),
                                    prefix: ["--reuid=65534", "--regid=65534", "--clear-groups", Golden.executable.path])
        } else {
            output = try Golden.run(arguments)
        }
        #expect(output.status == 2)
        try Golden.check("sweep-bad-read-only", arguments: ["sweep", Self.strategy] + SweepTests.grid + ["--db", "DB"],
                         output: output, replacing: [database: "DB"])
    }
}

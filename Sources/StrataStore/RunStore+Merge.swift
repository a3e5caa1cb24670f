import Foundation
import GRDB

/// What merging one database into another did.
public struct MergeCounts: Hashable, Sendable {
    /// Runs copied, and runs left out because a run with the same inputs was there.
    public var runsCopied = 0
    public var runsSkipped = 0
    /// Sweeps new to the output, and sweep points copied.
    public var sweepsCopied = 0
    public var pointsCopied = 0

    public init(runsCopied: Int = 0, runsSkipped: Int = 0, sweepsCopied: Int = 0, pointsCopied: Int = 0) {
        self.runsCopied = runsCopied
        self.runsSkipped = runsSkipped
        self.sweepsCopied = sweepsCopied
        self.pointsCopied = pointsCopied
    }
}

extension RunStore {
    /// Checks that `path` is a results database this version can merge: it exists, is an
    /// SQLite database, and has no migration newer than this version's.
    public static func checkMergeable(_ path: String) throws(StoreError) {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(kind: .input, path: path, message: "no such database",
                             help: "pass the databases that 'simulate sweep --db' or 'simulate run --db' wrote")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            guard try queue.read({ try $0.tableExists("run") }) else {
                throw StoreError(kind: .input, path: path, message: "not a Strata results database (it has no 'run' table)",
                                 help: "pass the databases that 'simulate sweep --db' or 'simulate run --db' wrote")
            }
            try refuseNewerSchema(queue, path: path)
        } catch let error as StoreError {
            throw error
        } catch {
            throw wrap(error, path: path)
        }
    }

    /// Copies the runs (with every row that refers to them), sweeps and sweep points of the
    /// database at `source` into this one, in one transaction.
    ///
    /// A run whose inputs hash is already here is not copied; the points that named it
    /// name the run already here. A sweep already here (same hash) gains the source's
    /// points it lacks; a point already here is kept, unless it failed and the source's
    /// did not. Nothing here is changed or removed otherwise. The source is read from a
    /// migrated copy, so an older database merges as well as a current one, and is never
    /// written.
    public func merge(from source: String) throws(StoreError) -> MergeCounts {
        try Self.checkMergeable(source)
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("strata-merge-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        do {
            try FileManager.default.copyItem(atPath: source, toPath: copy)
        } catch {
            throw StoreError(kind: .input, path: source, message: "cannot read the database (\(error.localizedDescription))",
                             help: "check the file's permissions")
        }
        _ = try RunStore(path: copy)
        var counts = MergeCounts()
        do {
            counts = try queue.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS source", arguments: [copy])
                defer { try? db.execute(sql: "DETACH DATABASE source") }
                var counts = MergeCounts()
                try db.inTransaction {
                    counts = try Self.copyRows(db)
                    return .commit
                }
                return counts
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
        return counts
    }

    private static func columns(of table: String, in schema: String, _ db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?, ?) ORDER BY cid", arguments: [table, schema])
    }

    /// The columns both databases' `table` have, in this database's order, less `excluded`.
    private static func sharedColumns(of table: String, excluding excluded: Set<String>, _ db: Database) throws -> [String] {
        let theirs = Set(try columns(of: table, in: "source", db))
        return try columns(of: table, in: "main", db).filter { theirs.contains($0) && !excluded.contains($0) }
    }

    private static func quoted(_ names: [String]) -> String {
        names.map { "\"\($0)\"" }.joined(separator: ", ")
    }

    private static func copyRows(_ db: Database) throws -> MergeCounts {
        var counts = MergeCounts()

        // Runs, and every table whose rows belong to a run (run_gpu, run_link, and any a
        // later migration adds), with run ids renumbered.
        let runColumns = try sharedColumns(of: "run", excluding: ["id"], db)
        let dependents = try String.fetchAll(db, sql: """
            SELECT m.name FROM main.sqlite_master AS m, pragma_foreign_key_list(m.name) AS f
            WHERE m.type = 'table' AND f."table" = 'run' AND f."from" = 'run_id' AND m.name != 'sweep_point'
            ORDER BY m.name
            """).filter { try db.tableExists($0, in: "source") }
        var runIDs: [Int64: Int64] = [:]
        var known: [String: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT inputs_sha256, min(id) FROM main.run GROUP BY inputs_sha256") {
            known[row[0]] = row[1]
        }
        for row in try Row.fetchAll(db, sql: "SELECT id, inputs_sha256 FROM source.run ORDER BY id") {
            let sourceID: Int64 = row[0]
            let hash: String = row[1]
            if let existing = known[hash] {
                runIDs[sourceID] = existing
                counts.runsSkipped += 1
                continue
            }
            try db.execute(sql: "INSERT INTO main.run (\(quoted(runColumns))) SELECT \(quoted(runColumns)) FROM source.run WHERE id = ?",
                           arguments: [sourceID])
            let newID = db.lastInsertedRowID
            runIDs[sourceID] = newID
            known[hash] = newID
            counts.runsCopied += 1
            for table in dependents {
                let columns = try sharedColumns(of: table, excluding: ["run_id"], db)
                try db.execute(sql: """
                    INSERT INTO main."\(table)" (run_id, \(quoted(columns)))
                    SELECT ?, \(quoted(columns)) FROM source."\(table)" WHERE run_id = ?
                    """, arguments: [newID, sourceID])
            }
        }

        // Sweeps, matched by their hash.
        let sweepColumns = try sharedColumns(of: "sweep", excluding: ["id"], db)
        var sweepIDs: [Int64: Int64] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT id, sweep_sha256 FROM source.sweep ORDER BY id") {
            let sourceID: Int64 = row[0]
            let hash: String = row[1]
            if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM main.sweep WHERE sweep_sha256 = ?", arguments: [hash]) {
                sweepIDs[sourceID] = existing
                continue
            }
            try db.execute(sql: "INSERT INTO main.sweep (\(quoted(sweepColumns))) SELECT \(quoted(sweepColumns)) FROM source.sweep WHERE id = ?",
                           arguments: [sourceID])
            sweepIDs[sourceID] = db.lastInsertedRowID
            counts.sweepsCopied += 1
        }

        // Points: a point already here stays, unless it failed and the source's did not.
        for var point in try SweepPointRecord.fetchAll(db, sql: "SELECT * FROM source.sweep_point ORDER BY sweep_id, point") {
            guard let sweepID = sweepIDs[point.sweepId] else { continue }
            point.sweepId = sweepID
            point.runId = point.runId.flatMap { runIDs[$0] }
            let existing = try SweepPointRecord.fetchOne(db, sql: "SELECT * FROM main.sweep_point WHERE sweep_id = ? AND point = ?",
                                                         arguments: [sweepID, point.point])
            if let existing, existing.status != .failed || point.status == .failed { continue }
            try point.insert(db, onConflict: .replace)
            counts.pointsCopied += 1
        }
        return counts
    }
}

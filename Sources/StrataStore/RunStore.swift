import Foundation
import GRDB

/// A failure to open, read or write a results database, with the path and the cause.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// The user's input is at fault: a missing database, bad SQL, a read-only file.
        case input
        /// Something else went wrong.
        case internalFailure
    }

    public var kind: Kind
    public var path: String
    public var message: String
    public var help: String?

    public var description: String {
        "\(path): error: \(message)" + (help.map { "\n  help: \($0)" } ?? "")
    }
}

/// The rows of a read-only query: every value rendered as text, and as stored.
public struct QueryResult: Hashable, Sendable {
    public var columns: [String]
    public var rows: [[String]]
    /// The same cells with their SQLite types (blobs as their `x'…'` text).
    public var values: [[StoredValue]]

    /// A result whose every cell is text.
    public init(columns: [String], rows: [[String]]) {
        self.columns = columns
        self.rows = rows
        self.values = rows.map { $0.map(StoredValue.text) }
    }

    public init(columns: [String], values: [[StoredValue]]) {
        self.columns = columns
        self.values = values
        self.rows = values.map { $0.map(\.text) }
    }
}

/// The SQLite database that holds simulated runs.
///
/// Writes go through one transaction per run, so a run is stored whole or not at all and
/// nothing stored earlier is touched. Queries typed by users run on a read-only connection,
/// so they cannot change anything.
public struct RunStore: Sendable {
    public let path: String
    let queue: DatabaseQueue

    /// Opens (creating if needed) the database at `path` for writing and migrates it to
    /// the current schema.
    ///
    /// A database that another writer holds is waited for up to `lockTimeout` seconds
    /// (0: not at all), then reported as locked. A database written by a newer Strata, with
    /// migrations this one does not know, is refused before anything is written to it.
    public init(path: String, lockTimeout: Double = 0) throws(StoreError) {
        self.path = path
        do {
            var configuration = Configuration()
            if lockTimeout > 0 { configuration.busyMode = .timeout(lockTimeout) }
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try Self.refuseNewerSchema(queue, path: path)
            try Migrations.migrator.migrate(queue)
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Throws when the database has migrations this version does not know: it was written
    /// by a newer Strata, whose tables this one would misread or damage.
    static func refuseNewerSchema(_ queue: DatabaseQueue, path: String) throws {
        let unknown = try queue.read { db in
            try Migrations.migrator.appliedIdentifiers(db).subtracting(Migrations.known).sorted()
        }
        guard let first = unknown.first else { return }
        throw StoreError(kind: .input, path: path,
                         message: "the database has a newer schema than this simulate knows (migration '\(first)')",
                         help: "use the simulate that wrote it (or a newer one), or pass another database")
    }

    /// Checks that a write would go through now: the file is writable and no other
    /// process holds it. Commands that simulate for a long time check before they start.
    public func checkWritable() throws(StoreError) {
        do {
            try queue.inDatabase { db in
                // A read-only file still lets a transaction begin; writing the header
                // (rolled back) is the first thing it refuses.
                try db.execute(sql: "BEGIN IMMEDIATE")
                defer { try? db.execute(sql: "ROLLBACK") }
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                try db.execute(sql: "PRAGMA user_version = \(version)")
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_READONLY {
            throw StoreError(kind: .input, path: path, message: "the database is read-only",
                             help: "make the file and its folder writable, or pass another database")
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Opens an existing database at `path` for reading only.
    public init(readingFrom path: String) throws(StoreError) {
        self.path = path
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError(kind: .input, path: path, message: "no such database",
                             help: "run 'simulate run FILE --db \(path)' first, or pass the path of an existing database with --db")
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            queue = try DatabaseQueue(path: path, configuration: configuration)
            _ = try queue.read { try $0.tableExists("run") }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Stores a run with its per-GPU and per-link rows in one transaction; returns its id.
    public func insert(_ run: RunRecord, gpus: [RunGPURecord], links: [RunLinkRecord] = [],
                       criticalPath: [RunCriticalPathRecord] = []) throws(StoreError) -> Int64 {
        do {
            return try queue.write { db in try Self.insert(run, gpus: gpus, links: links, criticalPath: criticalPath, in: db) }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Inserts a run and its rows inside the caller's transaction.
    static func insert(_ run: RunRecord, gpus: [RunGPURecord], links: [RunLinkRecord], criticalPath: [RunCriticalPathRecord] = [],
                       in db: Database) throws -> Int64 {
        var run = run
        try run.insert(db)
        let id = run.id!
        // A run has a row per GPU and per busy link (thousands for a large cluster): one
        // cached statement each, with positional arguments, rather than encoding every
        // record through Codable (a sweep stores hundreds of thousands of these rows).
        let gpuRow = try db.cachedStatement(sql: """
            INSERT INTO run_gpu (run_id, gpu, peak_memory_bytes, memory_capacity_bytes, compute_s, communication_s,
                exposed_communication_s, idle_s, exposed_tp_s, exposed_cp_s, exposed_ep_s, exposed_pp_s, exposed_dp_s,
                exposed_gather_s, bubble_s)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for gpu in gpus {
            try gpuRow.execute(arguments: [id, gpu.gpu, gpu.peakMemoryBytes, gpu.memoryCapacityBytes, gpu.computeS,
                                           gpu.communicationS, gpu.exposedCommunicationS, gpu.idleS, gpu.exposedTpS,
                                           gpu.exposedCpS, gpu.exposedEpS, gpu.exposedPpS, gpu.exposedDpS, gpu.exposedGatherS,
                                           gpu.bubbleS])
        }
        let linkRow = try db.cachedStatement(sql: """
            INSERT INTO run_link (run_id, link, source, destination, kind, bandwidth_bytes_per_s, utilisation)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for link in links {
            try linkRow.execute(arguments: [id, link.link, link.source, link.destination, link.kind, link.bandwidthBytesPerS,
                                            link.utilisation])
        }
        for var share in criticalPath {
            share.runId = id
            try share.insert(db)
        }
        return id
    }

    /// The most recent runs, newest first.
    public func recentRuns(limit: Int) throws(StoreError) -> [RunRecord] {
        do {
            return try queue.read { db in
                guard try db.tableExists("run") else { return [] }
                return try RunRecord.order(Column("id").desc).limit(limit).fetchAll(db)
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// The per-GPU rows of run `id`, by GPU.
    public func gpus(ofRun id: Int64) throws(StoreError) -> [RunGPURecord] {
        do {
            return try queue.read { db in
                try RunGPURecord.filter(Column("run_id") == id).order(Column("gpu")).fetchAll(db)
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Runs `sql` and returns its rows as text. On a store opened with
    /// `init(readingFrom:)` any statement that would write fails.
    public func query(_ sql: String) throws(StoreError) -> QueryResult {
        do {
            return try queue.read { db in
                let statement = try db.makeStatement(sql: sql)
                let columns = statement.columnNames
                var rows: [[StoredValue]] = []
                let cursor = try Row.fetchCursor(statement)
                while let row = try cursor.next() {
                    rows.append((0..<row.count).map { Self.stored(row[$0] as DatabaseValue) })
                }
                return QueryResult(columns: columns, values: rows)
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    private static func stored(_ value: DatabaseValue) -> StoredValue {
        switch value.storage {
        case .null: .null
        case let .int64(number): .integer(number)
        case let .double(number): .real(number)
        case let .string(text): .text(text)
        case let .blob(data): .text("x'" + data.map { String(format: "%02x", $0) }.joined() + "'")
        }
    }

    static func wrap(_ error: any Error, path: String) -> StoreError {
        guard let error = error as? DatabaseError else {
            return StoreError(kind: .internalFailure, path: path, message: "\(error)")
        }
        let sql = error.sql.map { " in: \($0)" } ?? ""
        switch error.resultCode {
        case .SQLITE_READONLY:
            return StoreError(kind: .input, path: path, message: "the database is read-only (\(error.message ?? "write refused"))\(sql)",
                              help: "queries may only read; use SELECT, or pass a writable --db to store runs")
        case .SQLITE_ERROR:
            return StoreError(kind: .input, path: path, message: "SQL error: \(error.message ?? "unknown")\(sql)",
                              help: "check the statement; 'simulate query --sql \"SELECT name FROM sqlite_master\"' lists the tables")
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return StoreError(kind: .input, path: path, message: "not an SQLite database (\(error.message ?? "unreadable"))",
                              help: "pass the path of a database written by 'simulate run'")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(kind: .input, path: path, message: "the database is locked by another process",
                              help: "wait for the other process to finish, or use another --db")
        case .SQLITE_CANTOPEN:
            return StoreError(kind: .input, path: path, message: "cannot open the database (\(error.message ?? "unknown"))",
                              help: "check that the folder exists and is writable")
        default:
            return StoreError(kind: .internalFailure, path: path, message: "\(error.message ?? "database error") (\(error.resultCode))\(sql)")
        }
    }
}

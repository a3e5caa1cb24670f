import GRDB

/// What the database already knows about some inputs: a run, or a point found invalid.
public enum StoredOutcome: Hashable, Sendable {
    case run(id: Int64)
    case invalid(reason: String)
}

/// A sweep's points as stored, counted by status.
public struct SweepCounts: Hashable, Sendable {
    public var ok = 0
    public var invalid = 0
    public var failed = 0

    public init(ok: Int = 0, invalid: Int = 0, failed: Int = 0) {
        self.ok = ok
        self.invalid = invalid
        self.failed = failed
    }
}

extension RunStore {
    /// The stored sweep with `sweep`'s hash, or `sweep` inserted as a new one.
    public func findOrInsert(_ sweep: SweepRecord) throws(StoreError) -> SweepRecord {
        do {
            return try queue.write { db in
                if let existing = try SweepRecord.filter(Column("sweep_sha256") == sweep.sweepSha256).fetchOne(db) {
                    return existing
                }
                var inserted = sweep
                try inserted.insert(db)
                return inserted
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Every inputs hash the database has an outcome for: the runs (the first of equal
    /// ones) and the points found invalid. Failed points are left out, so they are tried again.
    public func storedOutcomes() throws(StoreError) -> [String: StoredOutcome] {
        do {
            return try queue.read { db in
                var outcomes: [String: StoredOutcome] = [:]
                let invalid = try Row.fetchCursor(db, sql: "SELECT inputs_sha256, reason FROM sweep_point WHERE status = 'invalid'")
                while let row = try invalid.next() {
                    outcomes[row[0]] = .invalid(reason: row[1] ?? "")
                }
                let runs = try Row.fetchCursor(db, sql: "SELECT inputs_sha256, id FROM run ORDER BY id DESC")
                while let row = try runs.next() {
                    outcomes[row[0]] = .run(id: row[1])
                }
                return outcomes
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// The stored points of sweep `id`, by index.
    public func points(ofSweep id: Int64) throws(StoreError) -> [Int: SweepPointRecord] {
        do {
            return try queue.read { db in
                let points = try SweepPointRecord.filter(Column("sweep_id") == id).fetchAll(db)
                return Dictionary(points.map { ($0.point, $0) }, uniquingKeysWith: { first, _ in first })
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Stores a point, with its run when it was simulated now, in one transaction: a point
    /// is stored whole or not at all. Returns the run's id, if it has one.
    @discardableResult
    public func record(_ point: SweepPointRecord,
                       run: (run: RunRecord, gpus: [RunGPURecord], links: [RunLinkRecord], criticalPath: [RunCriticalPathRecord])?)
        throws(StoreError) -> Int64? {
        do {
            return try queue.write { db in
                var point = point
                if let run {
                    point.runId = try Self.insert(run.run, gpus: run.gpus, links: run.links, criticalPath: run.criticalPath, in: db)
                }
                try point.insert(db, onConflict: .replace)
                return point.runId
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// The fitting point of sweep `id` with the most tokens per second, and its run.
    public func bestFittingPoint(ofSweep id: Int64) throws(StoreError) -> (point: SweepPointRecord, run: RunRecord)? {
        do {
            return try queue.read { db in
                guard let run = try RunRecord.fetchOne(db, sql: """
                    SELECT run.* FROM sweep_point JOIN run ON run.id = sweep_point.run_id
                    WHERE sweep_point.sweep_id = ? AND sweep_point.status = 'ok' AND run.fits_in_memory
                    ORDER BY run.tokens_per_s DESC, sweep_point.point LIMIT 1
                    """, arguments: [id]),
                    let point = try SweepPointRecord.filter(Column("sweep_id") == id && Column("run_id") == run.id)
                        .order(Column("point")).fetchOne(db)
                else { return nil }
                return (point, run)
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// How many of sweep `id`'s points are stored, by status.
    public func counts(ofSweep id: Int64) throws(StoreError) -> SweepCounts {
        do {
            return try queue.read { db in
                var counts = SweepCounts()
                for row in try Row.fetchAll(db, sql: "SELECT status, count(*) FROM sweep_point WHERE sweep_id = ? GROUP BY status",
                                            arguments: [id]) {
                    let status: String = row[0]
                    let count: Int = row[1]
                    switch SweepPointStatus(rawValue: status) {
                    case .ok: counts.ok = count
                    case .invalid: counts.invalid = count
                    case .failed: counts.failed = count
                    case nil: break
                    }
                }
                return counts
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }
}

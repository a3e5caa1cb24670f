import GRDB

/// One sweep: a strategy file and the grid of parameter values it was simulated over.
///
/// Reruns and shards of the same sweep (same strategy text, grid, topology and tables
/// option) share one row, found by `sweepSha256`, so their points add up to one sweep.
public struct SweepRecord: Codable, Hashable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "sweep"

    public var id: Int64?
    /// When the sweep was first started, ISO 8601 in UTC.
    public var createdAt: String
    public var toolVersion: String
    public var strategyPath: String
    public var strategySha256: String
    /// The grid as a JSON array of `[name, [values…]]` in command-line order, which fixes
    /// the order of the points.
    public var grid: String
    /// The `--topology` given, if any.
    public var topologyOverride: String?
    /// The `--traces` given, if any.
    public var traces: String?
    /// How many points the whole grid has (all shards together).
    public var points: Int
    public var sweepSha256: String

    public init(id: Int64? = nil, createdAt: String, toolVersion: String, strategyPath: String, strategySha256: String,
                grid: String, topologyOverride: String?, traces: String?, points: Int, sweepSha256: String) {
        self.id = id
        self.createdAt = createdAt
        self.toolVersion = toolVersion
        self.strategyPath = strategyPath
        self.strategySha256 = strategySha256
        self.grid = grid
        self.topologyOverride = topologyOverride
        self.traces = traces
        self.points = points
        self.sweepSha256 = sweepSha256
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// What became of one point of a sweep.
public enum SweepPointStatus: String, Codable, Hashable, Sendable {
    /// Simulated (now or earlier): `runId` is its run.
    case ok
    /// The strategy rejects these values (a diagnostic, in `reason`); a result, stored so
    /// that a rerun skips it too.
    case invalid
    /// The simulator failed on it (an internal error, in `reason`); a rerun tries again.
    case failed
}

/// One combination of a sweep's grid and its outcome.
public struct SweepPointRecord: Codable, Hashable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "sweep_point"

    public var sweepId: Int64
    /// The point's index in the grid's order (the last `--grid` varies fastest), from 0.
    public var point: Int
    /// The point's values as a JSON object, keys sorted, as `run.overrides` stores them.
    public var overrides: String
    /// Hash of everything the point's result depends on; equal to its run's `inputs_sha256`.
    public var inputsSha256: String
    public var status: SweepPointStatus
    /// Why the point is invalid or failed: the diagnostics as printed.
    public var reason: String?
    public var runId: Int64?

    public init(sweepId: Int64, point: Int, overrides: String, inputsSha256: String, status: SweepPointStatus,
                reason: String?, runId: Int64?) {
        self.sweepId = sweepId
        self.point = point
        self.overrides = overrides
        self.inputsSha256 = inputsSha256
        self.status = status
        self.reason = reason
        self.runId = runId
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}

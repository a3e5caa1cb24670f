import GRDB

/// One simulated run: its inputs, exactly as read, and its headline results.
public struct RunRecord: Codable, Hashable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "run"

    public var id: Int64?
    /// When the run was simulated, ISO 8601 in UTC.
    public var createdAt: String
    public var toolVersion: String
    public var strategyPath: String
    public var strategyText: String
    public var strategySha256: String
    public var topologyPath: String
    public var topologyName: String
    public var topologyText: String
    public var topologySha256: String
    /// The `--set` values as a JSON object, keys sorted: `{"dp":"8"}`.
    public var overrides: String
    /// Hash of strategy, topology and overrides together: equal hashes mean equal inputs.
    public var inputsSha256: String
    public var gpus: Int
    public var iterationTimeS: Double
    public var tokensPerS: Double
    public var samplesPerS: Double
    public var mfu: Double
    public var modelFlopsPerIteration: Double
    public var peakMemoryBytes: Int64
    public var fitsInMemory: Bool
    /// Which cost models priced the run: measured tables or the roofline.
    public var costModel: String = "roofline"
    /// Events the engine processed.
    public var events: Int = 0
    /// Hardware FLOPs utilisation (recomputation included).
    public var hfu: Double = 0
    /// All-reduce calls run as rings and as trees.
    public var allReduceRingCalls: Int = 0
    public var allReduceTreeCalls: Int = 0
    /// Tasks priced outside the measured tables, and why (JSON: reason → tasks).
    public var extrapolatedKernels: Int = 0
    public var extrapolated: String = "{}"

    public init(id: Int64? = nil, createdAt: String, toolVersion: String, strategyPath: String, strategyText: String,
                strategySha256: String, topologyPath: String, topologyName: String, topologyText: String,
                topologySha256: String, overrides: String, inputsSha256: String, gpus: Int, iterationTimeS: Double,
                tokensPerS: Double, samplesPerS: Double, mfu: Double, modelFlopsPerIteration: Double,
                peakMemoryBytes: Int64, fitsInMemory: Bool) {
        self.id = id
        self.createdAt = createdAt
        self.toolVersion = toolVersion
        self.strategyPath = strategyPath
        self.strategyText = strategyText
        self.strategySha256 = strategySha256
        self.topologyPath = topologyPath
        self.topologyName = topologyName
        self.topologyText = topologyText
        self.topologySha256 = topologySha256
        self.overrides = overrides
        self.inputsSha256 = inputsSha256
        self.gpus = gpus
        self.iterationTimeS = iterationTimeS
        self.tokensPerS = tokensPerS
        self.samplesPerS = samplesPerS
        self.mfu = mfu
        self.modelFlopsPerIteration = modelFlopsPerIteration
        self.peakMemoryBytes = peakMemoryBytes
        self.fitsInMemory = fitsInMemory
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

/// One GPU's share of a run: its memory high-water mark and where its time went.
public struct RunGPURecord: Codable, Hashable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_gpu"

    public var runId: Int64
    public var gpu: Int
    public var peakMemoryBytes: Int64
    public var memoryCapacityBytes: Int64
    public var computeS: Double
    public var communicationS: Double
    public var exposedCommunicationS: Double
    public var idleS: Double
    /// Exposed communication by kind: tensor, context, expert, pipeline, data-parallel
    /// gradients, and parameter gathers (each on its own, so they can overlap).
    public var exposedTpS: Double = 0
    public var exposedCpS: Double = 0
    public var exposedEpS: Double = 0
    public var exposedPpS: Double = 0
    public var exposedDpS: Double = 0
    public var exposedGatherS: Double = 0
    /// Idle time inside a pipeline: this GPU's share of the bubble.
    public var bubbleS: Double = 0

    public init(runId: Int64, gpu: Int, peakMemoryBytes: Int64, memoryCapacityBytes: Int64, computeS: Double,
                communicationS: Double, exposedCommunicationS: Double, idleS: Double) {
        self.runId = runId
        self.gpu = gpu
        self.peakMemoryBytes = peakMemoryBytes
        self.memoryCapacityBytes = memoryCapacityBytes
        self.computeS = computeS
        self.communicationS = communicationS
        self.exposedCommunicationS = exposedCommunicationS
        self.idleS = idleS
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}

/// How busy one link was during a run: bytes carried over what it could have carried.
public struct RunLinkRecord: Codable, Hashable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_link"

    public var runId: Int64
    public var link: Int
    public var source: String
    public var destination: String
    public var kind: String
    public var bandwidthBytesPerS: Double
    public var utilisation: Double

    public init(runId: Int64, link: Int, source: String, destination: String, kind: String, bandwidthBytesPerS: Double,
                utilisation: Double) {
        self.runId = runId
        self.link = link
        self.source = source
        self.destination = destination
        self.kind = kind
        self.bandwidthBytesPerS = bandwidthBytesPerS
        self.utilisation = utilisation
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}

/// Time on a run's critical path of one kind (`compute`, a communication stream, `launch`
/// or `wait`).
public struct RunCriticalPathRecord: Codable, Hashable, Sendable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "run_critical_path"

    public var runId: Int64
    public var kind: String
    public var seconds: Double
    public var tasks: Int

    public init(runId: Int64, kind: String, seconds: Double, tasks: Int) {
        self.runId = runId
        self.kind = kind
        self.seconds = seconds
        self.tasks = tasks
    }

    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase
}

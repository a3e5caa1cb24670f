import Foundation
import StrataCore
import StrataEngine
import StrataGraph

/// What `simulate run` prints: a short summary for people, or JSON for scripts.
enum RunReport {
    /// The JSON object of `--json`. Keys are snake_case and sorted, so output is stable.
    struct JSONReport: Encodable {
        var iterationTimeS: Double
        var tokensPerS: Double
        var samplesPerS: Double
        var mfu: Double
        var hfu: Double
        var modelFlopsPerIteration: Double
        var peakMemoryBytes: Int64
        var memoryCapacityBytes: Int64
        var fitsInMemory: Bool
        var gpus: Int
        var runId: Int64
        var strategy: String
        var topology: String
        /// Which cost models priced the run: measured tables or the roofline.
        var costModel: String
        /// Events the engine processed (a measure of simulation work).
        var events: Int
        /// Seconds per GPU, averaged over GPUs.
        var breakdown: [String: Double]
        /// The critical path's seconds by kind (compute, a communication stream, launch, wait).
        var criticalPathS: [String: Double]
        /// All-reduce calls by algorithm (ring, tree).
        var allReduceAlgorithms: [String: Int]
        /// Tasks priced outside the measured tables, by reason.
        var extrapolated: [String: Int]
        /// The host's seconds to issue the iteration of the GPU whose host works longest, by
        /// pass (`forward_s`, `backward_s`, `other_s`, `total_s`), to set beside a runner's
        /// own host timings.
        var hostIssue: [String: Double]
    }

    static func json(metrics: RunMetrics, result: SimulationResult, runID: Int64, strategy: ResolvedStrategy, costs: String) throws -> String {
        let count = Double(result.ranks.count)
        let mean = { (value: (RankBreakdown) -> SimTime) in result.ranks.reduce(0.0) { $0 + value($1).seconds } / count }
        let report = JSONReport(
            iterationTimeS: metrics.iterationTimeSeconds, tokensPerS: metrics.tokensPerSecond,
            samplesPerS: metrics.samplesPerSecond, mfu: metrics.mfu, hfu: metrics.hfu,
            modelFlopsPerIteration: metrics.modelFLOPsPerIteration, peakMemoryBytes: metrics.peakMemoryBytes,
            memoryCapacityBytes: result.ranks.map(\.memoryCapacityBytes).min() ?? 0,
            fitsInMemory: metrics.fitsInMemory, gpus: metrics.gpus, runId: runID, strategy: strategy.path,
            topology: strategy.topologyPath, costModel: costs, events: result.events,
            breakdown: [
                "compute_s": mean(\.compute), "communication_s": mean(\.communication),
                "exposed_communication_s": mean(\.exposedCommunication), "idle_s": mean(\.idle),
                "pipeline_bubble_s": mean(\.pipelineBubble),
            ].merging(StreamKind.allCases.filter { $0 != .compute }.map { kind in
                ("exposed_\(kind.rawValue.replacingOccurrences(of: "-", with: "_"))_s",
                 mean { $0.exposedByKind[kind] ?? .zero })
            }) { first, _ in first },
            criticalPathS: Dictionary(uniqueKeysWithValues: result.criticalPath.shares.map { ($0.kind, $0.time.seconds) }),
            allReduceAlgorithms: Dictionary(uniqueKeysWithValues: result.allReduceAlgorithms.map { ($0.key.rawValue, $0.value) }),
            extrapolated: result.extrapolated,
            hostIssue: hostIssueJSON(busiestHost(result)))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(data: try encoder.encode(report), encoding: .utf8)!
    }

    /// " (tp-comm 1.2 ms, grad-sync 0.3 ms)" for the kinds with exposed time.
    static func kinds(_ rank: RankBreakdown) -> String {
        let parts = StreamKind.allCases.compactMap { kind in
            rank.exposedByKind[kind].map { "\(kind.rawValue) \(Format.duration($0.seconds))" }
        }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// "compute 91.2 %, grad-sync 6.1 %, launch 0.4 % (1,234 tasks)": the path's largest
    /// shares, each of at least 0.1 %, largest first.
    static func criticalPath(_ result: SimulationResult) -> String {
        let total = result.criticalPath.total.seconds
        guard total > 0 else { return "none" }
        let shares = result.criticalPath.shares.filter { $0.time.seconds / total >= 0.001 }.prefix(5)
            .map { "\($0.kind) \(Format.percent($0.time.seconds / total))" }
        return shares.joined(separator: ", ") + " (\(Format.grouped(Double(result.criticalPath.steps.count))) tasks)"
    }

    /// The share of the critical path waiting for the host to issue a kernel above which a
    /// prediction is host-paced: it then moves with the host's speed, which differs between
    /// processes on one machine by far more than GPUs do (docs/accuracy.md, "The host's
    /// spread between processes"), so the summary says so and `validate` reports such
    /// predictions apart.
    static let hostPacedShare = 0.1

    /// The share of the critical path spent waiting for the host to issue a kernel.
    static func hostShare(_ result: SimulationResult) -> Double { result.criticalPath.fraction(of: "launch") }

    /// The summary's warning for a host-paced prediction, or nil for one paced by its GPUs.
    static func hostPacedRow(_ result: SimulationResult) -> (String, String)? {
        let share = hostShare(result)
        guard share >= hostPacedShare else { return nil }
        return ("host-paced", "the host's launches are \(Format.percent(share)) of the critical path, so this time follows "
            + "the speed of the host's processes, which differs between processes even on one machine; time host.csv where "
            + "the job runs (scripts/profile/host.py) and see docs/accuracy.md")
    }

    /// The GPU whose host takes longest to issue its iteration (the first of equals).
    static func busiestHost(_ result: SimulationResult) -> RankBreakdown {
        result.ranks.max { ($0.host.total, $1.gpu) < ($1.host.total, $0.gpu) }!
    }

    static func hostIssueJSON(_ rank: RankBreakdown) -> [String: Double] {
        ["gpu": Double(rank.gpu), "forward_s": rank.host.forward.seconds, "backward_s": rank.host.backward.seconds,
         "other_s": rank.host.other.seconds, "total_s": rank.host.total.seconds]
    }

    /// The summary's host row: what the host spends issuing a GPU's iteration, by pass, so
    /// that a host-paced prediction can be set beside the runner's host timings.
    static func hostRow(_ rank: RankBreakdown) -> (String, String) {
        ("host for GPU \(rank.gpu)", "\(Format.duration(rank.host.total.seconds)) to issue the iteration: forward \(Format.duration(rank.host.forward.seconds)), backward \(Format.duration(rank.host.backward.seconds)), optimizer and the rest \(Format.duration(rank.host.other.seconds))")
    }

    static func summary(metrics: RunMetrics, result: SimulationResult, strategy: ResolvedStrategy, runID: Int64, database: String,
                        costs: String) -> String {
        let spec = strategy.cluster.gpus[0].spec
        let worst = result.ranks.max { $0.peakMemoryBytes < $1.peakMemoryBytes }!
        let slowest = result.ranks.max { $0.exposedCommunication < $1.exposedCommunication }!
        let fits = metrics.fitsInMemory ? "fits" : "DOES NOT FIT"
        var rows: [(String, String)] = [
            ("iteration time", Format.duration(metrics.iterationTimeSeconds)),
            ("throughput", "\(Format.grouped(metrics.tokensPerSecond)) tokens/s, \(Format.fixed(metrics.samplesPerSecond, 2)) samples/s"),
            ("MFU", "\(Format.percent(metrics.mfu)) of \(Format.flopRate(spec.peak[strategy.precision]!.flopsPerSecond)) \(strategy.precision.rawValue) per GPU (HFU \(Format.percent(metrics.hfu)))"),
            ("model FLOPs", "\(Format.flops(metrics.modelFLOPsPerIteration)) per iteration"),
            ("peak memory", "\(Format.bytes(Double(worst.peakMemoryBytes))) of \(Format.bytes(Double(worst.memoryCapacityBytes))) on GPU \(worst.gpu) (\(fits))"),
            ("costs", costs),
            ("critical path", criticalPath(result)),
            ("time on GPU \(slowest.gpu)", "compute \(Format.duration(slowest.compute.seconds)), exposed communication \(Format.duration(slowest.exposedCommunication.seconds))\(kinds(slowest)), idle \(Format.duration(slowest.idle.seconds))"),
            hostRow(busiestHost(result)),
        ]
        if let hostPaced = hostPacedRow(result) { rows.append(hostPaced) }
        if !result.extrapolated.isEmpty {
            let reasons = result.extrapolated.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            let tasks = reasons.reduce(0) { $0 + $1.value }
            let shown = reasons.prefix(2).map(\.key).joined(separator: "; ")
            rows.append(("extrapolated", "\(Format.grouped(Double(tasks))) kernels priced outside the measured tables: \(shown)"
                + (reasons.count > 2 ? "; \(reasons.count - 2) more (run --json)" : "")))
        }
        let width = rows.map(\.0.count).max()!
        let mesh = strategy.mesh.map { "\($0.name) \($0.size)" }.joined(separator: " × ")
        var lines = ["\(strategy.path) on \(strategy.cluster.name): \(strategy.gpuCount) × \(spec.name), mesh \(mesh)"]
        lines += rows.map { "  " + $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
        lines.append("stored as run \(runID) in \(database)")
        return lines.joined(separator: "\n")
    }
}

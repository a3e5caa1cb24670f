import Foundation
import StrataCore
import StrataEngine
import StrataGraph
import StrataStore
import StrataTopology

/// A run's database rows, as `simulate run` and `simulate sweep` both store them.
struct RunRows: Sendable {
    var run: RunRecord
    var gpus: [RunGPURecord]
    var links: [RunLinkRecord]
    var criticalPath: [RunCriticalPathRecord]
}

/// Builds the database rows of a run from its inputs and results.
enum RunRecords {
    /// Every row of a simulated run: the one place that decides what a run stores, so a
    /// sweep's points are stored exactly as `simulate run` stores a run.
    static func rows(strategyPath: String, strategyText: String, topologyText: String, overrides: [Override],
                     strategy: ResolvedStrategy, result: SimulationResult, metrics: RunMetrics, costs: String,
                     inputs: RunInputs) -> RunRows {
        var record = run(strategyPath: strategyPath, strategyText: strategyText, topologyText: topologyText,
                         overrides: overrides, strategy: strategy, metrics: metrics, inputs: inputs)
        record.costModel = costs
        record.events = result.events
        record.hfu = metrics.hfu
        record.allReduceRingCalls = result.allReduceAlgorithms[.ring] ?? 0
        record.allReduceTreeCalls = result.allReduceAlgorithms[.tree] ?? 0
        record.extrapolatedKernels = result.extrapolated.values.reduce(0, +)
        record.extrapolated = sortedJSON(result.extrapolated)
        return RunRows(run: record, gpus: gpus(result), links: links(result, cluster: strategy.cluster),
                       criticalPath: criticalPath(result))
    }

    /// The run row; `inputs` hashes everything the result depends on (`RunInputs`).
    static func run(strategyPath: String, strategyText: String, topologyText: String, overrides: [Override],
                    strategy: ResolvedStrategy, metrics: RunMetrics, inputs: RunInputs) -> RunRecord {
        let overridesJSON = canonicalJSON(overrides)
        let strategyHash = SHA256.hex(of: strategyText)
        let topologyHash = SHA256.hex(of: topologyText)
        let inputsHash = inputs.sha256
        return RunRecord(
            createdAt: ISO8601DateFormatter().string(from: Date()),
            toolVersion: StrataVersion.current,
            strategyPath: strategyPath,
            strategyText: strategyText,
            strategySha256: strategyHash,
            topologyPath: strategy.topologyPath,
            topologyName: strategy.cluster.name,
            topologyText: topologyText,
            topologySha256: topologyHash,
            overrides: overridesJSON,
            inputsSha256: inputsHash,
            gpus: metrics.gpus,
            iterationTimeS: metrics.iterationTimeSeconds,
            tokensPerS: metrics.tokensPerSecond,
            samplesPerS: metrics.samplesPerSecond,
            mfu: metrics.mfu,
            modelFlopsPerIteration: metrics.modelFLOPsPerIteration,
            peakMemoryBytes: metrics.peakMemoryBytes,
            fitsInMemory: metrics.fitsInMemory)
    }

    /// Links that carried anything, with how busy they were.
    static func links(_ result: SimulationResult, cluster: Cluster) -> [RunLinkRecord] {
        zip(cluster.links, result.linkUtilisation).compactMap { link, utilisation in
            guard utilisation > 0 else { return nil }
            return RunLinkRecord(runId: 0, link: link.id, source: cluster.devices[link.from].name,
                                 destination: cluster.devices[link.to].name, kind: link.kind.rawValue,
                                 bandwidthBytesPerS: link.bandwidth.bytesPerSecond, utilisation: utilisation)
        }
    }

    static func criticalPath(_ result: SimulationResult) -> [RunCriticalPathRecord] {
        result.criticalPath.shares.map { RunCriticalPathRecord(runId: 0, kind: $0.kind, seconds: $0.time.seconds, tasks: $0.tasks) }
    }

    static func gpus(_ result: SimulationResult) -> [RunGPURecord] {
        result.ranks.map { rank in
            var record = RunGPURecord(runId: 0, gpu: rank.gpu, peakMemoryBytes: rank.peakMemoryBytes,
                                      memoryCapacityBytes: rank.memoryCapacityBytes, computeS: rank.compute.seconds,
                                      communicationS: rank.communication.seconds,
                                      exposedCommunicationS: rank.exposedCommunication.seconds, idleS: rank.idle.seconds)
            let exposed = { (kind: StreamKind) in rank.exposedByKind[kind]?.seconds ?? 0 }
            record.exposedTpS = exposed(.tensorParallel)
            record.exposedCpS = exposed(.contextParallel)
            record.exposedEpS = exposed(.expertParallel)
            record.exposedPpS = exposed(.pipeline)
            record.exposedDpS = exposed(.gradientSync)
            record.exposedGatherS = exposed(.parameterGather)
            record.bubbleS = rank.pipelineBubble.seconds
            return record
        }
    }

    /// `{"reason":count,…}` with keys sorted.
    static func sortedJSON(_ counts: [String: Int]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(data: try! encoder.encode(counts), encoding: .utf8)!
    }

    /// `{"name":"value",…}` with keys sorted; the last `--set` of a name wins.
    static func canonicalJSON(_ overrides: [Override]) -> String {
        var values: [String: String] = [:]
        for override in overrides { values[override.name] = override.text }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(data: try! encoder.encode(values), encoding: .utf8)!
    }
}

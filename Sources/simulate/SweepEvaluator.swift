import Foundation
import StrataCore
import StrataCost
import StrataDSL
import StrataEngine
import StrataGraph
import StrataStore

/// What became of one point of a sweep, before it is stored.
enum PointOutcome: Sendable {
    /// Simulated now: the rows to store.
    case simulated(inputs: String, rows: RunRows)
    /// The database already has these inputs: skipped.
    case stored(inputs: String, StoredOutcome)
    /// The strategy rejects these values: the diagnostics as printed.
    case invalid(inputs: String, reason: String)
    /// The simulator failed: the error as printed.
    case failed(inputs: String, reason: String)

    var inputs: String {
        switch self {
        case let .simulated(inputs, _), let .stored(inputs, _), let .invalid(inputs, _), let .failed(inputs, _): inputs
        }
    }
}

/// Resolves, hashes and simulates the points of one sweep, exactly as `simulate run` does
/// one strategy; called from every worker thread at once.
///
/// The strategy is parsed once; topology files, their hashes and the measured cost
/// tables are read once and shared by all points.
struct SweepEvaluator: Sendable {
    var strategyPath: String
    var strategyText: String
    var file: StrategyFile
    var sources: StrategySources
    var grid: SweepGrid
    /// The `--set` values, the same for every point.
    var fixed: [Override]
    var topologyOverride: String?
    var traces: String?
    /// What the database had when the sweep started.
    var stored: [String: StoredOutcome]
    let digests = FileDigests()
    let costs = CostModelCache()
    let timings = PhaseTimings()

    /// The overrides of point `index`: the `--set` values, then the grid's.
    func overrides(at index: Int) -> [Override] { fixed + grid.overrides(at: index) }

    func evaluate(_ index: Int) -> PointOutcome {
        let overrides = overrides(at: index)
        var inputs = RunInputs(unresolvedStrategyText: strategyText, imports: sources.imports,
                               topologyPath: topologyOverride ?? sources.topology, overrides: overrides, traces: traces,
                               digests: digests).sha256
        do {
            let start = DispatchTime.now()
            let resolved = try Resolver.resolve(file, overrides: overrides, topologyOverride: topologyOverride)
            let costs = try costs.models(for: resolved, traces: traces)
            let resolvedInputs = RunInputs(strategyText: strategyText, imports: sources.imports,
                                           topologyPath: resolved.topologyPath, overrides: overrides, costs: costs,
                                           digests: digests)
            inputs = resolvedInputs.sha256
            timings.add(.resolve, since: start)
            if let known = stored[inputs] { return .stored(inputs: inputs, known) }
            let topologyText = try digests.text(ofFile: resolved.topologyPath, what: "topology file")
            let (_, result, metrics, description) = try Pipeline.simulate(resolved, costs: costs, timings: timings)
            return .simulated(inputs: inputs, rows: RunRecords.rows(
                strategyPath: strategyPath, strategyText: strategyText, topologyText: topologyText, overrides: overrides,
                strategy: resolved, result: result, metrics: metrics, costs: description, inputs: resolvedInputs))
        } catch let error as DiagnosticError {
            if case let .invalid(reason)? = stored[inputs] { return .stored(inputs: inputs, .invalid(reason: reason)) }
            return .invalid(inputs: inputs, reason: error.description)
        } catch let error as ExecutionError {
            return .failed(inputs: inputs, reason: "internal error: \(error.description)")
        } catch {
            return .failed(inputs: inputs, reason: "internal error: \(error)")
        }
    }
}

/// The cost models of each GPU type (and tables folder) a sweep meets, loaded once.
final class CostModelCache: @unchecked Sendable {
    private let lock = NSLock()
    private var models: [String: Result<(Pipeline.Costs, MeasuredCostModel?), DiagnosticError>] = [:]

    /// The strategy's cost models, as `Pipeline.costs(for:traces:)` gives them.
    func models(for strategy: ResolvedStrategy, traces: String?) throws(DiagnosticError) -> Pipeline.Costs {
        let key = [strategy.cluster.gpus[0].spec.id, (strategy.topologyPath as NSString).deletingLastPathComponent, traces ?? ""]
            .joined(separator: "\n")
        lock.lock()
        let cached = models[key]
        lock.unlock()
        let loaded: Result<(Pipeline.Costs, MeasuredCostModel?), DiagnosticError>
        if let cached {
            loaded = cached
        } else {
            do throws(DiagnosticError) {
                loaded = .success(try Pipeline.costs(for: strategy.cluster, topologyPath: strategy.topologyPath, traces: traces))
            } catch {
                loaded = .failure(error)
            }
            lock.lock()
            models[key] = loaded
            lock.unlock()
        }
        let (costs, model) = try loaded.get()
        if let model { try Pipeline.checkKernels(strategy, model: model) }
        return costs
    }
}

/// Time spent in each phase of a sweep's points, summed over threads: where a slow sweep
/// spends its time (`STRATA_SWEEP_TIMINGS=1` prints it).
final class PhaseTimings: @unchecked Sendable {
    enum Phase: String, CaseIterable { case resolve, compile, simulate, store }
    private let lock = NSLock()
    private var nanoseconds: [Phase: UInt64] = [:]

    func add(_ phase: Phase, since start: DispatchTime) {
        let elapsed = DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds
        lock.lock()
        nanoseconds[phase, default: 0] += elapsed
        lock.unlock()
    }

    /// `resolve 1.2 s, compile 0.3 s, simulate 30.1 s, store 0.9 s`, thread time.
    var summary: String {
        lock.lock()
        defer { lock.unlock() }
        return Phase.allCases.map { "\($0.rawValue) \(String(format: "%.2f", Double(nanoseconds[$0] ?? 0) / 1e9)) s" }
            .joined(separator: ", ")
    }
}

import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataCost
import StrataGraph
import StrataTopology

/// The stages from a strategy file to simulated results, shared by `run` and `check`.
struct Pipeline {
    let options: StrategyOptions

    /// Reads a text file, turning a missing or unreadable one into a diagnostic.
    static func readText(_ path: String, what: String) throws(DiagnosticError) -> String {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DiagnosticError(Diagnostic(file: path, "no such \(what)",
                                             help: "check the path; relative paths start from the current directory"))
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticError(Diagnostic(file: path, "cannot read the \(what) as UTF-8 text",
                                             help: "check the file's permissions and encoding"))
        }
        return text
    }

    /// Parses and resolves the strategy with the command line's overrides.
    func resolve() throws(DiagnosticError) -> (text: String, strategy: ResolvedStrategy) {
        let text = try Self.readText(options.file, what: "strategy file")
        let file = try Parser.parse(text, path: options.file)
        let strategy = try Resolver.resolve(file, overrides: options.parsedOverrides, topologyOverride: options.topology)
        return (text, strategy)
    }

    /// The cost models a run uses: measured tables for the topology's GPU when there are
    /// some (in `traces`, or `traces/` beside the topology's folder); else, when tables of
    /// another GPU are there, that GPU's efficiencies transferred to this one's roofline;
    /// else the roofline.
    struct Costs: Sendable {
        var compute: any ComputeCostModel
        var network: NetworkCalibration?
        /// Host and GPU launch costs: measured (`launch.csv`) or the documented defaults.
        var launch: LaunchCosts = .defaults
        /// What was used, for reports: "measured (traces/h100-sxm)", "transferred from
        /// h100-sxm (traces/h100-sxm)" or "roofline".
        var description: String
        /// The folder of measured tables used, if any: its files are part of a run's inputs.
        var folder: String? = nil
    }

    static func costs(for strategy: ResolvedStrategy, traces: String?) throws(DiagnosticError) -> Costs {
        let (costs, model) = try costs(for: strategy.cluster, topologyPath: strategy.topologyPath, traces: traces)
        if let model { try checkKernels(strategy, model: model) }
        return costs
    }

    /// The cost models for `cluster`'s GPU, and the measured model behind them if any
    /// (its kernel tables are what `kernel = "name"` may name).
    static func costs(for cluster: Cluster, topologyPath: String, traces: String?) throws(DiagnosticError)
        -> (costs: Costs, model: MeasuredCostModel?) {
        let gpu = cluster.gpus[0].spec
        let topologies = (topologyPath as NSString).deletingLastPathComponent
        let root = traces ?? ((topologies as NSString).appendingPathComponent("../traces"))
        let nvlink = cluster.links.first { $0.kind == .nvlink }?.bandwidth
        let costs: Costs
        let model: MeasuredCostModel?
        if let folder = MeasuredTables.folder(for: gpu.id, under: root) {
            let tables = try MeasuredTables(folder: folder)
            let measured = MeasuredCostModel(tables: tables)
            model = measured
            costs = Costs(compute: measured,
                          network: NetworkCalibration.fit(tables, nominal: nvlink ?? Bandwidth(bytesPerSecond: 450e9)),
                          launch: LaunchCosts.fit(tables),
                          description: "measured (\(Resolver.normalized(folder)))", folder: folder)
        } else if let (source, entry) = MeasuredTables.gpuIDs(under: root).lazy.compactMap({ id in
            GPUCatalog.find(id, inTopologiesAt: topologies).map { (id, $0) }
        }).first {
            let folder = (root as NSString).appendingPathComponent(source)
            let tables = try MeasuredTables(folder: folder)
            let measured = MeasuredCostModel(tables: tables)
            model = measured
            // NVLink's efficiency is a fraction of nominal and NCCL's step cost mostly
            // software: both carry over to the other GPU's links.
            costs = Costs(compute: TransferredCostModel(from: measured, of: entry.spec, to: gpu),
                          network: NetworkCalibration.fit(tables, nominal: entry.nvlink ?? Bandwidth(bytesPerSecond: 450e9)),
                          launch: LaunchCosts.fit(tables),
                          description: "transferred from \(source) (\(Resolver.normalized(folder)))", folder: folder)
        } else {
            if let traces {
                throw DiagnosticError(Diagnostic(file: traces, "there are no measured tables for \(gpu.id) here",
                                                 help: "run scripts/profile/run.py on a \(gpu.name) and put its tables in \(traces)/\(gpu.id)/"))
            }
            return (Costs(compute: RooflineCostModel(), network: nil, description: "roofline (no measured tables for \(gpu.id))"), nil)
        }
        return (costs, model)
    }

    /// Every `kernel = "name"` of the strategy must have tables in `kernels/<name>/`.
    static func checkKernels(_ strategy: ResolvedStrategy, model: MeasuredCostModel) throws(DiagnosticError) {
        let tree = strategy.tree
        var diagnostics: [Diagnostic] = []
        var reported: Set<String> = []
        for index in tree.attributes.indices {
            guard let location = tree.sources[index]["kernel"], let name = tree.attributes[index].kernel,
                  model.kernels[name] == nil, reported.insert("\(location)").inserted else { continue }
            let folder = Resolver.normalized((model.folder as NSString).appendingPathComponent("kernels/\(name)"))
            let known = model.kernelNames
            let suggestion = Spelling.closest(to: name, among: known).map { "did you mean \"\($0)\"? " } ?? ""
            diagnostics.append(Diagnostic(at: location, "no tables for kernel \"\(name)\" in \(folder)/",
                                          help: "\(suggestion)add \(folder)/gemm.csv (the format of gemm.csv, see scripts/profile/README.md)"
                                              + (known.isEmpty ? "" : ", or use one of: \(known.joined(separator: ", "))")))
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
    }

    /// Compiles and simulates a resolved strategy.
    /// `costs` are the strategy's cost models when the caller has them already (a sweep
    /// loads the tables once for all its points); else they are loaded from `traces`.
    /// `timings`, if given, gets the time spent compiling and simulating.
    static func simulate(_ strategy: ResolvedStrategy, recordsTimeline: Bool = false, exact: Bool = false,
                         traces: String? = nil, costs known: Costs? = nil, timings: PhaseTimings? = nil) throws
        -> (graph: ExecutionGraph, result: SimulationResult, metrics: RunMetrics, costs: String) {
        let start = DispatchTime.now()
        let graph = try Compiler.compile(strategy)
        timings?.add(.compile, since: start)
        let simulated = DispatchTime.now()
        defer { timings?.add(.simulate, since: simulated) }
        let costs = try known ?? costs(for: strategy, traces: traces)
        let result = try Executor(graph: graph, cluster: strategy.cluster, recordsTimeline: recordsTimeline, exact: exact,
                                  costs: costs.compute, network: costs.network, launch: costs.launch,
                                  collectiveAlgorithm: strategy.collectiveAlgorithm).run()
        return (graph, result, RunMetrics(graph: graph, result: result, cluster: strategy.cluster), costs.description)
    }
}

import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataCost
import StrataGraph

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

    /// Compiles and simulates a resolved strategy.
    /// The cost models a run uses: measured tables for the topology's GPU when there are
    /// some (in `traces`, or `traces/` beside the topology's folder), else the roofline.
    struct Costs {
        var compute: any ComputeCostModel
        var network: NetworkCalibration?
        /// What was used, for reports: "measured (traces/h100-sxm)" or "roofline".
        var description: String
    }

    static func costs(for strategy: ResolvedStrategy, traces: String?) throws(DiagnosticError) -> Costs {
        let gpu = strategy.cluster.gpus[0].spec
        let root = traces ?? ((strategy.topologyPath as NSString).deletingLastPathComponent as NSString)
            .appendingPathComponent("../traces")
        guard let folder = MeasuredTables.folder(for: gpu.id, under: root) else {
            if let traces {
                throw DiagnosticError(Diagnostic(file: traces, "there are no measured tables for \(gpu.id) here",
                                                 help: "run scripts/profile/run.py on a \(gpu.name) and put its tables in \(traces)/\(gpu.id)/"))
            }
            return Costs(compute: RooflineCostModel(), network: nil, description: "roofline (no measured tables for \(gpu.id))")
        }
        let tables = try MeasuredTables(folder: folder)
        let nvlink = strategy.cluster.links.first { $0.kind == .nvlink }?.bandwidth ?? Bandwidth(bytesPerSecond: 450e9)
        return Costs(compute: MeasuredCostModel(tables: tables), network: NetworkCalibration.fit(tables, nominal: nvlink),
                     description: "measured (\(Resolver.normalized(folder)))")
    }

    static func simulate(_ strategy: ResolvedStrategy, recordsTimeline: Bool = false, exact: Bool = false,
                         traces: String? = nil) throws
        -> (graph: ExecutionGraph, result: SimulationResult, metrics: RunMetrics, costs: String) {
        let graph = try Compiler.compile(strategy)
        let costs = try costs(for: strategy, traces: traces)
        let result = try Executor(graph: graph, cluster: strategy.cluster, recordsTimeline: recordsTimeline, exact: exact,
                                  costs: costs.compute, network: costs.network).run()
        return (graph, result, RunMetrics(graph: graph, result: result, cluster: strategy.cluster), costs.description)
    }
}

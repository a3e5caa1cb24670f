import Foundation
import StrataCore
import StrataDSL
import StrataEngine
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
    static func simulate(_ strategy: ResolvedStrategy, recordsTimeline: Bool = false, exact: Bool = false) throws
        -> (graph: ExecutionGraph, result: SimulationResult, metrics: RunMetrics) {
        let graph = try Compiler.compile(strategy)
        let result = try Executor(graph: graph, cluster: strategy.cluster, recordsTimeline: recordsTimeline, exact: exact).run()
        return (graph, result, RunMetrics(graph: graph, result: result, cluster: strategy.cluster))
    }
}

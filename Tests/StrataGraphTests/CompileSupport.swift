import Foundation
import StrataCore
import StrataDSL
import Testing
@testable import StrataGraph

/// Parses, resolves and compiles strategies for the compiler's formula tests, from a
/// shipped file or from text given a (possibly synthetic) path inside the repository, so
/// relative `import` and `topology` paths resolve as they would for a file there.
enum CompileSupport {
    /// The repository root, found from this file's location.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The absolute path of `relative` (such as `strategies/small/tp2-dp2.strata`).
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    /// Every `.strata` file under `strategies/`, as paths relative to the repository root, sorted.
    static func shippedStrategies() -> [String] {
        let folder = root.appendingPathComponent("strategies")
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return [] }
        var found: [String] = []
        while let next = walker.nextObject() as? String {
            if next.hasSuffix(".strata") { found.append("strategies/" + next) }
        }
        return found.sorted()
    }

    /// A two-layer LLaMA over two data-parallel replicas, with `setting` added to its
    /// training block (a `name = value`, or nil for none) and FSDP by layer if asked: the
    /// small strategy the optimizer's and the gradients' per-iteration tasks are tested on.
    static func twoReplicas(training setting: String?, fsdp: Bool = false) -> String {
        """
        model llama { layers = 2  hidden = 256  heads = 4  ffn = 1024  vocab = 1024  seq = 128 }
        training { global_batch = 4  micro_batch = 1  precision = bf16\(setting.map { "  " + $0 } ?? "") }
        cluster { topology = "../../topologies/h100-sxm-4gpu.xml"  gpus = 2 }
        strategy {
            mesh { data = 2 }
            data_parallel = data
            \(fsdp ? "fsdp { unit = layer }" : "")
        }
        """
    }

    /// The resolved strategy of `text`, read as if it were the file at `relative`.
    static func resolve(text: String, at relative: String, overrides: [Override] = []) throws -> ResolvedStrategy {
        try Resolver.resolve(try Parser.parse(text, path: path(relative)), overrides: overrides)
    }

    /// The resolved strategy of the shipped file at `relative`.
    static func resolve(file relative: String, overrides: [Override] = []) throws -> ResolvedStrategy {
        let text = try String(contentsOfFile: path(relative), encoding: .utf8)
        return try resolve(text: text, at: relative, overrides: overrides)
    }

    /// The execution graph of the shipped file at `relative`.
    static func compile(file relative: String, overrides: [Override] = []) throws -> (ResolvedStrategy, ExecutionGraph) {
        let strategy = try resolve(file: relative, overrides: overrides)
        return (strategy, try Compiler.compile(strategy))
    }

    /// The execution graph of `text`, read as if it were the file at `relative`.
    static func compile(text: String, at relative: String) throws -> (ResolvedStrategy, ExecutionGraph) {
        let strategy = try resolve(text: text, at: relative)
        return (strategy, try Compiler.compile(strategy))
    }

    /// The collective calls of `rank`'s program, in program order.
    static func collectives(_ graph: ExecutionGraph, rank: Int) -> [CollectiveCall] {
        graph.program(of: rank).tasks.compactMap { if case let .collective(call) = $0.action { call } else { nil } }
    }

    /// Checks `actual` is within `tolerance` (relative) of `expected`.
    static func expectClose(_ actual: Double, _ expected: Double, within tolerance: Double, _ what: String,
                            sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let error = expected == 0 ? abs(actual) : abs(actual - expected) / abs(expected)
        #expect(error <= tolerance, "\(what): \(actual) vs \(expected) (\(String(format: "%.4f", error * 100)) %)",
                sourceLocation: sourceLocation)
    }
}

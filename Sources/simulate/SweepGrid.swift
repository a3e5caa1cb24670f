import Foundation
import StrataCore
import StrataDSL
import StrataGraph

/// The values a sweep gives its parameters: one `--grid name=v1,v2,…` per parameter.
///
/// The points are the cartesian product in command-line order, the last `--grid`
/// varying fastest, numbered from 0: with `--grid tp=1,2 --grid pp=1,2,4`, point 0 is
/// tp=1 pp=1, point 1 is tp=1 pp=2 and point 5 is tp=2 pp=4. The order is part of a
/// sweep's identity (shards and resumed runs rely on it).
struct SweepGrid: Hashable, Sendable {
    /// One swept parameter and its values, each an expression as `--set` takes it.
    struct Axis: Hashable, Sendable {
        var name: String
        var values: [String]
    }

    var axes: [Axis]

    /// How many points the grid has.
    var count: Int { axes.reduce(1) { $0 * $1.values.count } }

    /// Reads `--grid` arguments, reporting every malformed one at once.
    init(arguments: [String]) throws(DiagnosticError) {
        var axes: [Axis] = []
        var diagnostics: [Diagnostic] = []
        for argument in arguments {
            let origin = "--grid \(argument)"
            guard let equals = argument.firstIndex(of: "=") else {
                diagnostics.append(Diagnostic(file: origin, "expected name=value,value,…, found no '='",
                                              help: "write the parameter and its values, such as --grid \(argument.isEmpty ? "tp" : argument)=1,2,4"))
                continue
            }
            let name = String(argument[..<equals]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                diagnostics.append(Diagnostic(file: origin, "no parameter name before '='",
                                              help: "name the 'let' parameter to sweep, such as --grid tp\(argument)"))
                continue
            }
            let values = argument[argument.index(after: equals)...].split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if values.allSatisfy(\.isEmpty) {
                diagnostics.append(Diagnostic(file: origin, "no values for '\(name)'",
                                              help: "list its values after '=', separated by commas, such as --grid \(name)=1,2,4"))
                continue
            }
            if let empty = values.firstIndex(of: "") {
                let kept = values.filter { !$0.isEmpty }.joined(separator: ",")
                diagnostics.append(Diagnostic(file: origin, "value \(empty + 1) of '\(name)' is empty",
                                              help: "remove the extra comma: --grid \(name)=\(kept)"))
                continue
            }
            if let twice = values.enumerated().first(where: { values[..<$0.offset].contains($0.element) })?.element {
                diagnostics.append(Diagnostic(file: origin, "value '\(twice)' of '\(name)' is listed twice",
                                              help: "list each value once: every point of a sweep is simulated once"))
                continue
            }
            if axes.contains(where: { $0.name == name }) {
                diagnostics.append(Diagnostic(file: origin, "'\(name)' is swept by more than one --grid",
                                              help: "give all its values in one --grid, such as --grid \(name)=1,2,4"))
                continue
            }
            for value in values {
                do {
                    _ = try Parser.parseExpression(value, origin: "--grid \(name) value '\(value)'")
                } catch {
                    diagnostics += error.diagnostics
                }
            }
            axes.append(Axis(name: name, values: values))
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
        self.axes = axes
    }

    /// Checks that every swept name is a parameter of the strategy, and not also `--set`.
    func check(parameters: [String], strategyPath: String, fixed: [Override]) throws(DiagnosticError) {
        var diagnostics: [Diagnostic] = []
        for axis in axes {
            let origin = "--grid \(axis.name)=\(axis.values.joined(separator: ","))"
            if !parameters.contains(axis.name) {
                let suggestion = Spelling.closest(to: axis.name, among: parameters).map { "did you mean '\($0)'? " } ?? ""
                let list = parameters.isEmpty ? "the file declares none; add 'let \(axis.name) = …' to it"
                    : "its parameters are \(parameters.joined(separator: ", "))"
                diagnostics.append(Diagnostic(file: origin, "\(strategyPath) has no parameter '\(axis.name)'",
                                              help: "\(suggestion)\(list)"))
            } else if fixed.contains(where: { $0.name == axis.name }) {
                diagnostics.append(Diagnostic(file: origin, "'\(axis.name)' is both swept and set with --set",
                                              help: "drop --set \(axis.name)=…, or sweep it over one value"))
            }
        }
        if !diagnostics.isEmpty { throw DiagnosticError(diagnostics) }
    }

    /// The values of point `index` (0 ≤ index < count).
    func overrides(at index: Int) -> [Override] {
        var remainder = index
        var result: [Override] = []
        for axis in axes.reversed() {
            result.append(Override(name: axis.name, text: axis.values[remainder % axis.values.count]))
            remainder /= axis.values.count
        }
        return result.reversed()
    }

    /// The grid as JSON, `[["tp",["1","2"]],["pp",["1","2","4"]]]`: names and values in
    /// command-line order, which fixes the points' order.
    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let text = axes.map { axis in
            "[" + String(data: try! encoder.encode(axis.name), encoding: .utf8)! + ","
                + String(data: try! encoder.encode(axis.values), encoding: .utf8)! + "]"
        }
        return "[" + text.joined(separator: ",") + "]"
    }

    /// `tp × pp × micro_batch = 4 × 3 × 2`, for the summary.
    var shape: String {
        axes.map(\.name).joined(separator: " × ") + " = " + axes.map { String($0.values.count) }.joined(separator: " × ")
    }

    /// `tp=4 pp=2`, how a point is named in messages.
    static func label(_ overrides: [Override]) -> String {
        overrides.map { "\($0.name)=\($0.text)" }.joined(separator: " ")
    }
}

/// `--shard I/N`: run only the points whose index is I modulo N (I counts from 0).
struct SweepShard: Hashable, Sendable {
    var index: Int
    var count: Int

    /// Reads `I/N`; `nil` unless 0 ≤ I < N.
    init?(argument: String) {
        let parts = argument.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0].trimmingCharacters(in: .whitespaces)),
              let count = Int(parts[1].trimmingCharacters(in: .whitespaces)), count > 0, index >= 0, index < count
        else { return nil }
        self.index = index
        self.count = count
    }

    func contains(_ point: Int) -> Bool { point % count == index }
}

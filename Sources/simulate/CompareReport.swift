import Foundation
import StrataCore
import StrataStore

/// `simulate query --compare A B`: what differs between two stored runs — their inputs,
/// their strategy files line by line — and where the time moved, each figure with its
/// delta and percent change from A to B.
struct CompareReport {
    let a: RunRecord
    let b: RunRecord
    let breakdownA: RunTimeBreakdown?
    let breakdownB: RunTimeBreakdown?

    /// How a figure is printed, and its delta.
    enum Unit {
        case seconds, tokensPerSecond, fraction, bytes

        /// The figure as reports print it; zero is `0`, whatever the unit.
        func display(_ value: Double) -> String {
            if value == 0 { return "0" }
            return switch self {
            case .seconds: Format.duration(value)
            case .tokensPerSecond: Format.grouped(value)
            case .fraction: Format.percent(value)
            case .bytes: Format.bytes(value)
            }
        }

        /// The change with its sign; MFU moves in percentage points.
        func delta(_ value: Double) -> String {
            if value == 0 { return "0" }
            let sign = value > 0 ? "+" : "-"
            let magnitude = abs(value)
            return switch self {
            case .fraction: sign + Format.fixed(magnitude * 100, 1) + " pp"
            default: sign + display(magnitude)
            }
        }

        var key: String {
            switch self {
            case .seconds: "s"
            case .tokensPerSecond: "tokens/s"
            case .fraction: "fraction"
            case .bytes: "bytes"
            }
        }
    }

    struct Metric {
        var name: String
        var key: String
        var unit: Unit
        var a: Double
        var b: Double

        var delta: Double { b - a }
        /// The change relative to A; nil when A is zero.
        var change: Double? { a != 0 ? (b - a) / abs(a) : nil }
    }

    /// The inputs side by side: (name, A, B).
    var inputs: [(name: String, key: String, a: String, b: String)] {
        [
            ("strategy", "strategy", a.strategyPath, b.strategyPath),
            ("overrides", "overrides", StoredOverrides(json: a.overrides).display, StoredOverrides(json: b.overrides).display),
            ("topology", "topology", a.topologyName, b.topologyName),
            ("gpus", "gpus", String(a.gpus), String(b.gpus)),
            ("cost model", "cost_model", a.costModel, b.costModel),
            ("strategy text", "strategy_sha256", String(a.strategySha256.prefix(12)), String(b.strategySha256.prefix(12))),
            ("topology text", "topology_sha256", String(a.topologySha256.prefix(12)), String(b.topologySha256.prefix(12))),
        ]
    }

    var strategyDiff: LineDiff { LineDiff(old: a.strategyText, new: b.strategyText) }

    /// Headline figures, then the time of an average GPU by where it went; a kind of
    /// exposed communication appears when either run has some.
    var metrics: [Metric] {
        var metrics = [
            Metric(name: "iteration time", key: "iteration_time_s", unit: .seconds, a: a.iterationTimeS, b: b.iterationTimeS),
            Metric(name: "tokens/s", key: "tokens_per_s", unit: .tokensPerSecond, a: a.tokensPerS, b: b.tokensPerS),
            Metric(name: "MFU", key: "mfu", unit: .fraction, a: a.mfu, b: b.mfu),
            Metric(name: "peak memory", key: "peak_memory_bytes", unit: .bytes, a: Double(a.peakMemoryBytes),
                   b: Double(b.peakMemoryBytes)),
        ]
        guard let x = breakdownA, let y = breakdownB else { return metrics }
        metrics.append(Metric(name: "compute", key: "compute_s", unit: .seconds, a: x.computeS, b: y.computeS))
        metrics.append(Metric(name: "exposed communication", key: "exposed_communication_s", unit: .seconds,
                              a: x.exposedCommunicationS, b: y.exposedCommunicationS))
        for ((kind, first), (_, second)) in zip(x.exposedByKind, y.exposedByKind) where first > 0 || second > 0 {
            metrics.append(Metric(name: "  exposed \(kind)", key: "exposed_\(kind.replacingOccurrences(of: "-", with: "_"))_s",
                                  unit: .seconds, a: first, b: second))
        }
        if x.bubbleS > 0 || y.bubbleS > 0 {
            metrics.append(Metric(name: "pipeline bubble", key: "bubble_s", unit: .seconds, a: x.bubbleS, b: y.bubbleS))
        }
        metrics.append(Metric(name: "idle", key: "idle_s", unit: .seconds, a: x.idleS, b: y.idleS))
        return metrics
    }

    private var nameA: String { "run \(a.id ?? 0)" }
    private var nameB: String { "run \(b.id ?? 0)" }

    var inputsTable: ReportTable {
        ReportTable(
            columns: [.init(key: "input", title: "input"), .init(key: "a", title: nameA), .init(key: "b", title: nameB),
                      .init(key: "same", title: "")],
            rows: inputs.map { input in
                [.init(input.name, .string(input.key)), .text(input.a), .text(input.b),
                 .init(input.a == input.b ? "" : "changed", .bool(input.a == input.b))]
            })
    }

    var metricsTable: ReportTable {
        ReportTable(
            columns: [.init(key: "metric", title: "figure"), .init(key: "a", title: nameA),
                      .init(key: "b", title: nameB), .init(key: "delta", title: "delta"), .init(key: "change", title: "change")],
            rows: metrics.map { metric in
                [.init(metric.name, .string(metric.key)),
                 .init(metric.unit.display(metric.a), .number(metric.a)),
                 .init(metric.unit.display(metric.b), .number(metric.b)),
                 .init(metric.unit.delta(metric.delta), .number(metric.delta)),
                 .init(metric.change.map { ($0 >= 0 ? "+" : "") + Format.percent($0) } ?? "", metric.change.map(JSONValue.number) ?? .null)]
            })
    }

    /// The aligned report: inputs, the strategy diff (when the texts differ), then figures.
    var text: String {
        var lines = ["\(nameA) → \(nameB)", "", inputsTable.aligned]
        let diff = strategyDiff.lines()
        if !diff.isEmpty {
            lines += ["", "strategy text (\(a.strategyPath) → \(b.strategyPath)):"] + diff.map { "  " + $0 }
        }
        lines += ["", metricsTable.aligned]
        if breakdownA != nil, breakdownB != nil {
            lines += ["(compute, communication, bubble and idle: mean per GPU; each kind of exposed communication on its own)"]
        }
        return lines.joined(separator: "\n")
    }

    /// One CSV table: `section,name,a,b,delta,change` with inputs, diff lines and figures.
    var csv: String {
        var rows: [[String]] = inputs.map { ["input", $0.key, $0.a, $0.b, "", ""] }
        rows += strategyDiff.lines(limit: Int.max).map { ["strategy_diff", "", $0, "", "", ""] }
        rows += metrics.map { metric in
            ["metric", metric.key, String(metric.a), String(metric.b), String(metric.delta), metric.change.map { String($0) } ?? ""]
        }
        return Tables.csv(QueryResult(columns: ["section", "name", "a", "b", "delta", "change"], rows: rows))
    }

    var json: JSONValue {
        .object([
            ("a", .integer(a.id ?? 0)),
            ("b", .integer(b.id ?? 0)),
            ("inputs", .array(inputs.map { input in
                .object([("name", .string(input.key)), ("a", .string(input.a)), ("b", .string(input.b))])
            })),
            ("strategy_diff", .array(strategyDiff.hunks.map { hunk in
                .object([("old_line", .integer(Int64(hunk.oldLine))), ("removed", .array(hunk.removed.map(JSONValue.string))),
                         ("new_line", .integer(Int64(hunk.newLine))), ("added", .array(hunk.added.map(JSONValue.string)))])
            })),
            ("metrics", .array(metrics.map { metric in
                .object([("name", .string(metric.key)), ("unit", .string(metric.unit.key)), ("a", .number(metric.a)),
                         ("b", .number(metric.b)), ("delta", .number(metric.delta)),
                         ("change", metric.change.map(JSONValue.number) ?? .null)])
            })),
        ])
    }
}

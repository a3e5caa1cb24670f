import Foundation
import StrataCore
import StrataStore

/// The summary a sweep prints when it ends.
enum SweepReport {
    /// How many invalid or failed points are quoted with their reason.
    static let quotedReasons = 3

    static func summary(sweepID: Int64, strategyPath: String, grid: SweepGrid, shard: SweepShard?, points: Int,
                        tally: SweepTally, seconds: Double, jobs: Int, best: (point: SweepPointRecord, run: RunRecord)?,
                        database: String) -> String {
        var lines: [String] = []
        let scope = shard.map { "; shard \($0.index)/\($0.count): \(points) of them" } ?? ""
        lines.append("sweep \(sweepID) of \(strategyPath) over \(grid.shape) (\(grid.count) points\(scope))")
        lines.append("  simulated     \(tally.simulated)")
        lines.append("  skipped       \(tally.skipped) (already stored)")
        lines.append("  invalid       \(tally.invalid.count)")
        lines += reasons(tally.invalid, status: "invalid", sweepID: sweepID, database: database)
        if !tally.failed.isEmpty {
            lines.append("  failed        \(tally.failed.count)")
            lines += reasons(tally.failed, status: "failed", sweepID: sweepID, database: database)
        }
        let rate = seconds > 0 ? Double(tally.done) / seconds : 0
        lines.append("  wall time     \(String(format: "%.1f", seconds)) s (\(String(format: "%.1f", rate)) points/s on \(jobs) \(jobs == 1 ? "job" : "jobs"))")
        if let best {
            let run = best.run
            lines.append("  best fitting  \(label(best.point.overrides, grid: grid)): \(Format.grouped(run.tokensPerS)) tokens/s, "
                + "MFU \(Format.percent(run.mfu)), iteration \(Format.duration(run.iterationTimeS)), "
                + "peak memory \(Format.bytes(Double(run.peakMemoryBytes))) (run \(run.id ?? 0))")
        } else {
            lines.append("  best fitting  none: no stored point of this sweep fits in GPU memory")
        }
        lines.append("stored in \(database) (sweep \(sweepID))")
        return lines.joined(separator: "\n")
    }

    /// The first few reasons, one line each (the first line of the diagnostics).
    private static func reasons(_ points: [(point: String, reason: String)], status: String, sweepID: Int64,
                                database: String) -> [String] {
        var lines = points.prefix(quotedReasons).map { point, reason in
            "    \(point): \(reason.split(separator: "\n").first.map(String.init) ?? reason)"
        }
        if points.count > quotedReasons {
            lines.append("    … \(points.count - quotedReasons) more: simulate query --db \(database) --sql "
                + "\"SELECT point, overrides, reason FROM sweep_point WHERE sweep_id = \(sweepID) AND status = '\(status)'\"")
        }
        return lines
    }

    /// A point's values in the grid's order, from the JSON `sweep_point.overrides` holds;
    /// `--set` values, the same for every point, are left out.
    static func label(_ overridesJSON: String, grid: SweepGrid) -> String {
        let values = (try? JSONDecoder().decode([String: String].self, from: Data(overridesJSON.utf8))) ?? [:]
        return grid.axes.map { "\($0.name)=\(values[$0.name] ?? "?")" }.joined(separator: " ")
    }
}

import Foundation
import StrataCore
import StrataStore

/// The columns that describe a stored run in `simulate query`'s reports: which run, its
/// layout (strategy, overrides, topology, GPUs) and its headline results.
enum RunColumns {
    static let columns: [ReportTable.Column] = [
        .init(key: "id", title: "id"),
        .init(key: "strategy", title: "strategy"),
        .init(key: "overrides", title: "overrides"),
        .init(key: "topology", title: "topology"),
        .init(key: "gpus", title: "gpus"),
        .init(key: "iteration_time_s", title: "iteration"),
        .init(key: "tokens_per_s", title: "tokens/s"),
        .init(key: "mfu", title: "MFU"),
        .init(key: "peak_memory_bytes", title: "peak memory"),
        .init(key: "fits_in_memory", title: "fits"),
    ]

    static func cells(_ run: RunRecord) -> [ReportTable.Cell] {
        let overrides = StoredOverrides(json: run.overrides)
        return [
            .init(String(run.id ?? 0), .integer(run.id ?? 0)),
            .text(run.strategyPath),
            .init(overrides.display, overrides.json),
            .text(run.topologyName),
            .init(String(run.gpus), .integer(Int64(run.gpus))),
            .init(Format.duration(run.iterationTimeS), .number(run.iterationTimeS)),
            .init(Format.grouped(run.tokensPerS), .number(run.tokensPerS)),
            .init(Format.percent(run.mfu), .number(run.mfu)),
            .init(Format.bytes(Double(run.peakMemoryBytes)), .integer(run.peakMemoryBytes)),
            .init(run.fitsInMemory ? "yes" : "no", .bool(run.fitsInMemory)),
        ]
    }

    /// A short name for a run on plots: the strategy file's name without folder or
    /// extension, and its overrides: `llama3-70b-tp-pp tp=8 pp=4`.
    static func shortName(_ run: RunRecord) -> String {
        let file = ((run.strategyPath as NSString).lastPathComponent as NSString).deletingPathExtension
        let overrides = StoredOverrides(json: run.overrides).display
        return overrides.isEmpty ? file : "\(file) \(overrides)"
    }
}

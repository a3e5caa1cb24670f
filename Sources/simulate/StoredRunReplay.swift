import Foundation
import StrataCore
import StrataDSL
import StrataGraph
import StrataStore

/// Simulates a stored run again from what the database kept of it, for plots that need
/// more than its figures (a timeline).
///
/// The `run` row keeps the strategy file's text, the topology's text, the `--set`
/// values and which cost tables priced the run. It does not keep files the strategy
/// imports nor the tables themselves: those are read from disk again (imports relative
/// to the stored strategy path, tables from the stored folder). So a replay checks its
/// iteration time against the stored one and warns when they differ.
enum StoredRunReplay {
    struct Replay {
        var strategy: ResolvedStrategy
        /// The measured-tables root to price with, as `--traces` would name it.
        var traces: String?
    }

    static func resolve(_ run: RunRecord, traces: String?) throws(DiagnosticError) -> Replay {
        let parsed = try Parser.parse(run.strategyText, path: run.strategyPath)
        // The stored topology text, from its own path when that file still holds it (so
        // tables beside it are found as they were), else from a private copy.
        var topology = run.topologyPath
        let current = FileManager.default.contents(atPath: run.topologyPath).flatMap { String(data: $0, encoding: .utf8) }
        if current.map(SHA256.hex(of:)) != run.topologySha256 {
            topology = (NSTemporaryDirectory() as NSString)
                .appendingPathComponent("strata-run-\(run.id ?? 0)-\(run.topologySha256.prefix(16)).xml")
            do {
                try run.topologyText.write(toFile: topology, atomically: true, encoding: .utf8)
            } catch {
                throw DiagnosticError(Diagnostic(file: topology, "cannot write the stored topology to replay run \(run.id ?? 0)",
                                                 help: "check that the temporary folder is writable"))
            }
        }
        let strategy = try Resolver.resolve(parsed, overrides: StoredOverrides(json: run.overrides).overrides,
                                            topologyOverride: topology)
        let root = traces ?? tablesRoot(of: run)
        if traces == nil, let root, !FileManager.default.fileExists(atPath: root) {
            throw DiagnosticError(Diagnostic(file: root, "run \(run.id ?? 0) was priced with the tables in '\(root)', which is not here",
                                             help: "run this from the folder run \(run.id ?? 0) was simulated in (paths are stored as typed), or pass --traces DIR"))
        }
        return Replay(strategy: strategy, traces: root)
    }

    /// The folder of measured tables a run's `cost_model` names — "measured
    /// (traces/h100-sxm)" or "transferred from h100-sxm (traces/h100-sxm)" — up one
    /// level, as `--traces` takes it; nil for the roofline.
    static func tablesRoot(of run: RunRecord) -> String? {
        guard !run.costModel.hasPrefix("roofline"), let open = run.costModel.lastIndex(of: "("),
              run.costModel.hasSuffix(")") else { return nil }
        let folder = String(run.costModel[run.costModel.index(after: open)..<run.costModel.index(before: run.costModel.endIndex)])
        return (folder as NSString).deletingLastPathComponent
    }

    /// A warning when the replay's iteration time is not the stored one.
    static func check(_ run: RunRecord, replayedSeconds: Double) -> Diagnostic? {
        guard abs(replayedSeconds - run.iterationTimeS) > 1e-9 * run.iterationTimeS else { return nil }
        return Diagnostic(.warning, file: run.strategyPath,
                          "run \(run.id ?? 0) replays in \(Format.duration(replayedSeconds)) but was stored with \(Format.duration(run.iterationTimeS))",
                          help: "its imported files, cost tables or Strata itself (then \(run.toolVersion), now \(StrataVersion.current)) changed since; the plot shows the replay")
    }
}

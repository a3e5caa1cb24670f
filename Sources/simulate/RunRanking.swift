import ArgumentParser
import StrataStore

/// Which stored runs `--best` and `--pareto` report, and in what order.
enum RunRanking {
    /// The `count` runs with the most tokens per second; ties go to the lower id, so the
    /// order is the same on every read.
    static func best(_ runs: [RunRecord], count: Int) -> [RunRecord] {
        Array(runs.sorted { ($0.tokensPerS, -($0.id ?? 0)) > ($1.tokensPerS, -($1.id ?? 0)) }.prefix(count))
    }

    /// What a Pareto front trades throughput against (`--pareto`, `plot scatter --x`).
    enum Cost: String, CaseIterable, ExpressibleByArgument {
        case gpus
        case memory

        func of(_ run: RunRecord) -> Double {
            switch self {
            case .gpus: Double(run.gpus)
            case .memory: Double(run.peakMemoryBytes)
            }
        }
    }

    /// The runs on the Pareto front of tokens per second against `cost` (fewer GPUs or
    /// less peak memory), by increasing cost; of runs with equal cost and throughput the
    /// lowest id.
    static func front(_ runs: [RunRecord], cost: Cost) -> [RunRecord] {
        let ordered = runs.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
        let points = ordered.map { ParetoFront.Point(cost: cost.of($0), value: $0.tokensPerS) }
        return ParetoFront.indices(of: points).map { ordered[$0] }
    }
}

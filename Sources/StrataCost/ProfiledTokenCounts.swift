import Foundation

/// The per-expert token counts `scripts/profile/grouped_gemm.py` routed in a measured row
/// of `grouped_gemm.csv`, rebuilt from the row's `experts`, `topk`, `tokens` and
/// `distribution` columns (the table stores only their sum and maximum).
///
/// The profiler's `token_counts`, step for step, so that the counts are the very ones
/// timed: `tokens × topk` rows in units of 16 (the alignment MoE kernels pad groups to),
/// shared equally (`balanced`) or in proportion to 1/(i+1)^1.2 with expert 0 hottest
/// (`zipf`), rounded by largest remainder with ties to the lower index.
enum ProfiledTokenCounts {
    /// Rows per unit of routing.
    static let unit = 16
    /// The Zipf exponent of skewed routing.
    static let zipfExponent = 1.2

    /// Tokens per expert, or nil for a distribution the profiler does not write or a
    /// total that is not whole units.
    static func counts(tokens: Int, topk: Int, experts: Int, distribution: String) -> [Int]? {
        let total = tokens * topk
        guard experts > 0, total > 0, total % unit == 0 else { return nil }
        let units = total / unit
        let weights: [Double]
        switch distribution {
        case "balanced": weights = Array(repeating: 1, count: experts)
        case "zipf": weights = (0..<experts).map { 1 / pow(Double($0 + 1), zipfExponent) }
        default: return nil
        }
        let sum = weights.reduce(0, +)
        let exact = weights.map { Double(units) * $0 / sum }
        var counts = exact.map { Int($0) }
        let left = units - counts.reduce(0, +)
        let order = exact.indices.sorted { a, b in
            let (ra, rb) = (exact[a] - Double(counts[a]), exact[b] - Double(counts[b]))
            return ra != rb ? ra > rb : a < b
        }
        for index in order.prefix(left) { counts[index] += 1 }
        return counts.map { $0 * unit }
    }
}

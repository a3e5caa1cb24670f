import Foundation

extension MeasuredCostModel {
    /// One measured LayerNorm or RMSNorm case of `elementwise.csv`.
    struct NormPoint {
        var tokens, hidden, bytes, seconds: Double
        /// A case far from what the others predict (`isolateNormAnomalies`): reproduced at
        /// its own shape, not lent to others.
        var isolated = false
    }

    /// A norm's time from the measured cases of its op and pass: the bandwidth it reached,
    /// fitted in log by a local plane in (log rows, log width) to the six nearest cases
    /// (`LocalLinearFit`), moving the query's `bytes`; a measured case returns its own time.
    ///
    /// A norm is two kernels whose cost is not set by the bytes alone: the backward pass
    /// reduces the weight's (and LayerNorm's shift's) gradient over every row, which runs
    /// slower per byte when rows are narrow. In the shipped H100 table LayerNorm's backward
    /// moves 1,113 GB/s over 2,048 rows of 2,048 but 871 GB/s over 4,096 rows of 1,024, the
    /// same bytes (`traces/h100-sxm/elementwise.csv`, its `GBps` column); read by bytes
    /// alone, as the other memory-bound ops are, its held-out error was 8.9 % / 23.6 %
    /// (median / p90, on the 2026-11-27 table).
    ///
    /// - Complexity: O(*p* log *p*) for *p* cases.
    static func normSeconds(_ points: [NormPoint], tokens: Double, hidden: Double, bytes: Double) -> Double? {
        if let own = points.first(where: { $0.isolated && $0.tokens == tokens && $0.hidden == hidden }) {
            return own.seconds * bytes / own.bytes
        }
        let samples = points.filter { !$0.isolated }.map {
            LocalLinearFit.Sample(coordinates: [log($0.tokens), log($0.hidden)], value: log($0.bytes / $0.seconds))
        }
        guard let logRate = LocalLinearFit(neighbours: 6, ridge: 0.01).value(at: [log(tokens), log(hidden)], from: samples)
        else { return nil }
        return bytes / exp(logRate)
    }

    /// The norm cases of `elementwise.csv`, by op and pass as `elementwiseKey` names them
    /// (`layer_norm/bwd`); rows without both a row count and a width are left to the
    /// bandwidth curve.
    static func normPoints(_ table: MeasuredTables.Table?) -> [String: [NormPoint]] {
        var points: [String: [NormPoint]] = [:]
        guard let table else { return points }
        for row in table.rows where row["op"] == "layer_norm" || row["op"] == "rms_norm" {
            guard let op = row["op"], let pass = row["pass"], let tokens = table.number(row, "tokens"),
                  let hidden = table.number(row, "hidden"), let bytes = table.number(row, "bytes"),
                  let us = table.number(row, "median_us"), tokens > 0, hidden > 0, bytes > 0, us > 0 else { continue }
            points["\(op)/\(pass)", default: []].append(NormPoint(tokens: tokens, hidden: hidden, bytes: bytes, seconds: us * 1e-6))
        }
        return points.mapValues(isolateNormAnomalies)
    }

    /// Marks, worst first, the cases whose bandwidth is more than half off what the other
    /// lending cases predict, until none is: a disturbed measurement (the 2026-11-27 H100
    /// table, `runs/elementwise-2026-11-27T20.csv`, timed LayerNorm's forward over 2,048
    /// rows of 1,024 at 123.8 µs, 68 GB/s, where its neighbours ran at 1,100–1,600 GB/s;
    /// the runs since timed it at 9.9 and 10.1 µs), which a local plane would otherwise tilt its
    /// neighbours' predictions towards. Worst first, so that the neighbours it spoils are
    /// not marked with it.
    static func isolateNormAnomalies(_ points: [NormPoint]) -> [NormPoint] {
        var marked = points
        while marked.filter({ !$0.isolated }).count > 6 {
            var worst: (index: Int, error: Double)?
            for index in marked.indices where !marked[index].isolated {
                var others = marked
                let held = others.remove(at: index)
                guard let predicted = normSeconds(others, tokens: held.tokens, hidden: held.hidden, bytes: held.bytes) else { continue }
                let error = abs(held.seconds / predicted - 1)
                if error > (worst?.error ?? normAnomalyTolerance) { worst = (index, error) }
            }
            guard let worst else { break }
            marked[worst.index].isolated = true
        }
        return marked
    }

    /// How far (relative time) a norm case may sit from its neighbours' prediction before
    /// it is taken for an anomaly.
    static let normAnomalyTolerance = 0.5
}

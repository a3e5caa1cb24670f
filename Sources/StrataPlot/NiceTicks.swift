import Foundation

/// Tick positions at "nice" numbers — 1, 2 or 5 times a power of ten — the way people
/// label axes by hand (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990).
public enum NiceTicks {
    /// The nice step for splitting `span` into about `count` intervals: the nice number
    /// nearest `span / count`.
    public static func step(span: Double, count: Int) -> Double {
        precondition(count > 0, "a tick count is positive")
        guard span > 0, span.isFinite else { return 1 }
        let raw = span / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let fraction = raw / magnitude
        let nice: Double = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        return nice * magnitude
    }

    /// About `count` nice ticks covering `low…high`: the first at or below `low`, the last
    /// at or above `high`, evenly spaced by a nice step. A range of one value is widened
    /// to a unit around it, so an axis always has extent.
    ///
    /// Ticks are `index × step`, rounded to the step's decimals, so they never show
    /// floating-point noise such as 0.30000000000000004.
    public static func covering(_ low: Double, _ high: Double, count: Int = 5) -> [Double] {
        var low = min(low, high), high = max(low, high)
        if high - low <= abs(high) * 1e-12 {
            let pad = high == 0 ? 1 : abs(high) * 0.5
            low -= pad
            high += pad
        }
        let step = step(span: high - low, count: count)
        // A hair of slack, so 0.3 / 0.1 = 2.9999999999999996 still starts at 3.
        let first = (low / step + 1e-9).rounded(.down), last = (high / step - 1e-9).rounded(.up)
        let decimals = max(0, -Int(floor(log10(step))))
        let scale = pow(10, Double(decimals))
        return stride(from: first, through: last, by: 1).map { index in
            ((index * step) * scale).rounded() / scale
        }
    }

    /// The decimals a label needs to tell ticks `step` apart: 0 for 5, 1 for 0.5, 2 for 0.25.
    public static func decimals(forStep step: Double) -> Int {
        guard step > 0, step.isFinite else { return 0 }
        var decimals = 0
        var scaled = step
        while decimals < 6, abs(scaled - scaled.rounded()) > 1e-9 * max(1, abs(scaled)) {
            scaled *= 10
            decimals += 1
        }
        return decimals
    }
}

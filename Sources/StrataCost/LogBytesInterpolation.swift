import Foundation

/// How Strata reads a quantity measured at a few message or buffer sizes (a memory-bound
/// op's bandwidth, the host's cost of a collective call) at a size in between: linearly in
/// log bytes between the two measured sizes around it, and held flat beyond the smallest
/// and the largest, where nothing says which way it goes.
enum LogBytesInterpolation {
    /// The value at `bytes` from `count` measured points sorted by size, point `i` at
    /// `logBytes(i)` with `value(i)`; nil without points.
    ///
    /// - Complexity: O(`count`).
    static func value(at bytes: Double, count: Int, logBytes: (Int) -> Double, value: (Int) -> Double) -> Double? {
        guard count > 0 else { return nil }
        let x = log(max(bytes, 1))
        if x <= logBytes(0) { return value(0) }
        if x >= logBytes(count - 1) { return value(count - 1) }
        let upper = (1..<count).first { logBytes($0) >= x }!
        let t = (x - logBytes(upper - 1)) / (logBytes(upper) - logBytes(upper - 1))
        return value(upper - 1) + t * (value(upper) - value(upper - 1))
    }
}

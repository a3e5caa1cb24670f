/// The unit a time axis counts in, chosen so its labels stay short: microseconds below a
/// millisecond, seconds above ten, milliseconds between.
public struct TimeUnit: Hashable, Sendable {
    /// `µs`, `ms` or `s`.
    public var name: String
    /// How many of the unit make a second.
    public var perSecond: Double

    /// The unit for an axis that ends near `seconds`.
    public init(forSpan seconds: Double) {
        if seconds < 1e-3 {
            (name, perSecond) = ("µs", 1e6)
        } else if seconds > 10 {
            (name, perSecond) = ("s", 1)
        } else {
            (name, perSecond) = ("ms", 1e3)
        }
    }
}

/// A point or span of simulated time, held as an integer number of picoseconds.
///
/// Integer time keeps the discrete-event executor deterministic: adding the same spans in
/// any order gives the same sum, which floating-point seconds do not. An `Int64` of
/// picoseconds spans about 106 days, far beyond any training iteration.
public struct SimTime: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The time in picoseconds.
    public var picoseconds: Int64

    public init(picoseconds: Int64) {
        self.picoseconds = picoseconds
    }

    /// Rounds `seconds` to the nearest picosecond. Costs are computed in floating point and
    /// enter the simulation here, once, so rounding happens at a single place.
    public init(seconds: Double) {
        precondition(seconds.isFinite && seconds >= 0, "a duration must be finite and non-negative")
        self.picoseconds = Int64((seconds * 1e12).rounded())
    }

    public static let zero = SimTime(picoseconds: 0)

    /// The time in seconds.
    public var seconds: Double { Double(picoseconds) / 1e12 }

    public static func < (lhs: SimTime, rhs: SimTime) -> Bool { lhs.picoseconds < rhs.picoseconds }
    public static func + (lhs: SimTime, rhs: SimTime) -> SimTime {
        SimTime(picoseconds: lhs.picoseconds + rhs.picoseconds)
    }
    public static func - (lhs: SimTime, rhs: SimTime) -> SimTime {
        SimTime(picoseconds: lhs.picoseconds - rhs.picoseconds)
    }
    public static func += (lhs: inout SimTime, rhs: SimTime) { lhs = lhs + rhs }
    public static func * (lhs: SimTime, rhs: Int64) -> SimTime {
        SimTime(picoseconds: lhs.picoseconds * rhs)
    }

    public var description: String { Format.duration(seconds) }
}

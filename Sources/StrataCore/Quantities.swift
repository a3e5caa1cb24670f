/// A number of bytes: tensor sizes, memory capacities, message sizes.
public struct ByteCount: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytes: Int64

    public init(_ bytes: Int64) { self.bytes = bytes }

    public static let zero = ByteCount(0)
    public static func < (lhs: ByteCount, rhs: ByteCount) -> Bool { lhs.bytes < rhs.bytes }
    public static func + (lhs: ByteCount, rhs: ByteCount) -> ByteCount { ByteCount(lhs.bytes + rhs.bytes) }
    public static func - (lhs: ByteCount, rhs: ByteCount) -> ByteCount { ByteCount(lhs.bytes - rhs.bytes) }
    public static func += (lhs: inout ByteCount, rhs: ByteCount) { lhs = lhs + rhs }
    public static func -= (lhs: inout ByteCount, rhs: ByteCount) { lhs = lhs - rhs }

    public var description: String { Format.bytes(Double(bytes)) }
}

/// A data rate in bytes per second, always in one direction of a link.
public struct Bandwidth: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var bytesPerSecond: Double

    public init(bytesPerSecond: Double) { self.bytesPerSecond = bytesPerSecond }

    public static func < (lhs: Bandwidth, rhs: Bandwidth) -> Bool { lhs.bytesPerSecond < rhs.bytesPerSecond }

    /// The time to move `bytes` at this rate, in seconds.
    public func seconds(toMove bytes: Double) -> Double { bytes / bytesPerSecond }

    public var description: String { Format.bandwidth(bytesPerSecond) }
}

/// A compute rate in floating-point operations per second.
public struct FlopRate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var flopsPerSecond: Double

    public init(flopsPerSecond: Double) { self.flopsPerSecond = flopsPerSecond }

    public static func < (lhs: FlopRate, rhs: FlopRate) -> Bool { lhs.flopsPerSecond < rhs.flopsPerSecond }

    public var description: String { Format.flopRate(flopsPerSecond) }
}

import Foundation

/// How much longer an op runs while another shares its GPU, by the op's size, as measured
/// side by side (`interference.csv`). A short kernel loses more to a collective beside it
/// than a long one: on the H200 tables a product of 30 µs ran 1.8× longer beside a bucket's
/// all-reduce, one of 1.5 ms 1.1–1.3×. So one median over every measured pair prices the
/// kernels a training step runs (mostly under 200 µs) too lightly.
///
/// An op's slowdown is the median of the measured slowdowns whose victims were within a
/// factor of two of its size (a kernel's: its time alone); where none is that close, of
/// those within a factor of two of the nearest measured size, so that one pair alone does
/// not price every op beyond the table; 1 where nothing was measured.
public struct InterferenceCurve: Hashable, Sendable {
    /// One measured pair: the victim's size and how much longer it took beside the other op.
    public struct Point: Hashable, Sendable {
        public var size: Double
        public var slowdown: Double

        public init(size: Double, slowdown: Double) {
            self.size = size
            self.slowdown = slowdown
        }
    }

    /// Measured pairs with a positive size, sorted by size.
    public let points: [Point]

    public init(points: [Point] = []) {
        self.points = points.filter { $0.size > 0 && $0.slowdown.isFinite }.sorted { ($0.size, $0.slowdown) < ($1.size, $1.slowdown) }
    }

    public var isEmpty: Bool { points.isEmpty }

    /// The slowdown of an op of `size` (seconds alone, or bytes), never below 1.
    public func slowdown(at size: Double) -> Double {
        guard !points.isEmpty, size > 0 else { return 1 }
        let near = points.filter { $0.size >= size / 2 && $0.size <= size * 2 }
        if !near.isEmpty { return max(1, InterpolationError.percentile(near.map(\.slowdown), 0.5)) }
        // None within a factor of two: the pairs within a factor of two of the measured size
        // nearest in ratio.
        let nearest = points.min { abs(log($0.size / size)) < abs(log($1.size / size)) }!.size
        let around = points.filter { $0.size >= nearest / 2 && $0.size <= nearest * 2 }
        return max(1, InterpolationError.percentile(around.map(\.slowdown), 0.5))
    }

    /// The median of every measured slowdown (1 where none): what a report states as the
    /// typical figure.
    public var median: Double { points.isEmpty ? 1 : max(1, InterpolationError.percentile(points.map(\.slowdown), 0.5)) }
}

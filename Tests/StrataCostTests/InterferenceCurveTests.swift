import Foundation
import Testing
import StrataCore
@testable import StrataCost

/// How much a kernel slows beside a collective, read near its own time from measured
/// pairs (`InterferenceCurve`): worked by hand, then its bounds over random tables.
struct InterferenceCurveTests {
    static let table = InterferenceCurve(points: [
        .init(size: 30e-6, slowdown: 1.8), .init(size: 30e-6, slowdown: 1.9),
        .init(size: 100e-6, slowdown: 1.5), .init(size: 100e-6, slowdown: 1.6),
        .init(size: 1.5e-3, slowdown: 1.2), .init(size: 1.5e-3, slowdown: 1.3),
    ])

    @Test func aKernelTakesTheMedianOfThoseWithinAFactorOfTwo() {
        // 50 µs: the 30 and 100 µs pairs (25–100 µs), median of 1.5, 1.6, 1.8, 1.9.
        #expect(abs(Self.table.slowdown(at: 50e-6) - 1.7) < 1e-12)
        // 1 ms: only the 1.5 ms pairs.
        #expect(abs(Self.table.slowdown(at: 1e-3) - 1.25) < 1e-12)
    }

    @Test func outsideEveryWindowTheNearestMeasuredSizeDecides() {
        #expect(abs(Self.table.slowdown(at: 5e-6) - 1.85) < 1e-12, "nearest: 30 µs")
        #expect(abs(Self.table.slowdown(at: 20e-3) - 1.25) < 1e-12, "nearest: 1.5 ms")
        // 400 µs is 4× from 100 µs and 3.75× from 1.5 ms: the latter is nearer in ratio.
        #expect(abs(Self.table.slowdown(at: 400e-6) - 1.25) < 1e-12)
    }

    @Test func beyondTheTableTheNearestSizesNeighboursCountToo() {
        // 5 µs: the nearest measured size is 30 µs, and the pairs within a factor of two of
        // it (15–60 µs) are 1.8, 1.4 and 1.5, median 1.5, not the single 30 µs pair's 1.8.
        let sparse = InterferenceCurve(points: [
            .init(size: 30e-6, slowdown: 1.8), .init(size: 40e-6, slowdown: 1.4), .init(size: 55e-6, slowdown: 1.5),
            .init(size: 1e-3, slowdown: 1.1),
        ])
        #expect(abs(sparse.slowdown(at: 5e-6) - 1.5) < 1e-12)
    }

    @Test func nothingMeasuredOrASpeedUpSlowsNothing() {
        #expect(InterferenceCurve().slowdown(at: 1e-4) == 1)
        #expect(InterferenceCurve().median == 1)
        let faster = InterferenceCurve(points: [.init(size: 1e-4, slowdown: 0.9)])
        #expect(faster.slowdown(at: 1e-4) == 1)
        #expect(abs(Self.table.median - 1.55) < 1e-12)
    }

    /// Over random tables, every read lies between the smallest and largest measured
    /// slowdown (and at least 1), and reading twice gives the same answer.
    @Test func readsStayWithinTheMeasuredSlowdowns() {
        for seed in 0..<500 {
            var random = SplitMix64(seed: UInt64(seed))
            let count = 1 + Int(random.next() % 12)
            let points = (0..<count).map { _ in
                InterferenceCurve.Point(size: 1e-6 * pow(10, 4 * Double(random.next() % 1_000) / 1_000),
                                        slowdown: 0.8 + 2 * Double(random.next() % 1_000) / 1_000)
            }
            let curve = InterferenceCurve(points: points)
            let low = max(1, points.map(\.slowdown).min()!), high = max(1, points.map(\.slowdown).max()!)
            for _ in 0..<20 {
                let size = 1e-7 * pow(10, 6 * Double(random.next() % 1_000) / 1_000)
                let value = curve.slowdown(at: size)
                #expect(value >= low - 1e-12 && value <= high + 1e-12, "seed \(seed) at \(size)")
                #expect(value == curve.slowdown(at: size))
            }
        }
    }
}

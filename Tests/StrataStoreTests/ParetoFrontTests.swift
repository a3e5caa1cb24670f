import StrataCore
import Testing
@testable import StrataStore

/// The Pareto front keeps exactly the points nothing beats: checked by hand on small
/// cases and, over thousands of seeded random sweeps, against the definition.
@Suite struct ParetoFrontTests {
    typealias Point = ParetoFront.Point

    @Test func handPickedFront() {
        let points = [
            Point(cost: 4, value: 100),  // 0: beaten by 2 (same cost, more value)
            Point(cost: 1, value: 30),   // 1: cheapest
            Point(cost: 4, value: 120),  // 2
            Point(cost: 2, value: 30),   // 3: beaten by 1 (same value, cheaper)
            Point(cost: 8, value: 110),  // 4: beaten by 2
            Point(cost: 2, value: 60),   // 5
            Point(cost: 2, value: 60),   // 6: a tie with 5: the first is kept
        ]
        #expect(ParetoFront.indices(of: points) == [1, 5, 2])
        #expect(ParetoFront.indices(of: []) == [])
        #expect(ParetoFront.indices(of: [Point(cost: 3, value: 0)]) == [0])
    }

    @Test func noFrontPointIsDominatedAndEveryOtherPointIs() {
        for seed in 0..<2_000 {
            var random = SplitMix64(seed: UInt64(seed))
            // Few distinct values, so ties on cost, on value and on both are common.
            let points = (0..<Int.random(in: 0...40, using: &random)).map { _ in
                Point(cost: Double(1 << Int.random(in: 0...6, using: &random)), value: Double(Int.random(in: 0...12, using: &random)))
            }
            let front = ParetoFront.indices(of: points)
            let onFront = Set(front)
            #expect(onFront.count == front.count, "seed \(seed): a point twice on the front")
            for index in front {
                #expect(!points.contains { $0.dominates(points[index]) }, "seed \(seed): front point \(index) is dominated")
            }
            for index in points.indices where !onFront.contains(index) {
                #expect(front.contains { points[$0].dominates(points[index]) || points[$0] == points[index] },
                        "seed \(seed): point \(index) is neither on the front nor beaten by it")
            }
            // By increasing cost and strictly increasing value.
            for (a, b) in zip(front, front.dropFirst()) {
                #expect(points[a].cost < points[b].cost && points[a].value < points[b].value, "seed \(seed): front out of order")
            }
        }
    }
}

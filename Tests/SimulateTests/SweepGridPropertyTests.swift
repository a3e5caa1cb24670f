import StrataCore
import Testing
@testable import simulate

/// Seeded property tests of a sweep's points: the grid's order is the cartesian product with
/// the last `--grid` fastest, every combination once, and shards split it exactly.
@Suite struct SweepGridPropertyTests {
    /// A grid of 1 to 4 parameters with 1 to 4 distinct values each.
    static func randomGrid(_ generator: inout SplitMix64) throws -> SweepGrid {
        let names = ["tp", "pp", "dp", "micro_batch"].prefix(Int(generator.next() % 4) + 1)
        let arguments = names.map { name in
            let count = Int(generator.next() % 4) + 1
            return "\(name)=" + (0..<count).map { String(1 << $0) }.joined(separator: ",")
        }
        return try SweepGrid(arguments: arguments)
    }

    @Test func pointsAreTheCartesianProductInOrder() throws {
        for seed in UInt64(0)..<200 {
            var generator = SplitMix64(seed: seed)
            let grid = try Self.randomGrid(&generator)
            let points = (0..<grid.count).map { grid.overrides(at: $0) }
            #expect(Set(points.map(SweepGrid.label)).count == grid.count, "seed \(seed): a combination repeats")
            // Mixed radix, last axis fastest: decoding each point's value positions gives its index.
            for (index, point) in points.enumerated() {
                var decoded = 0
                for (axis, value) in zip(grid.axes, point) {
                    #expect(value.name == axis.name, "seed \(seed)")
                    decoded = decoded * axis.values.count + axis.values.firstIndex(of: value.text)!
                }
                #expect(decoded == index, "seed \(seed): point \(index) is out of order")
            }
        }
    }

    @Test func shardsPartitionThePoints() throws {
        for seed in UInt64(0)..<200 {
            var generator = SplitMix64(seed: seed)
            let grid = try Self.randomGrid(&generator)
            let count = Int(generator.next() % 6) + 1
            let shards = (0..<count).map { SweepShard(argument: "\($0)/\(count)")! }
            for point in 0..<grid.count {
                #expect(shards.filter { $0.contains(point) }.count == 1, "seed \(seed): point \(point) is in no shard or several")
            }
        }
        for bad in ["3/3", "-1/3", "1/0", "1", "a/b", "1/2/3", ""] { #expect(SweepShard(argument: bad) == nil, "\(bad)") }
    }
}

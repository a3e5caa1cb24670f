/// The Pareto front of points where less `cost` and more `value` are both better: the
/// points no other point beats on one without losing on the other — the runs worth
/// considering when a sweep trades GPUs (or memory) for throughput.
///
/// A point *p* dominates *q* when `p.cost <= q.cost` and `p.value >= q.value` with at
/// least one strict. Of points that tie exactly on both, only the first (lowest index)
/// is kept, so the front holds no duplicates and is the same for the same input.
///
/// The algorithm is the two-dimensional skyline sweep (Kung, Luccio and Preparata, 1975):
/// sort by cost ascending, value descending, then keep each point whose value beats every
/// cheaper one.
///
/// - Complexity: O(*n* log *n*).
public enum ParetoFront {
    /// One candidate: what it costs and what it yields.
    public struct Point: Hashable, Sendable {
        public var cost: Double
        public var value: Double

        public init(cost: Double, value: Double) {
            self.cost = cost
            self.value = value
        }

        /// Whether `self` is at least as good as `other` on both and strictly better on one.
        public func dominates(_ other: Point) -> Bool {
            cost <= other.cost && value >= other.value && (cost < other.cost || value > other.value)
        }
    }

    /// Indices into `points` of the front, by increasing cost (and so increasing value).
    public static func indices(of points: [Point]) -> [Int] {
        let order = points.indices.sorted { a, b in
            let p = points[a], q = points[b]
            if p.cost != q.cost { return p.cost < q.cost }
            if p.value != q.value { return p.value > q.value }
            return a < b
        }
        var front: [Int] = []
        var best = -Double.infinity
        for index in order where points[index].value > best {
            front.append(index)
            best = points[index].value
        }
        return front
    }
}

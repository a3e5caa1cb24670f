/// The device mesh: named axes laid onto ranks row-major, the last axis innermost, so
/// rank = Σ coordinate[a] × (product of the sizes of the axes after a).
///
/// Collective groups are derived from it: the group of rank *r* over axes *A* is every
/// rank that agrees with *r* on all other axes, ordered by their coordinates on *A*.
public struct Mesh: Hashable, Sendable {
    public var axes: [MeshAxis]
    private let strides: [Int]

    public init(_ axes: [MeshAxis]) {
        self.axes = axes
        var strides = [Int](repeating: 1, count: axes.count)
        for index in stride(from: axes.count - 2, through: 0, by: -1) {
            strides[index] = strides[index + 1] * axes[index + 1].size
        }
        self.strides = strides
    }

    public var rankCount: Int { axes.reduce(1) { $0 * $1.size } }

    public func size(of axis: String) -> Int { axes.first { $0.name == axis }?.size ?? 1 }

    public func size(of group: [String]) -> Int { group.reduce(1) { $0 * size(of: $1) } }

    /// The coordinate of `rank` along `axis` (0 for an axis the mesh lacks).
    public func coordinate(of rank: Int, along axis: String) -> Int {
        guard let index = axes.firstIndex(where: { $0.name == axis }) else { return 0 }
        return (rank / strides[index]) % axes[index].size
    }

    /// The ranks of `rank`'s group over `groupAxes`, in order of their coordinates.
    ///
    /// - Complexity: O(group size × axes).
    public func group(of rank: Int, over groupAxes: [String]) -> [Int] {
        var members = [rank - groupAxes.reduce(0) { base, axis in
            guard let index = axes.firstIndex(where: { $0.name == axis }) else { return base }
            return base + coordinate(of: rank, along: axis) * strides[index]
        }]
        // Expand over the axes in mesh order (outermost first) so order is row-major.
        for (index, axis) in axes.enumerated() where groupAxes.contains(axis.name) {
            members = members.flatMap { base in (0..<axis.size).map { base + $0 * strides[index] } }
        }
        return members
    }

    /// The position of `rank` within its group over `groupAxes`.
    public func index(of rank: Int, inGroupOver groupAxes: [String]) -> Int {
        var index = 0
        for axis in axes where groupAxes.contains(axis.name) {
            index = index * axis.size + coordinate(of: rank, along: axis.name)
        }
        return index
    }

    /// The rank `offset` steps along `axis` from `rank`, wrapping around (a ring).
    public func neighbour(of rank: Int, along axis: String, offset: Int) -> Int {
        guard let index = axes.firstIndex(where: { $0.name == axis }) else { return rank }
        let size = axes[index].size
        let coordinate = (rank / strides[index]) % size
        let moved = ((coordinate + offset) % size + size) % size
        return rank + (moved - coordinate) * strides[index]
    }
}

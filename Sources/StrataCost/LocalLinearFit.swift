import Foundation

/// Locally weighted linear regression (Cleveland 1979, "LOESS"): the value at a query point
/// is the intercept of a plane fitted by weighted least squares to its nearest samples.
///
/// Where a quantity has a trend (attention throughput climbs with sequence length), a
/// weighted *average* of neighbours (inverse-distance weighting) is biased towards the
/// side with more or closer samples, and at the edge of the measured range it cannot
/// follow the trend at all; a local plane follows it. The slopes are shrunk towards zero
/// by a small ridge penalty, so that an axis the neighbours do not span (all at one head
/// size, say) stays flat instead of being fitted to noise.
struct LocalLinearFit {
    /// One sample: coordinates and the value there.
    struct Sample {
        var coordinates: [Double]
        var value: Double
    }

    /// How many nearest samples the plane is fitted to.
    var neighbours: Int
    /// The ridge penalty on the slopes, relative to the total weight of the neighbours.
    var ridge: Double

    /// The fitted value at `query`; a sample at the query itself (distance below 1e-9) is
    /// returned exactly. Neighbours are the nearest by Euclidean distance, ties in
    /// `samples` order, each weighted 1/d².
    ///
    /// - Complexity: O(*p* log *p*) for *p* samples.
    func value(at query: [Double], from samples: [Sample]) -> Double? {
        guard !samples.isEmpty else { return nil }
        let nearest = samples.enumerated().map { index, sample -> (distance: Double, index: Int) in
            let squared = zip(sample.coordinates, query).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            return (squared.squareRoot(), index)
        }.sorted { ($0.distance, $0.index) < ($1.distance, $1.index) }.prefix(neighbours)
        if let exact = nearest.first, exact.distance < 1e-9 { return samples[exact.index].value }
        // Normal equations of the weighted, ridge-penalised fit of value ≈ c + slope·(x − query).
        let size = query.count + 1
        var matrix = [[Double]](repeating: [Double](repeating: 0, count: size), count: size)
        var right = [Double](repeating: 0, count: size)
        var totalWeight = 0.0
        for (distance, index) in nearest {
            let weight = 1 / (distance * distance)
            totalWeight += weight
            let row = [1] + zip(samples[index].coordinates, query).map { $0 - $1 }
            for i in 0..<size {
                right[i] += weight * row[i] * samples[index].value
                for j in 0..<size { matrix[i][j] += weight * row[i] * row[j] }
            }
        }
        for i in 1..<size { matrix[i][i] += ridge * totalWeight }
        return Self.solve(matrix, right)?.first
    }

    /// Gaussian elimination with partial pivoting; nil for a singular system.
    static func solve(_ matrix: [[Double]], _ right: [Double]) -> [Double]? {
        var a = matrix, b = right
        let size = b.count
        for column in 0..<size {
            let pivot = (column..<size).max { abs(a[$0][column]) < abs(a[$1][column]) }!
            guard abs(a[pivot][column]) > 1e-300 else { return nil }
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            for row in (column + 1)..<size {
                let factor = a[row][column] / a[column][column]
                for j in column..<size { a[row][j] -= factor * a[column][j] }
                b[row] -= factor * b[column]
            }
        }
        var x = [Double](repeating: 0, count: size)
        for row in stride(from: size - 1, through: 0, by: -1) {
            let known = ((row + 1)..<size).map { a[row][$0] * x[$0] }.reduce(0, +)
            x[row] = (b[row] - known) / a[row][row]
        }
        return x
    }
}

import Foundation

/// Maps data values to pixel positions along one axis, and says where its ticks go.
public protocol Scale: Sendable {
    /// The data interval the axis shows (after widening to nice ticks).
    var domain: ClosedRange<Double> { get }
    /// Pixel positions of `domain`'s ends: `range.0` for the low end (it may be the larger
    /// number, as on a vertical axis, where y grows downwards).
    var range: (Double, Double) { get }
    /// The pixel position of `value`.
    func position(_ value: Double) -> Double
    /// Values to put ticks at, increasing, all inside `domain`.
    var ticks: [Double] { get }
    /// The label of tick `value`.
    func label(_ value: Double) -> String
}

/// A linear scale whose domain is widened to nice ticks (`NiceTicks`); it starts at zero
/// when asked, as bar lengths and throughputs should, so differences are not exaggerated.
public struct LinearScale: Scale {
    public let domain: ClosedRange<Double>
    public let range: (Double, Double)
    public let ticks: [Double]
    private let format: TickFormat

    /// A scale covering `values` (and 0 when `includingZero`), mapped onto `range`.
    public init(covering values: [Double], range: (Double, Double), includingZero: Bool = true, tickCount: Int = 5,
                format: TickFormat = .plain) {
        let finite = values.filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if includingZero {
            low = min(low, 0)
            high = max(high, 0)
        }
        let ticks = NiceTicks.covering(low, high, count: tickCount)
        self.ticks = ticks
        self.domain = ticks.first!...ticks.last!
        self.range = range
        self.format = format.resolved(step: ticks.count > 1 ? ticks[1] - ticks[0] : 1)
    }

    public func position(_ value: Double) -> Double {
        let span = domain.upperBound - domain.lowerBound
        return range.0 + (value - domain.lowerBound) / span * (range.1 - range.0)
    }

    public func label(_ value: Double) -> String { format.string(value) }
}

/// A logarithmic scale with ticks at the powers of its base (2 for GPU counts, 10 for
/// wide ranges), for quantities that sweeps vary by factors.
public struct LogScale: Scale {
    public let domain: ClosedRange<Double>
    public let range: (Double, Double)
    public let ticks: [Double]
    public let base: Double

    /// A scale covering the positive `values`, widened to powers of `base`.
    public init(covering values: [Double], range: (Double, Double), base: Double = 10) {
        precondition(base > 1, "a log scale's base is above 1")
        let positive = values.filter { $0 > 0 && $0.isFinite }
        let low = positive.min() ?? 1, high = positive.max() ?? base
        var first = (log(low) / log(base) + 1e-9).rounded(.down)
        var last = (log(high) / log(base) - 1e-9).rounded(.up)
        if last <= first {
            first -= 1
            last += 1
        }
        self.base = base
        self.ticks = stride(from: first, through: last, by: 1).map { pow(base, $0).rounded(toPlaces: 9) }
        self.domain = ticks.first!...ticks.last!
        self.range = range
    }

    public func position(_ value: Double) -> Double {
        let low = log(domain.lowerBound), high = log(domain.upperBound)
        let clamped = max(value, domain.lowerBound * 1e-3)
        return range.0 + (log(clamped) - low) / (high - low) * (range.1 - range.0)
    }

    public func label(_ value: Double) -> String {
        TickFormat.plain.resolved(step: value < 1 ? value : 1).string(value)
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (self * scale).rounded() / scale
    }
}

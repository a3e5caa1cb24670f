import Foundation
import StrataCore
import Testing
@testable import StrataCost

/// The measured collective curve a run reads between sizes (`NetworkCalibration.curveSeconds`)
/// and the disturbed sizes it drops first (`withoutDisturbedSizes`).
@Suite struct CollectiveCurveTests {
    typealias Curve = [(logBytes: Double, logSeconds: Double)]

    /// A random increasing curve: sizes doubling from 1 KiB, times growing by random
    /// factors, the way NCCL's measured curves do (flat at first, then nearly doubling).
    static func randomCurve(_ random: inout SplitMix64) -> Curve {
        let count = Int.random(in: 3...20, using: &random)
        var seconds = Double.random(in: 5e-6...20e-6, using: &random)
        return (0..<count).map { index in
            if index > 0 { seconds *= Double.random(in: 1.0...2.2, using: &random) }
            return (log(1024 * pow(2, Double(index))), log(seconds))
        }
    }

    /// Every measured size is reproduced; between sizes the curve is continuous, never
    /// decreasing on increasing data, and stays between the lowest and highest of the three
    /// α–β lines it takes the median of (so within the times of the interval's ends' lines).
    @Test func curveInterpolatesIsContinuousAndIncreasing() {
        for seed in 0..<2_000 {
            var random = SplitMix64(seed: UInt64(seed))
            let curve = Self.randomCurve(&random)
            for point in curve {
                let value = NetworkCalibration.curveSeconds(curve, at: point.logBytes)!
                #expect(abs(value - exp(point.logSeconds)) <= 1e-12 * exp(point.logSeconds), "seed \(seed): a measured size moved")
            }
            var previous = NetworkCalibration.curveSeconds(curve, at: curve[0].logBytes)!
            let (first, last) = (curve.first!.logBytes, curve.last!.logBytes)
            let steps = 4_000
            for step in 1...steps {
                let x = first + (last - first) * Double(step) / Double(steps)
                let value = NetworkCalibration.curveSeconds(curve, at: x)!
                #expect(value >= previous * (1 - 1e-12), "seed \(seed): decreasing at \(exp(x)) bytes")
                // A step of 1/4000 of the range moves a line by at most its slope × the step;
                // a jump well beyond that is a discontinuity.
                #expect(value <= previous * 1.05 + 1e-9, "seed \(seed): jump at \(exp(x)) bytes")
                previous = value
            }
            #expect(NetworkCalibration.curveSeconds(curve, at: first - 0.1) == nil)
            #expect(NetworkCalibration.curveSeconds(curve, at: last + 0.1) == nil)
        }
    }

    /// Where the lines around an interval bend the same way, the curve follows the nearer;
    /// where they disagree, it is the chord: on an exact α–β line every size is the line.
    @Test func curveIsExactOnOneAlphaBetaLine() {
        let latency = 8e-6, bandwidth = 300e9
        let curve: Curve = (0..<12).map { index in
            let bytes = 1024 * pow(4, Double(index))
            return (log(bytes), log(latency + bytes / bandwidth))
        }
        for index in 0..<(curve.count - 1) {
            let bytes = exp((curve[index].logBytes + curve[index + 1].logBytes) / 2)
            let value = NetworkCalibration.curveSeconds(curve, at: log(bytes))!
            #expect(abs(value - (latency + bytes / bandwidth)) < 1e-9 * value)
        }
    }

    /// A size slower than a larger one is dropped; the smallest is kept, lowered; a curve
    /// that only grows comes back as it was.
    @Test func disturbedSizesAreDropped() {
        let times = [9.1, 9.0, 10.0, 14.7, 43.7, 28.5, 38.9, 57.3]
        let curve: Curve = times.enumerated().map { (log(1024 * pow(2, Double($0.offset))), log($0.element * 1e-6)) }
        let kept = NetworkCalibration.withoutDisturbedSizes(curve)
        #expect(kept.map { ($0.logSeconds - log(1e-6)) }.map { (exp($0) * 10).rounded() / 10 } == [9.0, 9.0, 10.0, 14.7, 28.5, 38.9, 57.3])
        #expect(kept.first!.logBytes == curve.first!.logBytes && kept.last!.logBytes == curve.last!.logBytes)
        let increasing = Array(curve.prefix(4).dropFirst())
        #expect(NetworkCalibration.withoutDisturbedSizes(increasing).map(\.logSeconds) == increasing.map(\.logSeconds))
    }

    /// One disturbed size (three times its neighbours' trend, as in the 2-GPU all-to-all's
    /// 2 MiB) does not move the curve at the other sizes or between them by more than the
    /// gap its dropping leaves.
    @Test func oneDisturbedSizeDoesNotBendTheCurve() {
        let latency = 10e-6, bandwidth = 250e9
        let clean: Curve = (0..<16).map { index in
            let bytes = 1024 * pow(2, Double(index))
            return (log(bytes), log(latency + bytes / bandwidth))
        }
        var disturbed = clean
        disturbed[7].logSeconds += log(3)
        let kept = NetworkCalibration.withoutDisturbedSizes(disturbed)
        #expect(kept.count == clean.count - 1)
        for index in clean.indices where index != 7 {
            let x = clean[index].logBytes
            #expect(abs(NetworkCalibration.curveSeconds(kept, at: x)! - exp(clean[index].logSeconds)) < 1e-9 * exp(clean[index].logSeconds))
        }
        // At the dropped size itself the line through its neighbours is the α–β line.
        let atDropped = NetworkCalibration.curveSeconds(kept, at: clean[7].logBytes)!
        #expect(abs(atDropped / exp(clean[7].logSeconds) - 1) < 0.01)
    }
}

import StrataCore
import StrataTopology

/// The roofline model (Williams, Waterman and Patterson 2009): a kernel takes as long as
/// the slower of its arithmetic at the GPU's peak and its memory traffic at the GPU's
/// memory bandwidth.
///
/// This is the first, uncalibrated cost model: it assumes every kernel reaches the
/// datasheet peak, so it predicts a lower bound on time. Measured tables replace it where
/// they exist (docs/cost-model.md).
public enum Roofline {
    /// Seconds `work` takes on `gpu`.
    ///
    /// - Precondition: the GPU has a peak for `work.precision`; the strategy's resolver
    ///   rejects precisions a GPU lacks before anything is priced.
    public static func seconds(for work: Work, on gpu: GPUSpec) -> Double {
        guard let peak = gpu.peak[work.precision] ?? gpu.peak[.fp32] else {
            preconditionFailure("\(gpu.id) has no peak for \(work.precision.rawValue)")
        }
        let compute = work.flops / peak.flopsPerSecond
        let memory = gpu.memoryBandwidth.seconds(toMove: work.bytes)
        return max(compute, memory)
    }
}

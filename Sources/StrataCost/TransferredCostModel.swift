import StrataCore
import StrataModel
import StrataTopology

/// Kernel times for a GPU without tables, from the tables of one that has them
/// (docs/cost-model.md, "GPUs without tables").
///
/// Each kernel is priced on the measured GPU, and the fraction of that GPU's roofline it
/// reached — achieved over peak throughput for a compute-bound product or attention,
/// achieved over peak memory bandwidth for a memory-bound op — is applied to the target
/// GPU's roofline: `time = roofline(target) / (roofline(measured) / measured time)`. The
/// efficiency curves are those of the shape, not of the machine; that is the assumption,
/// and it holds best between GPUs of one architecture family. A memory-bound op's fixed
/// part (`MeasuredCostModel.fixedSeconds`: what it takes however few bytes it moves) does
/// not scale with memory bandwidth and is kept as measured; only the rest scales. On the
/// H200 that took LayerNorm's backward from a 13 % to a 6 % median error
/// (`scripts/validate/transfer_check.py`).
public struct TransferredCostModel: ComputeCostModel {
    /// The model of the measured GPU.
    public let source: MeasuredCostModel
    /// The measured GPU.
    public let measured: GPUSpec
    /// The GPU being priced.
    public let target: GPUSpec

    public init(from tables: MeasuredTables, of measured: GPUSpec, to target: GPUSpec) {
        self.init(from: MeasuredCostModel(tables: tables), of: measured, to: target)
    }

    public init(from source: MeasuredCostModel, of measured: GPUSpec, to target: GPUSpec) {
        self.source = source
        self.measured = measured
        self.target = target
    }

    /// The share of the measured GPU's roofline that `work` reaches there, in (0, 1].
    public func attainment(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> Double {
        attainment(work: work, there: source.seconds(family: family, pass: pass, work: work, gpu: measured, kernel: kernel))
    }

    /// The same for a kernel that takes `there` seconds on the measured GPU.
    private func attainment(work: Work, there: Double) -> Double {
        let ideal = Roofline.seconds(for: work, on: measured)
        guard ideal > 0, there > 0, ideal.isFinite, there.isFinite else { return 1 }
        // Faster than the roofline means the table and the op count work differently; cap.
        return min(1, ideal / there)
    }

    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec, kernel: String?) -> Double {
        let there = source.seconds(family: family, pass: pass, work: work, gpu: measured, kernel: kernel)
        let roofline = Roofline.seconds(for: work, on: gpu)
        let scaled = roofline / attainment(work: work, there: there)
        guard let fixed = source.fixedSeconds(family: family, pass: pass), fixed > 0, there.isFinite, there > 0
        else { return scaled }
        // The fixed part as measured, the rest at the scaled rate; never faster than the
        // target's roofline.
        let kept = min(fixed, there)
        return max(roofline, kept + (there - kept) * scaled / there)
    }

    public func launches(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> Int {
        source.launches(family: family, pass: pass, work: work, kernel: kernel)
    }
}

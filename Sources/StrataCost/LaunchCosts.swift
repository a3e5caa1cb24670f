import Foundation
import StrataCore
import StrataModel

/// What issuing kernels costs: the host's time per launch, and the GPU's floor per kernel.
///
/// A framework's host thread walks the program in order and launches each op's kernels;
/// the GPU runs them as they arrive. When kernels are long the host runs ahead and its
/// cost is hidden; when they are short (or an op is a loop of small kernels, like
/// per-expert products) the GPU waits for the host, and an iteration takes as long as
/// the host needs to issue it. The executor keeps a host clock per GPU for this
/// (docs/cost-model.md, "Launch costs").
///
/// Measured by `scripts/profile/launch.py` (`launch.csv`); without a table, the defaults
/// below, which are that script's medians on an H100 host (PyTorch 2.11 eager).
///
/// An op of a real training step costs the host more than a bare launch: the module call,
/// the views and reshapes around its kernels, autograd nodes that launch nothing, and for
/// a collective the Python call into the process group. `scripts/profile/host.py`
/// (`host.csv`) measures that per op and pass, the way eager PyTorch issues it; where it
/// has a figure, it replaces the per-launch cost (`perOp`).
public struct LaunchCosts: Sendable, Hashable {
    /// Host seconds to issue one forward op recorded by autograd.
    public var forwardOp: Double
    /// Host seconds the autograd engine spends per backward node.
    public var backwardOp: Double
    /// Host seconds to issue one op outside autograd (optimizer, communication calls).
    public var plainOp: Double
    /// The shortest time a kernel occupies the GPU, back to back with the next.
    public var kernelFloor: Double
    /// The GPU's idle time between one kernel's end and the next one's start when the next
    /// is already queued (its front end setting up the launch). A table prices an op between
    /// its own pair of events, gaps inside a composite op included; the gap before each
    /// separately priced kernel is this, charged once per launch. launch.csv's
    /// `gpu_kernel_gap_training` where it has one: the mean gap between a training step's
    /// own queued kernels in profiled iterations (`kernel_gaps.py --launch-row`; 1.57 µs on an
    /// H200, 1.62 on an H100, over 4,000–9,000 gaps of GPT-350M and of LLaMA-1B), which is
    /// wider than `gpu_kernel_gap`, the gap `launch.py` times between a product and an add
    /// queued alternately (0.99 µs on an H200; docs/accuracy.md).
    public var kernelGap: Double
    /// Host seconds per op as eager PyTorch issues it, by `family/pass` (`gemm/fwd`,
    /// `rope/bwd`, `accumulate/bwd`) and per collective call from Python (`all_reduce/fwd`,
    /// `all_reduce/bwd`, `all_gather/call`, …): `host.csv`'s medians. Empty without it.
    public var perOp: [String: Double] = [:] {
        didSet {
            forwardByFamily = [:]
            backwardByFamily = [:]
            for (key, seconds) in perOp {
                let parts = key.split(separator: "/")
                guard parts.count == 2 else { continue }
                if parts[1] == "fwd" { forwardByFamily[String(parts[0])] = seconds }
                if parts[1] == "bwd" { backwardByFamily[String(parts[0])] = seconds }
            }
        }
    }
    /// `perOp` split by pass and keyed by the family's name, so that pricing a task's host
    /// time builds no string.
    private var forwardByFamily: [String: Double] = [:]
    private var backwardByFamily: [String: Double] = [:]
    /// Host seconds per collective call by message size, by `kind/pass` (`host.csv` rows
    /// with `bytes` > 0), since NCCL picks channels and protocol by size. On the shipped H100
    /// table they hardly grow with it: 315–471 µs a forward all-reduce from 2 KiB to 64 MiB. An
    /// all-to-all measured in the runner's EP MoE layer has a row per pass (`all_to_all/fwd`),
    /// which `collectiveHostSeconds` takes before a `call` row.
    public var collectiveCurves: [String: HostCurve] = [:]

    /// Host seconds measured at a few message sizes, interpolated linearly in log bytes and
    /// held flat beyond the ends.
    public struct HostCurve: Sendable, Hashable {
        /// (log bytes, seconds), sorted by size.
        public var logBytes: [Double] = []
        public var seconds: [Double] = []

        /// The seconds at `bytes` (`LogBytesInterpolation`); 0 for an empty curve.
        public func seconds(at bytes: Double) -> Double {
            LogBytesInterpolation.value(at: bytes, count: logBytes.count, logBytes: { logBytes[$0] }, value: { seconds[$0] }) ?? 0
        }
    }

    /// `launch.csv` medians measured on an H100 host, 2026-11-27 (traces/h100-sxm/launch.csv).
    /// The gap is the median of three runs on H100s of 2026-11-28 (05:54–05:58 UTC,
    /// traces/h100-sxm/runs/launch-*-gap*.csv, launch-*-queue.csv).
    public static let defaults = LaunchCosts(forwardOp: 13.56e-6, backwardOp: 16.32e-6, plainOp: 9.49e-6,
                                             kernelFloor: 2.13e-6, kernelGap: 1.20e-6)

    /// Nothing costs anything: for analytic tests that count only kernels and links.
    public static let free = LaunchCosts(forwardOp: 0, backwardOp: 0, plainOp: 0, kernelFloor: 0)

    public init(forwardOp: Double, backwardOp: Double, plainOp: Double, kernelFloor: Double, kernelGap: Double = 0) {
        self.forwardOp = forwardOp
        self.backwardOp = backwardOp
        self.plainOp = plainOp
        self.kernelFloor = kernelFloor
        self.kernelGap = kernelGap
    }

    /// The measured figures of `tables` (`launch.csv`, `host.csv`), each falling back to its
    /// default; either table may be missing.
    public static func fit(_ tables: MeasuredTables) -> LaunchCosts {
        func median(_ metric: String) -> Double? {
            guard let table = tables.tables["launch"] else { return nil }
            return table.rows.first { $0["metric"] == metric }.flatMap { table.number($0, "median_us") }.map { $0 * 1e-6 }
        }
        var costs = LaunchCosts(forwardOp: median("host_op_autograd") ?? defaults.forwardOp,
                                backwardOp: median("host_backward_op") ?? defaults.backwardOp,
                                plainOp: median("host_op") ?? defaults.plainOp,
                                kernelFloor: median("gpu_kernel_floor") ?? defaults.kernelFloor,
                                kernelGap: median("gpu_kernel_gap_training") ?? median("gpu_kernel_gap") ?? defaults.kernelGap)
        if let host = tables.tables["host"] {
            var sized: [String: [(logBytes: Double, seconds: Double)]] = [:]
            for row in host.rows {
                guard let op = row["op"], let pass = row["pass"], let us = host.number(row, "median_us"), us >= 0 else { continue }
                if let bytes = host.number(row, "bytes"), bytes > 0 {
                    sized["\(op)/\(pass)", default: []].append((log(bytes), us * 1e-6))
                } else {
                    costs.perOp["\(op)/\(pass)"] = us * 1e-6
                }
            }
            costs.collectiveCurves = sized.mapValues { points in
                let sorted = points.sorted { $0.logBytes < $1.logBytes }
                return HostCurve(logBytes: sorted.map(\.logBytes), seconds: sorted.map(\.seconds))
            }
        }
        return costs
    }

    /// Host seconds to issue a task of `family` in `pass` that launches `launches` kernels:
    /// the measured op's figure where `host.csv` has one (per launch, for products run as a
    /// loop over experts; half the backward's for one of its two products), else the
    /// per-launch cost of the pass.
    public func hostSeconds(family: OpFamily, pass: KernelPass?, launches: Int) -> Double {
        guard let pass, !perOp.isEmpty else { return hostSeconds(pass: pass, launches: launches) }
        // A grouped product without a grouped kernel runs as a loop of plain products.
        let name = if case .groupedGemm = family, launches > 1 { "gemm" } else { family.name }
        guard let measured = (pass == .forward ? forwardByFamily : backwardByFamily)[name] else {
            return hostSeconds(pass: pass, launches: launches)
        }
        let share = pass == .backwardInput || pass == .backwardWeight ? 0.5 : 1
        let calls = if case .groupedGemm = family, launches > 1 { launches } else { 1 }
        return measured * share * Double(calls)
    }

    /// Host seconds to call a collective of `bytes` from Python (`kind` as NCCL names it:
    /// `all_reduce`, …), in a backward pass or not; one plain op's cost where `host.csv`
    /// has no figure.
    public func collectiveHostSeconds(kind: String, backward: Bool, bytes: Double) -> Double {
        for key in ["\(kind)/\(backward ? "bwd" : "fwd")", "\(kind)/call"] {
            if let curve = collectiveCurves[key] { return curve.seconds(at: bytes) }
            if let measured = perOp[key] { return measured }
        }
        return plainOp
    }

    /// Whether the host table measured FSDP2's hooks (its `fsdp_unit` rows): without them,
    /// FSDP's gathers and scatters cost a plain op each, as before the rows existed.
    public var measuresFSDPHooks: Bool { fsdpUnitForwardSeconds != nil }

    /// Host seconds FSDP2's hooks cost around one unit's forward (`host.csv`'s `fsdp_unit`
    /// row: the runner's LLaMA layer as an FSDP unit, less the same layer without FSDP), the
    /// gather and copy-out they issue included; nil without the row, so that a table
    /// measured before it prices FSDP as it did.
    public var fsdpUnitForwardSeconds: Double? { forwardByFamily["fsdp_unit"] }

    /// The same around one unit's backward; one without its reduce-scatter (`synchronised`
    /// false) takes `fsdp_unit_no_sync` where the table has it.
    public func fsdpUnitBackwardSeconds(synchronised: Bool) -> Double? {
        if !synchronised, let kept = backwardByFamily["fsdp_unit_no_sync"] { return kept }
        return backwardByFamily["fsdp_unit"]
    }

    /// The same costs with every host figure (per launch, per op, per collective call, per
    /// FSDP unit) times `factor`, and the GPU's floor and gap as they are: a host as slow
    /// as the slowest of a job's processes, which collectives wait for (`host_spread.py`
    /// measures how much slower than the median one a machine's slowest process runs;
    /// docs/accuracy.md, "The host's spread between processes").
    public func hostScaled(by factor: Double) -> LaunchCosts {
        var scaled = LaunchCosts(forwardOp: forwardOp * factor, backwardOp: backwardOp * factor, plainOp: plainOp * factor,
                                 kernelFloor: kernelFloor, kernelGap: kernelGap)
        scaled.perOp = perOp.mapValues { $0 * factor }
        scaled.collectiveCurves = collectiveCurves.mapValues { curve in
            HostCurve(logBytes: curve.logBytes, seconds: curve.seconds.map { $0 * factor })
        }
        return scaled
    }

    /// Host seconds to issue `launches` kernels of a task in `pass`.
    public func hostSeconds(pass: KernelPass?, launches: Int) -> Double {
        let perOp = switch pass {
        case .forward?: forwardOp
        case .backward?, .backwardInput?, .backwardWeight?: backwardOp
        case nil: plainOp
        }
        return perOp * Double(launches)
    }
}

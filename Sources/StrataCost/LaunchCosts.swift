import StrataCore

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
public struct LaunchCosts: Sendable, Hashable {
    /// Host seconds to issue one forward op recorded by autograd.
    public var forwardOp: Double
    /// Host seconds the autograd engine spends per backward node.
    public var backwardOp: Double
    /// Host seconds to issue one op outside autograd (optimizer, communication calls).
    public var plainOp: Double
    /// The shortest time a kernel occupies the GPU, back to back with the next.
    public var kernelFloor: Double

    /// `launch.csv` medians measured on an H100 host, 2026-11-27 (traces/h100-sxm/launch.csv).
    public static let defaults = LaunchCosts(forwardOp: 13.56e-6, backwardOp: 16.32e-6, plainOp: 9.49e-6,
                                             kernelFloor: 2.13e-6)

    /// Nothing costs anything: for analytic tests that count only kernels and links.
    public static let free = LaunchCosts(forwardOp: 0, backwardOp: 0, plainOp: 0, kernelFloor: 0)

    public init(forwardOp: Double, backwardOp: Double, plainOp: Double, kernelFloor: Double) {
        self.forwardOp = forwardOp
        self.backwardOp = backwardOp
        self.plainOp = plainOp
        self.kernelFloor = kernelFloor
    }

    /// The measured figures of `tables` (`launch.csv`), each falling back to its default.
    public static func fit(_ tables: MeasuredTables) -> LaunchCosts {
        guard let table = tables.tables["launch"] else { return .defaults }
        func median(_ metric: String) -> Double? {
            table.rows.first { $0["metric"] == metric }.flatMap { table.number($0, "median_us") }.map { $0 * 1e-6 }
        }
        return LaunchCosts(forwardOp: median("host_op_autograd") ?? defaults.forwardOp,
                           backwardOp: median("host_backward_op") ?? defaults.backwardOp,
                           plainOp: median("host_op") ?? defaults.plainOp,
                           kernelFloor: median("gpu_kernel_floor") ?? defaults.kernelFloor)
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

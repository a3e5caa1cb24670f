import Foundation
import StrataCore
import StrataModel
import Testing
@testable import StrataCost

/// The host's price of issuing work (`LaunchCosts` with `host.csv`): the measured op where
/// the table has one, the per-launch cost where it does not, per expert for a looped
/// grouped product, half the backward for one of its two products, and collectives by
/// message size, interpolated in log bytes and held flat beyond the measured sizes.
@Suite struct HostCostTests {
    static let csv = """
        # gpu: NVIDIA H100 80GB HBM3
        op,pass,bytes,median_us,p10_us,p90_us,chain_short,chain_long,samples
        gemm,fwd,0,30,29,31,8,40,15
        gemm,bwd,0,80,78,82,8,40,15
        all_reduce,fwd,2048,100,90,110,8,40,15
        all_reduce,fwd,2097152,40,38,42,8,40,15
        all_gather,call,0,25,24,26,8,40,15
        all_to_all,call,2048,60,58,62,8,40,15
        all_to_all,bwd,2048,300,290,310,8,40,15
        """

    static func costs() throws -> LaunchCosts {
        let table = try MeasuredTables.parse(csv, path: "host.csv")
        return LaunchCosts.fit(MeasuredTables(folder: "test", tables: ["host": table]))
    }

    /// launch.csv's `gpu_kernel_gap` is the GPU's gap before each launch; without the row,
    /// the H100 default.
    @Test func theKernelGapComesFromTheLaunchTable() throws {
        let launch = try MeasuredTables.parse("""
            # gpu: NVIDIA H200
            metric,median_us,p10_us,p90_us,ops_per_sample,samples
            gpu_kernel_gap,0.992188,0.991211,0.992188,400,10
            """, path: "launch.csv")
        #expect(abs(LaunchCosts.fit(MeasuredTables(folder: "test", tables: ["launch": launch])).kernelGap - 0.992188e-6) < 1e-15)
        #expect(try Self.costs().kernelGap == LaunchCosts.defaults.kernelGap)
        // A gap measured between a training step's own kernels comes first.
        let both = try MeasuredTables.parse("""
            # gpu: NVIDIA H200
            metric,median_us,p10_us,p90_us,ops_per_sample,samples
            gpu_kernel_gap,0.992188,0.991211,0.992188,400,10
            gpu_kernel_gap_training,1.5722,1.5602,1.5841,1,2
            """, path: "launch.csv")
        #expect(abs(LaunchCosts.fit(MeasuredTables(folder: "test", tables: ["launch": both])).kernelGap - 1.5722e-6) < 1e-15)
    }

    @Test func measuredOpsReplaceThePerLaunchCost() throws {
        let costs = try Self.costs()
        let gemm = OpFamily.gemm(m: 4096, n: 4096, k: 4096)
        #expect(abs(costs.hostSeconds(family: gemm, pass: .forward, launches: 1) - 30e-6) < 1e-15)
        #expect(abs(costs.hostSeconds(family: gemm, pass: .backward, launches: 1) - 80e-6) < 1e-15)
        // One of the backward's two products: half of it.
        #expect(abs(costs.hostSeconds(family: gemm, pass: .backwardInput, launches: 1) - 40e-6) < 1e-15)
        // A family the table does not have: the launch costs of its pass.
        #expect(costs.hostSeconds(family: .rmsNorm(tokens: 4096, hidden: 4096), pass: .forward, launches: 2) == LaunchCosts.defaults.forwardOp * 2)
        // The optimizer (no pass) is plain ops.
        #expect(costs.hostSeconds(family: .optimizerStep, pass: nil, launches: 3) == LaunchCosts.defaults.plainOp * 3)
        // A grouped product without a grouped kernel loops over experts: a product each.
        let grouped = OpFamily.groupedGemm(tokens: [512, 512, 512], n: 1024, k: 1024)
        #expect(abs(costs.hostSeconds(family: grouped, pass: .forward, launches: 3) - 90e-6) < 1e-15)
    }

    @Test func collectivesArePricedBySize() throws {
        let costs = try Self.costs()
        // Measured sizes exactly, halfway in log bytes, and flat beyond the ends.
        #expect(abs(costs.collectiveHostSeconds(kind: "all_reduce", backward: false, bytes: 2048) - 100e-6) < 1e-15)
        #expect(abs(costs.collectiveHostSeconds(kind: "all_reduce", backward: false, bytes: 65536) - 70e-6) < 1e-12)
        #expect(abs(costs.collectiveHostSeconds(kind: "all_reduce", backward: false, bytes: 1_073_741_824) - 40e-6) < 1e-15)
        #expect(abs(costs.collectiveHostSeconds(kind: "all_reduce", backward: false, bytes: 1) - 100e-6) < 1e-15)
        // No backward row: the forward call is not borrowed; a `call` row or one plain op.
        #expect(costs.collectiveHostSeconds(kind: "all_reduce", backward: true, bytes: 2048) == LaunchCosts.defaults.plainOp)
        #expect(abs(costs.collectiveHostSeconds(kind: "all_gather", backward: true, bytes: 4096) - 25e-6) < 1e-15)
        #expect(costs.collectiveHostSeconds(kind: "reduce_scatter", backward: false, bytes: 4096) == LaunchCosts.defaults.plainOp)
        // A row of the pass (host.py's all-to-all, from the EP MoE layer) before the `call` row.
        #expect(abs(costs.collectiveHostSeconds(kind: "all_to_all", backward: true, bytes: 2048) - 300e-6) < 1e-15)
        #expect(abs(costs.collectiveHostSeconds(kind: "all_to_all", backward: false, bytes: 2048) - 60e-6) < 1e-15)
    }

    /// Without `host.csv` nothing changes: the per-launch costs of the pass.
    @Test func withoutAHostTableTheLaunchCostsStay() {
        let costs = LaunchCosts.defaults
        #expect(costs.hostSeconds(family: .gemm(m: 1, n: 1, k: 1), pass: .backward, launches: 2) == costs.backwardOp * 2)
        #expect(costs.collectiveHostSeconds(kind: "all_reduce", backward: false, bytes: 1_048_576) == costs.plainOp)
    }
}

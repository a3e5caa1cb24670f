import Foundation
import StrataCore
import StrataCost
import StrataModel
import StrataTopology
import Testing
@testable import StrataEngine
@testable import StrataGraph

/// Launch costs, the critical path and the all-reduce tuner against closed-form cases.
@Suite struct LaunchAndPathTests {
    typealias Analytic = ExecutorAnalyticTests

    static let launch = LaunchCosts(forwardOp: 10e-6, backwardOp: 20e-6, plainOp: 5e-6, kernelFloor: 2e-6)

    /// Kernels shorter than the host's launch cost: the host decides, n launches of 10 µs
    /// plus the last kernel (2 µs, its floor).
    @Test func hostBoundKernelsTakeTheHostsTime() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        let n = 50
        let tasks = (0..<n).map { Analytic.compute($0, "tiny \($0)", seconds: 1e-6, after: $0 == 0 ? [] : [$0 - 1]) }
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 1)], programs: [tasks], classOfRank: [0])
        let result = try Executor(graph: graph, cluster: cluster, launch: Self.launch).run()
        #expect(result.iterationTime == SimTime(seconds: 10e-6) * Int64(n) + SimTime(seconds: 2e-6))
        #expect(result.criticalPath.total == result.iterationTime)
        let launchShare = result.criticalPath.shares.first { $0.kind == "launch" }?.time
        #expect(launchShare == SimTime(seconds: 10e-6) * Int64(n) - SimTime(seconds: 2e-6) * Int64(n - 1))
    }

    /// Kernels longer than a launch hide the host after the first launch.
    @Test func longKernelsHideTheHost() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        let tasks = (0..<10).map { Analytic.compute($0, "big \($0)", seconds: 1e-3, after: $0 == 0 ? [] : [$0 - 1]) }
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 1)], programs: [tasks], classOfRank: [0])
        let result = try Executor(graph: graph, cluster: cluster, launch: Self.launch).run()
        #expect(result.iterationTime == SimTime(seconds: 10e-6) + SimTime(seconds: 1e-3) * 10)
        #expect(result.criticalPath.shares.map(\.kind) == ["compute", "launch"])
        #expect(result.criticalPath.steps.count == 10)
    }

    /// The GPU's gap before each launch (`kernelGap`) lengthens every kernel, whether the host
    /// or the GPU sets the pace: long kernels back to back, one gap each.
    @Test func everyLaunchWaitsForTheGPUsGap() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        var launch = Self.launch
        launch.kernelGap = 1.5e-6
        let tasks = (0..<10).map { Analytic.compute($0, "big \($0)", seconds: 1e-3, after: $0 == 0 ? [] : [$0 - 1]) }
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 1)], programs: [tasks], classOfRank: [0])
        let result = try Executor(graph: graph, cluster: cluster, launch: launch).run()
        #expect(result.iterationTime == SimTime(seconds: 10e-6) + (SimTime(seconds: 1e-3) + SimTime(seconds: 1.5e-6)) * 10)
    }

    /// The host's issue time split by pass, worked by hand: three forward kernels (10 µs
    /// each), two backward ones (20 µs each), one optimizer kernel (a plain op, 5 µs) and a
    /// gradient bucket's all-reduce (a hook: one plain op, counted in the backward).
    @Test func hostIssueIsSplitByPassAndSumsToTheLastIssue() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        func kernel(_ id: Int, _ pass: Pass) -> GraphTask {
            var task = Analytic.compute(id, "k\(id)", seconds: 1e-6, after: id == 0 ? [] : [id - 1])
            if case var .compute(k) = task.action { k.pass = pass; task.action = .compute(k) }
            return task
        }
        var tasks = [kernel(0, .forward), kernel(1, .forward), kernel(2, .forward), kernel(3, .backward), kernel(4, .backward)]
        var bucket = Analytic.collective(5, .allReduce, bytes: 1 << 20, axes: ["data"], after: [4])
        if case var .collective(call) = bucket.action { call.isGradient = true; bucket.action = .collective(call) }
        tasks.append(bucket)
        tasks.append(kernel(6, .optimizer))
        tasks[6].dependencies = [5]
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 1)], programs: [tasks], classOfRank: [0])
        let host = try Executor(graph: graph, cluster: cluster, launch: Self.launch).run().ranks[0].host
        #expect(host.forward == SimTime(seconds: 30e-6))
        #expect(host.backward == SimTime(seconds: 45e-6))
        #expect(host.other == SimTime(seconds: 5e-6))
        #expect(host.total == SimTime(seconds: 80e-6))
    }

    /// FSDP2's hooks, worked by hand: a unit's forward (its gather and copy-out issued by
    /// the hooks, then a kernel of 10 µs) and two backwards, one keeping its gradients (no
    /// reduce-scatter) and one reduce-scattering them. With the host table's `fsdp_unit`
    /// rows each pass costs its hook's row and the tasks the hooks issue nothing; without
    /// them the gather and the reduce-scatter cost a plain op (5 µs) each and the copy a
    /// forward launch, as before the rows were measured.
    @Test func fsdpHooksPriceTheUnitsPassAndTheTasksTheyIssue() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        func kernel(_ id: Int, _ pass: Pass, _ hook: HostHook = .none) -> GraphTask {
            var task = Analytic.compute(id, "k\(id)", seconds: 1e-6, after: id == 0 ? [] : [id - 1])
            if case var .compute(k) = task.action { k.pass = pass; task.action = .compute(k) }
            task.hook = hook
            return task
        }
        var gather = Analytic.collective(0, .allGather, bytes: 1 << 20, axes: ["data"], after: [])
        gather.hook = HostHook(startsFSDPUnit: .forward, issuedByFSDP: true)
        var reduceScatter = Analytic.collective(5, .reduceScatter, bytes: 1 << 20, axes: ["data"], after: [4])
        if case var .collective(call) = reduceScatter.action { call.isGradient = true; reduceScatter.action = .collective(call) }
        reduceScatter.hook.issuedByFSDP = true
        let tasks = [gather, kernel(1, .forward, HostHook(issuedByFSDP: true)), kernel(2, .forward),
                     kernel(3, .backward, HostHook(startsFSDPUnit: .backward(synchronised: false))),
                     kernel(4, .backward, HostHook(startsFSDPUnit: .backward(synchronised: true))), reduceScatter]
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 1)], programs: [tasks], classOfRank: [0])
        var measured = Self.launch
        measured.perOp = ["fsdp_unit/fwd": 100e-6, "fsdp_unit/bwd": 300e-6, "fsdp_unit_no_sync/bwd": 200e-6]
        let hooked = try Executor(graph: graph, cluster: cluster, launch: measured).run().ranks[0].host
        #expect(hooked.forward == SimTime(seconds: 110e-6))
        #expect(hooked.backward == SimTime(seconds: 540e-6))
        #expect(hooked.total == SimTime(seconds: 650e-6))
        let plain = try Executor(graph: graph, cluster: cluster, launch: Self.launch).run().ranks[0].host
        #expect(plain.forward == SimTime(seconds: 25e-6))
        #expect(plain.backward == SimTime(seconds: 45e-6))
    }

    /// A collective waits for its slowest member: the path runs through that member's compute.
    @Test func criticalPathFollowsTheLastMemberToArrive() throws {
        let cluster = try Analytic.cluster("ideal-4gpu.xml")
        let programs = [
            [Analytic.compute(0, "short", seconds: 1e-3), Analytic.collective(1, .allReduce, bytes: 1 << 20, axes: ["data"], after: [0])],
            [Analytic.compute(0, "long", seconds: 3e-3), Analytic.collective(1, .allReduce, bytes: 1 << 20, axes: ["data"], after: [0])],
        ]
        let graph = Analytic.graph(mesh: [MeshAxis(name: "data", size: 2)], programs: programs, classOfRank: [0, 1])
        let result = try Executor(graph: graph, cluster: cluster).run()
        let compute = result.criticalPath.shares.first { $0.kind == "compute" }
        #expect(compute?.time == SimTime(seconds: 3e-3))
        #expect(result.criticalPath.total == result.iterationTime)
        #expect(result.criticalPath.steps.count == 2)
    }

    /// Across many nodes a small all-reduce is latency-bound: the tuner picks the tree
    /// (2·log₂ steps instead of 2(n−1)); a large one is bandwidth-bound and keeps the ring.
    @Test func tunerPicksTheTreeForSmallMessagesAcrossManyNodes() throws {
        let cluster = try TopologyLoader.load(path: Analytic.fixtures.appendingPathComponent("../../topologies/dgx-h100-superpod.xml").path)
        // One GPU on each of 64 nodes (local index 0): a data-parallel group under TP 8.
        let group = (0..<64).map { $0 * 8 }
        let small = CollectiveFlows.choose(.auto, kind: .allReduce, group: group, bytes: 64 * 1024, cluster: cluster, calibration: nil)
        let large = CollectiveFlows.choose(.auto, kind: .allReduce, group: group, bytes: 4 * 1_073_741_824, cluster: cluster, calibration: nil)
        #expect(small == .tree)
        #expect(large == .ring)
        #expect(CollectiveFlows.choose(.auto, kind: .allGather, group: group, bytes: 1024, cluster: cluster, calibration: nil) == .ring)
        // Inside one node there is no tree.
        #expect(CollectiveFlows.choose(.tree, kind: .allReduce, group: Array(0..<8), bytes: 1024, cluster: cluster, calibration: nil) == .ring)
    }

    /// NCCL-style channels: a group with 8 GPUs on each of 2 nodes runs 8 rings, each
    /// leaving and entering nodes on one rail (through PXN where the ring wraps onto
    /// another rail), so all 8 NICs carry the same share and no flow changes rail.
    @Test func multiNodeRingsSpreadOverEveryNIC() throws {
        let cluster = try TopologyLoader.load(path: Analytic.fixtures.appendingPathComponent("../../topologies/dgx-h100-superpod.xml").path)
        let rings = CollectiveFlows.rings(Array(0..<16), cluster: cluster)
        #expect(rings.count == 8)
        for ring in rings { #expect(Set(ring) == Set(0..<16)) }
        let call = CollectiveCall(kind: .allReduce, axes: ["data"], bytes: 1 << 30, label: "test")
        let lowered = CollectiveFlows.lower(Array(0..<16).map { (rank: $0, call: call) }, group: Array(0..<16), cluster: cluster)
        var outOfNode: [Int: Double] = [:]
        for flow in lowered.flows where cluster.gpus[flow.source].node != cluster.gpus[flow.destination].node {
            #expect(cluster.gpus[flow.source].localIndex == cluster.gpus[flow.destination].localIndex)
            outOfNode[flow.source, default: 0] += flow.bytes
        }
        #expect(outOfNode.count == 16)
        #expect(Set(outOfNode.values).count == 1)
    }
}

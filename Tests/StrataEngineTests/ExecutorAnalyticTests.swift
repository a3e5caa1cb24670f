import Foundation
import StrataCore
import StrataModel
import StrataTopology
import Testing
@testable import StrataEngine
@testable import StrataGraph
import StrataCost

/// The executor against cases with a closed-form answer, on hand-built execution graphs.
@Suite struct ExecutorAnalyticTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func cluster(_ name: String) throws -> Cluster {
        try TopologyLoader.load(path: fixtures.appendingPathComponent(name).path)
    }

    /// A compute task of `seconds` on the ideal GPU (1 TFLOP/s, memory effectively free).
    static func compute(_ id: Int, _ name: String, seconds: Double, after: [Int] = []) -> GraphTask {
        let work = Work(flops: seconds * 1e12, bytes: 0, precision: .bf16)
        return GraphTask(id: id, name: name, stream: .compute,
                         action: .compute(ComputeKernel(op: name, family: .add, pass: .forward, work: work, modelFLOPs: 0)),
                         dependencies: after, allocates: 0, frees: 0)
    }

    static func collective(_ id: Int, _ kind: CollectiveKind, bytes: Int64, axes: [String], stream: StreamKind = .gradientSync,
                           after: [Int] = []) -> GraphTask {
        GraphTask(id: id, name: kind.rawValue, stream: stream,
                  action: .collective(CollectiveCall(kind: kind, axes: axes, bytes: bytes, bytesPerDestination: nil, label: "test")),
                  dependencies: after, allocates: 0, frees: 0)
    }

    static func graph(mesh: [MeshAxis], programs: [[GraphTask]], classOfRank: [Int]) -> ExecutionGraph {
        let classes = programs.enumerated().map { index, tasks in
            RankClass(label: "class \(index)", members: classOfRank.indices.filter { classOfRank[$0] == index },
                      tasks: tasks, persistentBytes: 0, parameters: 0)
        }
        return ExecutionGraph(mesh: Mesh(mesh), classes: classes, classOfRank: classOfRank, modelFLOPsPerIteration: 0,
                              tokensPerIteration: 1, samplesPerIteration: 1, precision: .bf16)
    }

    @Test func uncontendedRingAllReduceMatchesTheFormula() throws {
        let cluster = try Self.cluster("../../topologies/h100-sxm-4gpu.xml")
        let bytes: Int64 = 256 * 1_048_576
        let graph = Self.graph(mesh: [MeshAxis(name: "data", size: 4)],
                               programs: [[Self.collective(0, .allReduce, bytes: bytes, axes: ["data"])]], classOfRank: [0, 0, 0, 0])
        let result = try Executor(graph: graph, cluster: cluster).run()
        // h100-sxm-4gpu: 18 × 25 GB/s per GPU, 0.35 us per link, two links per hop.
        let (n, bandwidth, alpha) = (4.0, 450e9, 0.7e-6)
        let expected = SimTime(seconds: 2 * (n - 1) * alpha) + SimTime(seconds: 2 * (n - 1) / n * Double(bytes) / bandwidth)
        #expect(result.iterationTime == expected)
    }

    @Test func twoFlowsOnOneLinkShareIt() throws {
        var network = FlowNetwork(linkCapacities: [100, 100, 60])
        network.add(id: 0, links: [(0, 1), (1, 1)], bytes: 1000)
        network.add(id: 1, links: [(0, 1)], bytes: 1000)
        #expect(network.flows[0]!.rate == 50)
        #expect(network.flows[1]!.rate == 50)
        // A third flow bottlenecked elsewhere frees capacity for the others (max-min).
        network.add(id: 2, links: [(1, 1), (2, 1)], bytes: 1000)
        #expect(network.flows[2]!.rate == 50)
        #expect(network.flows[0]!.rate == 50 && network.flows[1]!.rate == 50)
        network.remove(id: 1)
        #expect(network.flows[0]!.rate == 50 && network.flows[2]!.rate == 50)
    }

    /// A kernel is slowed only for the part of it its GPU's collective overlaps, from the
    /// moment the GPU reaches the collective (NCCL's kernel waits for its peers on the SMs)
    /// to its end: rank 0 reaches the all-reduce at once and waits for rank 1 until 3 ms; the
    /// all-reduce then moves 400 MB over 100 GB/s links in 4 ms. Rank 0's 10 ms kernel runs
    /// those 7 ms at half speed (3.5 ms of its work), then its last 6.5 ms alone, ending at
    /// 13.5 ms.
    @Test func aKernelIsSlowedForItsOverlapOnly() throws {
        let cluster = try Self.cluster("ideal-4gpu.xml")
        var network = NetworkCalibration()
        network.computeInterference = InterferenceCurve(points: [.init(size: 10e-3, slowdown: 2)])
        let bytes: Int64 = 400_000_000
        let programs = [
            [Self.compute(0, "kernel", seconds: 10e-3), Self.collective(1, .allReduce, bytes: bytes, axes: ["data"])],
            [Self.compute(0, "late", seconds: 3e-3), Self.collective(1, .allReduce, bytes: bytes, axes: ["data"], after: [0])],
        ]
        let graph = Self.graph(mesh: [MeshAxis(name: "data", size: 2)], programs: programs, classOfRank: [0, 1])
        let result = try Executor(graph: graph, cluster: cluster, recordsTimeline: true, network: network).run()
        #expect(abs(result.iterationTime.seconds - 13.5e-3) < 1e-11, "\(result.iterationTime) \(result.timeline?.spans ?? [])")
        // Rank 1's kernel ran before it reached the all-reduce: nothing slowed it.
        #expect(result.timeline?.spans[1].first { $0.task == 0 }?.end == SimTime(seconds: 3e-3))
        // Without the collective beside it, the kernel takes its 10 ms.
        let alone = Self.graph(mesh: [MeshAxis(name: "data", size: 2)],
                               programs: [[Self.compute(0, "kernel", seconds: 10e-3)], [Self.compute(0, "late", seconds: 3e-3)]],
                               classOfRank: [0, 1])
        #expect(abs(try Executor(graph: alone, cluster: cluster, network: network).run().iterationTime.seconds - 10e-3) < 1e-11)
    }

    @Test func twoTransfersFromOneGPUTakeTwiceAsLong() throws {
        let cluster = try Self.cluster("ideal-4gpu.xml")
        let bytes: Int64 = 1_000_000_000
        func transfer(_ id: Int, send: Bool, tag: String, offset: Int) -> GraphTask {
            let p2p = PointToPoint(axis: "x", offset: offset, bytes: bytes, tag: tag)
            return GraphTask(id: id, name: tag, stream: .pipeline, action: send ? .send(p2p) : .receive(p2p), dependencies: [],
                             allocates: 0, frees: 0)
        }
        // Rank 0 sends one transfer to rank 1 and one to rank 2 at once: its uplink is shared.
        let programs = [
            [transfer(0, send: true, tag: "a", offset: 1), transfer(1, send: true, tag: "b", offset: 2)],
            [transfer(0, send: false, tag: "a", offset: -1)],
            [transfer(0, send: false, tag: "b", offset: -2)],
            [],
        ]
        let graph = Self.graph(mesh: [MeshAxis(name: "x", size: 4)], programs: programs, classOfRank: [0, 1, 2, 3])
        let result = try Executor(graph: graph, cluster: cluster).run()
        #expect(result.iterationTime == SimTime(seconds: 2 * Double(bytes) / 100e9))
    }

    @Test(arguments: [(2, 4), (4, 4), (4, 8), (3, 9)])
    func uniformPipelineBubbleIsPMinusOneOverMPlusPMinusOne(stages p: Int, microBatches m: Int) throws {
        let cluster = try Self.cluster("ideal-4gpu.xml")
        // One unit of forward and two of backward per micro-batch and stage, free transfers.
        let schedule = PipelineScheduler.actions(.oneFOneB, stages: p, microBatches: m, virtualStages: 1)
        var programs: [[GraphTask]] = []
        for stage in 0..<p {
            var tasks: [GraphTask] = []
            var previous: Int?
            for action in schedule[stage] {
                let forward = action.pass == .forward
                var after = previous.map { [$0] } ?? []
                let needs = forward ? stage > 0 : stage < p - 1
                if needs {
                    let tag = "\(forward ? "F" : "B")\(action.microBatch)"
                    let p2p = PointToPoint(axis: "pipe", offset: forward ? -1 : 1, bytes: 0, tag: tag + "@\(stage)")
                    tasks.append(GraphTask(id: tasks.count, name: "receive " + tag, stream: .pipeline, action: .receive(p2p),
                                           dependencies: [], allocates: 0, frees: 0))
                    after.append(tasks.count - 1)
                }
                tasks.append(Self.compute(tasks.count, "\(action)", seconds: forward ? 1e-3 : 2e-3, after: after))
                previous = tasks.count - 1
                let sends = forward ? stage < p - 1 : stage > 0
                if sends {
                    let tag = "\(forward ? "F" : "B")\(action.microBatch)@\(forward ? stage + 1 : stage - 1)"
                    let p2p = PointToPoint(axis: "pipe", offset: forward ? 1 : -1, bytes: 0, tag: tag)
                    tasks.append(GraphTask(id: tasks.count, name: "send " + tag, stream: .pipeline, action: .send(p2p),
                                           dependencies: [previous!], allocates: 0, frees: 0))
                }
            }
            programs.append(tasks)
        }
        let graph = Self.graph(mesh: [MeshAxis(name: "pipe", size: p)], programs: programs, classOfRank: Array(0..<p))
        let result = try Executor(graph: graph, cluster: cluster).run()
        let busy = Double(m) * 3e-3
        #expect(result.iterationTime == SimTime(seconds: Double(m + p - 1) * 3e-3))
        for rank in result.ranks {
            let bubble = 1 - busy / result.iterationTime.seconds
            #expect(abs(bubble - Double(p - 1) / Double(m + p - 1)) < 1e-9, "stage \(rank.gpu)")
        }
    }

    @Test func gradientCommunicationShorterThanTheRestOfBackwardIsHidden() throws {
        let cluster = try Self.cluster("ideal-4gpu.xml")
        // Backward of two layers (10 ms each); the first layer's gradients (100 MB, 3 ms on
        // 100 GB/s links as a ring of 2: 1 × S / B) are reduced while the second computes.
        let program = [
            Self.compute(0, "layer 1 backward", seconds: 10e-3),
            Self.collective(1, .allReduce, bytes: 300_000_000, axes: ["data"], after: [0]),
            Self.compute(2, "layer 0 backward", seconds: 10e-3, after: [0]),
            Self.compute(3, "optimizer", seconds: 1e-3, after: [1, 2]),
        ]
        let graph = Self.graph(mesh: [MeshAxis(name: "data", size: 2)], programs: [program], classOfRank: [0, 0])
        let result = try Executor(graph: graph, cluster: cluster).run()
        #expect(result.iterationTime == SimTime(seconds: 21e-3))
        #expect(result.ranks.allSatisfy { $0.exposedCommunication == .zero })
    }
}

import StrataCore
import StrataCost
import StrataGraph
import StrataTopology

/// Where one GPU's iteration went.
public struct RankBreakdown: Hashable, Sendable {
    public var gpu: Int
    /// Time the compute stream was busy.
    public var compute: SimTime
    /// Time any communication was in flight.
    public var communication: SimTime
    /// Communication time not hidden behind compute: the part that lengthens the iteration.
    public var exposedCommunication: SimTime
    /// Neither computing nor communicating (waiting for other GPUs, or finished early).
    public var idle: SimTime
    /// High-water mark of allocated memory.
    public var peakMemoryBytes: Int64
    public var memoryCapacityBytes: Int64

    public var fitsInMemory: Bool { peakMemoryBytes <= memoryCapacityBytes }
}

/// The outcome of simulating one iteration.
public struct SimulationResult: Hashable, Sendable {
    public var iterationTime: SimTime
    public var ranks: [RankBreakdown]
    /// Events the engine processed, a measure of its work for benchmarks.
    public var events: Int
    /// Bytes each link carried over the iteration, as a fraction of what it could carry.
    public var linkUtilisation: [Double]
    /// Every task's span and every memory change, when the executor was asked to record them.
    public var timeline: Timeline?
}

/// What happened on each GPU, for traces and plots.
public struct Timeline: Hashable, Sendable {
    public struct Span: Hashable, Sendable {
        public var task: Int
        public var start: SimTime
        public var end: SimTime
    }

    /// Per rank, tasks in the order they finished.
    public var spans: [[Span]]
    /// Per rank, (time, allocated bytes) after each change.
    public var memory: [[(time: SimTime, bytes: Int64)]]

    init(ranks: Int) {
        spans = Array(repeating: [], count: ranks)
        memory = Array(repeating: [], count: ranks)
    }

    public static func == (lhs: Timeline, rhs: Timeline) -> Bool {
        lhs.spans == rhs.spans && lhs.memory.map { $0.map(\.time) } == rhs.memory.map { $0.map(\.time) }
            && lhs.memory.map { $0.map(\.bytes) } == rhs.memory.map { $0.map(\.bytes) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(spans)
    }
}

/// A graph the executor cannot finish: a compiler bug, never a user error.
public struct ExecutionError: Error, CustomStringConvertible {
    public var description: String
}

/// Runs an execution graph on a cluster as a discrete-event simulation, every GPU exactly.
///
/// A task starts when every task it depends on has finished and, unless it is a
/// point-to-point transfer, the task before it on its stream has too. A compute task lasts
/// as long as the cost model says. A collective starts when every member of its group has
/// reached it — calls over one group match in program order, like NCCL communicators — and
/// ends for all members together. A send and its receive match by their ranks and tag and
/// complete together. Time is integer picoseconds and ties are broken by insertion order,
/// so a run is deterministic.
public struct Executor {
    public let graph: ExecutionGraph
    public let cluster: Cluster

    /// Whether to keep every task's start and end and every memory change, for a trace.
    public var recordsTimeline = false

    public init(graph: ExecutionGraph, cluster: Cluster, recordsTimeline: Bool = false) {
        self.graph = graph
        self.cluster = cluster
        self.recordsTimeline = recordsTimeline
    }

    /// Per class: who waits for each task, and how many things each task waits for.
    private struct ClassPlan {
        var successors: [[Int32]]
        var waits: [Int32]
    }

    private static func plan(_ program: RankClass) -> ClassPlan {
        var successors = [[Int32]](repeating: [], count: program.tasks.count)
        var waits = [Int32](repeating: 0, count: program.tasks.count)
        var lastOnStream: [StreamKind: Int] = [:]
        for task in program.tasks {
            for dependency in task.dependencies {
                successors[dependency].append(Int32(task.id))
                waits[task.id] += 1
            }
            if !task.stream.isPointToPoint {
                if let previous = lastOnStream[task.stream], !task.dependencies.contains(previous) {
                    successors[previous].append(Int32(task.id))
                    waits[task.id] += 1
                }
                lastOnStream[task.stream] = task.id
            }
        }
        return ClassPlan(successors: successors, waits: waits)
    }

    private struct Instance: Hashable {
        var axes: [String]
        var leader: Int
        var sequence: Int
    }

    private struct TransferKey: Hashable {
        var source: Int
        var destination: Int
        var tag: String
    }

    /// A collective or transfer in flight: the tasks it completes and its flows left.
    private struct Communication {
        var members: [(rank: Int, task: Int)]
        var flows: [CollectiveFlows.Flow]
        var pending: Int
    }

    public func run() throws(ExecutionError) -> SimulationResult {
        let mesh = graph.mesh
        let plans = graph.classes.map(Self.plan)
        var waits = graph.classOfRank.map { plans[$0].waits }
        var memory = graph.classOfRank.map { graph.classes[$0].persistentBytes }
        var peak = memory
        var finished = [Int](repeating: 0, count: graph.rankCount)
        var starts = graph.classOfRank.map { [SimTime](repeating: .zero, count: graph.classes[$0].tasks.count) }
        var computeIntervals = [[(start: SimTime, end: SimTime)]](repeating: [], count: graph.rankCount)
        var communicationIntervals = [[(start: SimTime, end: SimTime)]](repeating: [], count: graph.rankCount)
        var sequences = [[String: Int]](repeating: [:], count: graph.rankCount)
        var arrivals: [Instance: [(rank: Int, task: Int)]] = [:]
        var posted: [TransferKey: (rank: Int, task: Int)] = [:]
        var computeCost: [Int: [Int: SimTime]] = [:]
        var communications: [Int: Communication] = [:]
        var nextCommunication = 0
        var flowOwner: [Int: Int] = [:]
        var nextFlow = 0
        var network = FlowNetwork(linkCapacities: cluster.links.map(\.bandwidth.bytesPerSecond))
        var networkVersion = 0
        var queue = EventQueue()
        var now = SimTime.zero
        var timeline = Timeline(ranks: recordsTimeline ? graph.rankCount : 0)

        func rescheduleNetwork() {
            networkVersion += 1
            if let next = network.nextCompletion(after: now) {
                queue.schedule(.networkCheck(version: networkVersion), at: max(next.time, now))
            }
        }

        func communicate(_ members: [(rank: Int, task: Int)], _ lowered: CollectiveFlows) {
            for member in members { starts[member.rank][member.task] = now }
            let id = nextCommunication
            nextCommunication += 1
            communications[id] = Communication(members: members, flows: lowered.flows, pending: lowered.flows.count)
            queue.schedule(.communicationReady(id: id), at: now + lowered.latency)
        }

        func start(_ rank: Int, _ id: Int) {
            let program = graph.program(of: rank)
            let task = program.tasks[id]
            memory[rank] += task.allocates
            peak[rank] = max(peak[rank], memory[rank])
            starts[rank][id] = now
            if recordsTimeline, task.allocates != 0 { timeline.memory[rank].append((now, memory[rank])) }
            switch task.action {
            case let .compute(kernel):
                let classID = graph.classOfRank[rank]
                let duration = computeCost[classID]?[id] ?? SimTime(seconds: Roofline.seconds(for: kernel.work, on: cluster.gpus[rank].spec))
                computeCost[classID, default: [:]][id] = duration
                queue.schedule(.taskFinished(rank: rank, task: id), at: now + duration)
            case let .collective(call):
                let members = call.axes.isEmpty ? [rank] : mesh.group(of: rank, over: call.axes)
                if members.count <= 1 || call.bytes == 0 {
                    queue.schedule(.taskFinished(rank: rank, task: id), at: now)
                    return
                }
                let groupKey = call.axes.joined(separator: ",")
                let sequence = sequences[rank][groupKey, default: 0]
                sequences[rank][groupKey] = sequence + 1
                let instance = Instance(axes: call.axes, leader: members[0], sequence: sequence)
                arrivals[instance, default: []].append((rank, id))
                guard let arrived = arrivals[instance], arrived.count == members.count else { return }
                arrivals[instance] = nil
                let calls = arrived.map { member -> (rank: Int, call: CollectiveCall) in
                    guard case let .collective(c) = graph.program(of: member.rank).tasks[member.task].action else {
                        preconditionFailure("a collective's member is not a collective")
                    }
                    return (member.rank, c)
                }
                communicate(arrived, CollectiveFlows.lower(calls, group: members, cluster: cluster))
            case let .send(transfer), let .receive(transfer):
                let peer = mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
                let isSend = if case .send = task.action { true } else { false }
                let key = isSend ? TransferKey(source: rank, destination: peer, tag: transfer.tag)
                    : TransferKey(source: peer, destination: rank, tag: transfer.tag)
                guard let other = posted.removeValue(forKey: key) else {
                    posted[key] = (rank, id)
                    return
                }
                communicate([other, (rank, id)], CollectiveFlows.transfer(from: key.source, to: key.destination,
                                                                         bytes: Double(transfer.bytes), cluster: cluster))
            }
        }

        func finish(_ rank: Int, _ task: Int) {
            let program = graph.program(of: rank)
            finished[rank] += 1
            memory[rank] -= program.tasks[task].frees
            let interval = (starts[rank][task], now)
            if recordsTimeline {
                timeline.spans[rank].append(Timeline.Span(task: task, start: interval.0, end: now))
                if program.tasks[task].frees != 0 { timeline.memory[rank].append((now, memory[rank])) }
            }
            switch program.tasks[task].action {
            case .compute: computeIntervals[rank].append(interval)
            default: if interval.0 < interval.1 { communicationIntervals[rank].append(interval) }
            }
            for successor in plans[graph.classOfRank[rank]].successors[task] {
                waits[rank][Int(successor)] -= 1
                if waits[rank][Int(successor)] == 0 { start(rank, Int(successor)) }
            }
        }

        func complete(communication id: Int) {
            guard let done = communications.removeValue(forKey: id) else { return }
            for member in done.members { finish(member.rank, member.task) }
        }

        for rank in 0..<graph.rankCount {
            for (id, count) in waits[rank].enumerated() where count == 0 { start(rank, id) }
        }
        while let event = queue.pop() {
            precondition(event.time >= now, "simulated time went backwards")
            now = event.time
            switch event.kind {
            case let .taskFinished(rank, task):
                finish(rank, task)
            case let .communicationReady(id):
                guard let communication = communications[id] else { continue }
                network.advance(to: now)
                var instant = 0
                for flow in communication.flows {
                    let route = flow.source == flow.destination ? [] : cluster.route(fromGPU: flow.source, toGPU: flow.destination)
                    if route.isEmpty || flow.bytes <= 0 {
                        instant += 1
                        continue
                    }
                    flowOwner[nextFlow] = id
                    network.add(id: nextFlow, links: route.map { ($0.id, 1) }, bytes: flow.bytes)
                    nextFlow += 1
                }
                communications[id]!.pending -= instant
                if communications[id]!.pending == 0 { complete(communication: id) }
                rescheduleNetwork()
            case let .networkCheck(version):
                guard version == networkVersion else { continue }
                network.advance(to: now)
                let done = network.flows.values.filter { $0.remaining <= max(1e-6, $0.rate * 1e-12) }.map(\.id).sorted()
                for flow in done {
                    network.remove(id: flow)
                    let owner = flowOwner.removeValue(forKey: flow)!
                    communications[owner]!.pending -= 1
                    if communications[owner]!.pending == 0 { complete(communication: owner) }
                }
                rescheduleNetwork()
            }
        }

        for rank in 0..<graph.rankCount where finished[rank] != graph.program(of: rank).tasks.count {
            let stuck = graph.program(of: rank).tasks.indices.first { waits[rank][$0] > 0 }.map { graph.program(of: rank).tasks[$0].name } ?? "?"
            throw ExecutionError(description: "GPU \(rank) finished \(finished[rank]) of \(graph.program(of: rank).tasks.count) tasks (first stuck: \(stuck)): the execution graph has a cycle or a communication some member never reaches")
        }

        let ranks = (0..<graph.rankCount).map { rank in
            breakdown(gpu: rank, compute: computeIntervals[rank], communication: communicationIntervals[rank],
                      peak: peak[rank], end: now)
        }
        let utilisation = zip(network.carried, cluster.links).map { carried, link in
            now.picoseconds > 0 ? carried / (link.bandwidth.bytesPerSecond * now.seconds) : 0
        }
        return SimulationResult(iterationTime: now, ranks: ranks, events: queue.processed, linkUtilisation: utilisation,
                                timeline: recordsTimeline ? timeline : nil)
    }

    private func breakdown(gpu: Int, compute: [(start: SimTime, end: SimTime)], communication: [(start: SimTime, end: SimTime)],
                           peak: Int64, end: SimTime) -> RankBreakdown {
        let computeTime = compute.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let communicationUnion = Intervals.union(communication.sorted { $0.start < $1.start })
        let communicationTime = communicationUnion.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let hidden = Intervals.overlap(communicationUnion, Intervals.union(compute.sorted { $0.start < $1.start }))
        let exposed = communicationTime - hidden
        return RankBreakdown(
            gpu: gpu, compute: computeTime, communication: communicationTime, exposedCommunication: exposed,
            idle: end - computeTime - exposed, peakMemoryBytes: peak,
            memoryCapacityBytes: cluster.gpus[gpu].spec.memoryCapacity.bytes)
    }
}

/// Arithmetic on sorted lists of half-open time intervals.
enum Intervals {
    typealias Interval = (start: SimTime, end: SimTime)

    /// Merges intervals sorted by start into disjoint ones.
    static func union(_ sorted: [Interval]) -> [Interval] {
        var merged: [Interval] = []
        for interval in sorted {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }

    /// Total length of the intersection of two lists of disjoint sorted intervals.
    ///
    /// - Complexity: O(*a* + *b*).
    static func overlap(_ a: [Interval], _ b: [Interval]) -> SimTime {
        var i = 0, j = 0, total = SimTime.zero
        while i < a.count, j < b.count {
            let start = max(a[i].start, b[j].start), end = min(a[i].end, b[j].end)
            if start < end { total += end - start }
            if a[i].end < b[j].end { i += 1 } else { j += 1 }
        }
        return total
    }
}

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

    public init(graph: ExecutionGraph, cluster: Cluster) {
        self.graph = graph
        self.cluster = cluster
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
        var groups: [String: [Int]] = [:]
        var computeCost: [Int: [Int: SimTime]] = [:]
        var queue = EventQueue()
        var now = SimTime.zero

        func group(of rank: Int, over axes: [String]) -> [Int] {
            let key = axes.joined(separator: ",") + "@" + String(mesh.group(of: rank, over: axes)[0])
            if let cached = groups[key] { return cached }
            let members = mesh.group(of: rank, over: axes)
            groups[key] = members
            return members
        }

        func start(_ rank: Int, _ id: Int) {
            let program = graph.program(of: rank)
            let task = program.tasks[id]
            memory[rank] += task.allocates
            peak[rank] = max(peak[rank], memory[rank])
            starts[rank][id] = now
            switch task.action {
            case let .compute(kernel):
                let classID = graph.classOfRank[rank]
                let duration = computeCost[classID]?[id] ?? SimTime(seconds: Roofline.seconds(for: kernel.work, on: cluster.gpus[rank].spec))
                computeCost[classID, default: [:]][id] = duration
                queue.schedule(rank: rank, task: id, at: now + duration)
            case let .collective(call):
                let members = call.axes.isEmpty ? [rank] : group(of: rank, over: call.axes)
                if members.count <= 1 || call.bytes == 0 {
                    queue.schedule(rank: rank, task: id, at: now)
                    return
                }
                let groupKey = call.axes.joined(separator: ",")
                let sequence = sequences[rank][groupKey, default: 0]
                sequences[rank][groupKey] = sequence + 1
                let instance = Instance(axes: call.axes, leader: members[0], sequence: sequence)
                arrivals[instance, default: []].append((rank, id))
                if arrivals[instance]!.count == members.count {
                    let calls = arrivals[instance]!.map { member -> CollectiveCall in
                        guard case let .collective(c) = graph.program(of: member.rank).tasks[member.task].action else { fatalError() }
                        return c
                    }
                    let duration = SimTime(seconds: Self.price(calls, members: members, ranks: arrivals[instance]!.map(\.rank), cluster: cluster))
                    for member in arrivals[instance]! {
                        starts[member.rank][member.task] = now
                        queue.schedule(rank: member.rank, task: member.task, at: now + duration)
                    }
                    arrivals[instance] = nil
                }
            case let .send(transfer), let .receive(transfer):
                let peer = mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
                let isSend = if case .send = task.action { true } else { false }
                let key = isSend ? TransferKey(source: rank, destination: peer, tag: transfer.tag)
                    : TransferKey(source: peer, destination: rank, tag: transfer.tag)
                guard let other = posted.removeValue(forKey: key) else {
                    posted[key] = (rank, id)
                    return
                }
                let route = cluster.route(fromGPU: key.source, toGPU: key.destination)
                let seconds = route.reduce(0) { $0 + $1.latency.seconds }
                    + Double(transfer.bytes) / (route.map(\.bandwidth.bytesPerSecond).min() ?? .infinity)
                let end = now + SimTime(seconds: seconds)
                starts[other.rank][other.task] = now
                starts[rank][id] = now
                queue.schedule(rank: other.rank, task: other.task, at: end)
                queue.schedule(rank: rank, task: id, at: end)
            }
        }

        for rank in 0..<graph.rankCount {
            for (id, count) in waits[rank].enumerated() where count == 0 { start(rank, id) }
        }
        while let event = queue.pop() {
            precondition(event.time >= now, "simulated time went backwards")
            now = event.time
            let rank = event.rank
            let program = graph.program(of: rank)
            let task = program.tasks[event.task]
            finished[rank] += 1
            memory[rank] -= task.frees
            let interval = (starts[rank][event.task], now)
            switch task.action {
            case .compute: computeIntervals[rank].append(interval)
            default: if interval.0 < interval.1 { communicationIntervals[rank].append(interval) }
            }
            for successor in plans[graph.classOfRank[rank]].successors[event.task] {
                waits[rank][Int(successor)] -= 1
                if waits[rank][Int(successor)] == 0 { start(rank, Int(successor)) }
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
        return SimulationResult(iterationTime: now, ranks: ranks, events: queue.processed)
    }

    /// Seconds a collective takes, from the members' calls (in arrival order, `ranks`).
    ///
    /// Ring algorithms over the group in rank order (Patarasuk and Yuan 2009): an
    /// all-reduce is 2(n−1) steps of S/n bytes, an all-gather or reduce-scatter n−1 steps.
    /// An all-to-all sends each member's blocks one after another over each route's
    /// bottleneck; the slowest member sets the time.
    static func price(_ calls: [CollectiveCall], members: [Int], ranks: [Int], cluster: Cluster) -> Double {
        let call = calls[0]
        let n = Double(members.count)
        switch call.kind {
        case .allReduce:
            return RingCollective(ring: members, cluster: cluster).allReduceSeconds(bytes: Double(call.bytes))
        case .allGather, .reduceScatter:
            return (n - 1) * RingCollective(ring: members, cluster: cluster).stepSeconds(chunkBytes: Double(call.bytes) / n)
        case .allToAll:
            var slowest = 0.0
            for (member, source) in zip(calls, ranks) {
                let perDestination = member.bytesPerDestination ?? Array(repeating: member.bytes / Int64(members.count), count: members.count)
                var seconds = 0.0, latency = 0.0
                for (index, destination) in members.enumerated() where destination != source {
                    let route = cluster.route(fromGPU: source, toGPU: destination)
                    latency = max(latency, route.reduce(0) { $0 + $1.latency.seconds })
                    seconds += Double(perDestination[index]) / (route.map(\.bandwidth.bytesPerSecond).min() ?? .infinity)
                }
                slowest = max(slowest, latency + seconds)
            }
            return slowest
        }
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

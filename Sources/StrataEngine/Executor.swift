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

/// Runs an execution graph on a cluster as a discrete-event simulation.
///
/// Each GPU has one stream per `StreamKind`; a stream runs its tasks in order, and a task
/// starts once the task before it on its stream and all its dependencies have finished. A
/// compute task lasts as long as the cost model says. A collective starts when every member
/// GPU has reached it and ends for all of them together. Time is integer picoseconds and
/// ties are broken by insertion order, so a run is deterministic.
public struct Executor {
    public let graph: ExecutionGraph
    public let cluster: Cluster

    public init(graph: ExecutionGraph, cluster: Cluster) {
        self.graph = graph
        self.cluster = cluster
    }

    private struct RankState {
        var queues: [StreamKind: [Int]] = [:]
        var heads: [StreamKind: Int] = [:]
        var busy: Set<StreamKind> = []
        var done: [Bool]
        var memory: Int64
        var peakMemory: Int64
        var intervals: [StreamKind: [(start: SimTime, end: SimTime)]] = [:]
        var finished = 0
    }

    public func run() throws(ExecutionError) -> SimulationResult {
        var states = graph.ranks.map { program in
            var state = RankState(done: Array(repeating: false, count: program.tasks.count),
                                  memory: program.persistentBytes, peakMemory: program.persistentBytes)
            for task in program.tasks { state.queues[task.stream, default: []].append(task.id) }
            return state
        }
        let collectiveSeconds = graph.collectives.map(price)
        var arrivals = Array(repeating: [(rank: Int, task: Int)](), count: graph.collectives.count)
        var starts: [Int: [Int: SimTime]] = [:]  // rank → task → start time
        var queue = EventQueue()
        var now = SimTime.zero

        func tryStart(_ rank: Int) {
            let program = graph.ranks[rank]
            for stream in StreamKind.allCases {
                guard !states[rank].busy.contains(stream), let queueOfStream = states[rank].queues[stream] else { continue }
                let head = states[rank].heads[stream, default: 0]
                guard head < queueOfStream.count else { continue }
                let task = program.tasks[queueOfStream[head]]
                guard task.dependencies.allSatisfy({ states[rank].done[$0] }) else { continue }
                states[rank].busy.insert(stream)
                states[rank].memory += task.allocates
                states[rank].peakMemory = max(states[rank].peakMemory, states[rank].memory)
                switch task.action {
                case let .compute(work):
                    let duration = SimTime(seconds: Roofline.seconds(for: work, on: cluster.gpus[program.gpu].spec))
                    starts[rank, default: [:]][task.id] = now
                    queue.schedule(rank: rank, task: task.id, at: now + duration)
                case let .collective(id):
                    arrivals[id].append((rank, task.id))
                    if arrivals[id].count == graph.collectives[id].group.count {
                        let duration = SimTime(seconds: collectiveSeconds[id])
                        for member in arrivals[id] {
                            starts[member.rank, default: [:]][member.task] = now
                            queue.schedule(rank: member.rank, task: member.task, at: now + duration)
                        }
                    }
                }
            }
        }

        for rank in graph.ranks.indices { tryStart(rank) }
        while let event = queue.pop() {
            precondition(event.time >= now, "simulated time went backwards")
            now = event.time
            let task = graph.ranks[event.rank].tasks[event.task]
            states[event.rank].done[task.id] = true
            states[event.rank].finished += 1
            states[event.rank].busy.remove(task.stream)
            states[event.rank].heads[task.stream, default: 0] += 1
            states[event.rank].memory -= task.frees
            states[event.rank].intervals[task.stream, default: []].append((starts[event.rank]![task.id]!, now))
            tryStart(event.rank)
        }

        for (rank, state) in states.enumerated() where state.finished != graph.ranks[rank].tasks.count {
            throw ExecutionError(description: "GPU \(graph.ranks[rank].gpu) finished \(state.finished) of \(graph.ranks[rank].tasks.count) tasks: the execution graph has a cycle or a collective some member never reaches")
        }

        let ranks = states.enumerated().map { rank, state in
            breakdown(gpu: graph.ranks[rank].gpu, state: state, end: now)
        }
        return SimulationResult(iterationTime: now, ranks: ranks, events: queue.processed)
    }

    private func price(_ collective: Collective) -> Double {
        switch collective.kind {
        case .allReduce:
            RingCollective(ring: collective.group, cluster: cluster).allReduceSeconds(bytes: Double(collective.bytes))
        }
    }

    private func breakdown(gpu: Int, state: RankState, end: SimTime) -> RankBreakdown {
        let compute = state.intervals[.compute] ?? []
        let communication = StreamKind.allCases.filter { $0 != .compute }
            .flatMap { state.intervals[$0] ?? [] }
            .sorted { $0.start < $1.start }
        let computeTime = compute.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let communicationUnion = Intervals.union(communication)
        let communicationTime = communicationUnion.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let hidden = Intervals.overlap(communicationUnion, compute)
        let exposed = communicationTime - hidden
        return RankBreakdown(
            gpu: gpu, compute: computeTime, communication: communicationTime, exposedCommunication: exposed,
            idle: end - computeTime - exposed, peakMemoryBytes: state.peakMemory,
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

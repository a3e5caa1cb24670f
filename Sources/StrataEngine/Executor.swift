import StrataCore
import StrataCost
import StrataGraph
import StrataModel
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
    /// Exposed communication of each kind (by stream), each on its own.
    public var exposedByKind: [StreamKind: SimTime] = [:]
    /// Idle time of a GPU in a pipeline: its share of the bubble.
    public var pipelineBubble: SimTime = .zero
    /// What the host spends issuing this GPU's iteration, by where the runner's clock would
    /// put it: comparable with a runner's own host timings (`run.py`'s `host_forward_s`,
    /// `host_backward_s`), which is where a host-paced prediction is checked.
    public var host = HostIssue()

    public var fitsInMemory: Bool { peakMemoryBytes <= memoryCapacityBytes }
}

/// The host's seconds to issue one GPU's iteration, free-running (not held back by a full
/// launch queue, which Strata does not model).
public struct HostIssue: Hashable, Sendable {
    /// Forward passes' kernels and the collectives called inside them.
    public var forward: SimTime = .zero
    /// Backward passes' kernels (recomputation and gradient accumulation included) and the
    /// collectives called or hooked inside them.
    public var backward: SimTime = .zero
    /// The optimizer step, the gradients' zeroing, and pipeline transfers.
    public var other: SimTime = .zero

    public var total: SimTime { forward + backward + other }

    public init(forward: SimTime = .zero, backward: SimTime = .zero, other: SimTime = .zero) {
        (self.forward, self.backward, self.other) = (forward, backward, other)
    }
}

/// The outcome of simulating one iteration.
public struct SimulationResult: Hashable, Sendable {
    public var iterationTime: SimTime
    public var ranks: [RankBreakdown]
    /// Events the engine processed, a measure of its work for benchmarks.
    public var events: Int
    /// Bytes each link carried over the iteration, as a fraction of what it could carry.
    public var linkUtilisation: [Double]
    /// Every task's span and every memory change, when the executor was asked to record them
    /// (indexed like `simulatedRanks`).
    public var timeline: Timeline?
    /// The ranks actually simulated: all of them, or one per class when folded.
    public var simulatedRanks: [Int] = []
    /// Every FLOP executed over all GPUs, recomputation included: the numerator of HFU.
    public var hardwareFLOPs: Double = 0
    /// The chain of tasks that decided the iteration's length, by kind.
    public var criticalPath = CriticalPath()
    /// All-reduces run as rings and as trees (the tuner's or the strategy's choice).
    public var allReduceAlgorithms: [CollectiveAlgorithm: Int] = [:]
    /// Kernels priced outside the measured tables: each reason (the shape and the measured
    /// range) with how many tasks of the simulated programs it priced.
    public var extrapolated: [String: Int] = [:]
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

/// Runs an execution graph on a cluster as a discrete-event simulation.
///
/// A task starts when every task it depends on has finished and, unless it is a
/// point-to-point transfer, the task before it on its stream has too. A compute task lasts
/// as long as the cost model says. A collective starts when every member of its group has
/// reached it — calls over one group match in program order, like NCCL communicators — and
/// its flows then share the network's links (`FlowNetwork`); it ends for all members
/// together. A send and its receive match by their ranks and tag. Time is integer
/// picoseconds and ties are broken by insertion order, so a run is deterministic.
///
/// Folded (the default) simulates one GPU per `RankClass`: the class's members do the same
/// work at the same times, so one stands for all, and each simulated flow shares every
/// link it crosses as one of the many identical flows its class's groups put there.
/// Exact simulates every GPU.
///
/// `run` plans and prices each class's tasks (on all cores), runs the event loop
/// (`Simulation`), and turns its state into the result.
public struct Executor {
    public let graph: ExecutionGraph
    public let cluster: Cluster

    /// Whether to keep every task's start and end and every memory change, for a trace.
    public var recordsTimeline = false
    /// Simulate every GPU instead of one per class.
    public var exact = false
    /// Prices compute kernels: the roofline, or measured tables.
    public var costs: any ComputeCostModel
    /// Measured shortfalls of the network's links, if any.
    public var network: NetworkCalibration?
    /// What launching kernels costs the host and the GPU; free by default, so analytic
    /// cases count only kernels and links.
    public var launch: LaunchCosts
    /// How all-reduces run: as the strategy says, or as NCCL's tuner would choose.
    public var collectiveAlgorithm: CollectiveAlgorithm

    public init(graph: ExecutionGraph, cluster: Cluster, recordsTimeline: Bool = false, exact: Bool = false,
                costs: any ComputeCostModel = RooflineCostModel(), network: NetworkCalibration? = nil,
                launch: LaunchCosts = .free, collectiveAlgorithm: CollectiveAlgorithm = .auto) {
        self.graph = graph
        self.cluster = cluster
        self.recordsTimeline = recordsTimeline
        self.exact = exact
        self.costs = costs
        self.network = network
        self.launch = launch
        self.collectiveAlgorithm = collectiveAlgorithm
    }

    /// The pass a cost model prices for a task's pass.
    static func kernelPass(_ pass: Pass) -> KernelPass {
        switch pass {
        case .forward, .recompute, .optimizer: .forward
        case .backward: .backward
        case .backwardInput: .backwardInput
        case .backwardWeight: .backwardWeight
        }
    }

    /// Per class: who waits for each task (task *t*'s successors are
    /// `successorList[successorStart[t]..<successorStart[t + 1]]`, compressed rows rather
    /// than an array per task), and how many things each task waits for.
    struct ClassPlan {
        var successorStart: [Int]
        var successorList: [Int32]
        var waits: [Int32]
    }

    /// Each task waits for its dependencies and, unless it is point-to-point, for the task
    /// before it on its stream. Successors are listed in the order this walk meets them,
    /// which is the order the event loop starts them in.
    static func plan(_ program: RankClass) -> ClassPlan {
        let tasks = program.tasks
        var waits = [Int32](repeating: 0, count: tasks.count)
        var successorStart = [Int](repeating: 0, count: tasks.count + 1)
        // Pass 1: every edge (what is waited for, who waits) in the order of the walk, and
        // how many successors each task has.
        var edges: [(from: Int32, to: Int32)] = []
        edges.reserveCapacity(tasks.count * 2)
        var lastOnStream = [Int](repeating: -1, count: StreamKind.allCases.count)
        for index in tasks.indices {
            let id = tasks[index].id
            for dependency in tasks[index].dependencies {
                successorStart[dependency + 1] += 1
                waits[id] += 1
                edges.append((Int32(dependency), Int32(id)))
            }
            let stream = tasks[index].stream
            if !stream.isPointToPoint {
                let previous = lastOnStream[stream.slot]
                if previous >= 0, !tasks[index].dependencies.contains(previous) {
                    successorStart[previous + 1] += 1
                    waits[id] += 1
                    edges.append((Int32(previous), Int32(id)))
                }
                lastOnStream[stream.slot] = id
            }
        }
        for index in tasks.indices { successorStart[index + 1] += successorStart[index] }
        // Pass 2: fill the rows from the compact edge list, in the same order.
        var successorList = [Int32](repeating: 0, count: successorStart[tasks.count])
        var fill = successorStart
        for (from, to) in edges {
            successorList[fill[Int(from)]] = to
            fill[Int(from)] += 1
        }
        return ClassPlan(successorStart: successorStart, successorList: successorList, waits: waits)
    }

    /// One class's tasks as flat arrays: what the event loop reads.
    struct ClassFacts {
        var plan: ClassPlan
        var allocates: [Int64] = [], frees: [Int64] = [], stream: [StreamKind] = []
        var isCompute: [Bool] = [], flops: [Double] = [], duration: [SimTime] = []
        /// When the host has issued each task: it walks the program in order, paying each
        /// task's launches (`LaunchCosts`); a task starts no earlier.
        var issued: [SimTime] = []
        /// Tasks priced outside the measured tables, by the reason.
        var extrapolated: [String: Int] = [:]
        /// The host's seconds by pass (`HostIssue`), summed as `issued` is.
        var host = (forward: 0.0, backward: 0.0, other: 0.0)
    }

    private static func facts(of program: RankClass, gpu spec: GPUSpec, costs: any ComputeCostModel,
                              launch: LaunchCosts) -> ClassFacts {
        var facts = ClassFacts(plan: plan(program))
        // Per class, so every key is priced on this class's GPU.
        var priced: [PriceKey: (duration: SimTime, launches: Int, host: Double, outOfRange: String?)] = [:]
        let kernelFloor = SimTime(seconds: launch.kernelFloor), kernelGap = SimTime(seconds: launch.kernelGap)
        /// A kernel's time (at least its launches' floor, and the GPU's gap before each
        /// launch), its launches and the host's seconds
        /// to issue it (`LaunchCosts.hostSeconds(family:pass:launches:)`), priced once per key;
        /// a reason its price is extrapolated is counted once per task it prices.
        func price(_ key: PriceKey) -> (duration: SimTime, launches: Int, host: Double) {
            let price = priced[key] ?? {
                let launches = costs.launches(family: key.family, pass: key.pass, work: key.work, kernel: key.kernel)
                let seconds = costs.seconds(family: key.family, pass: key.pass, work: key.work, gpu: spec, kernel: key.kernel)
                let outOfRange = costs.outOfRange(family: key.family, pass: key.pass, work: key.work, kernel: key.kernel)
                let host = launch.hostSeconds(family: key.family, pass: key.pass, launches: launches)
                return (max(SimTime(seconds: seconds), kernelFloor * Int64(launches)) + kernelGap * Int64(launches),
                        launches, host, outOfRange)
            }()
            priced[key] = price
            if let reason = price.outOfRange { facts.extrapolated[reason, default: 0] += 1 }
            return (price.duration, price.launches, price.host)
        }
        var host = 0.0
        var calls: [CallKey: Double] = [:]
        let tasks = program.tasks
        // FSDP2's hooks, where the host table measured them (`HostHook`).
        let fsdpHooks = launch.measuresFSDPHooks
        // Fields are read through the array, not by copying each task, whose strings and
        // arrays would be retained and released.
        for index in tasks.indices {
            if fsdpHooks, let unit = tasks[index].hook.startsFSDPUnit {
                switch unit {
                case .forward:
                    let seconds = launch.fsdpUnitForwardSeconds ?? 0
                    host += seconds
                    facts.host.forward += seconds
                case let .backward(synchronised):
                    let seconds = launch.fsdpUnitBackwardSeconds(synchronised: synchronised) ?? 0
                    host += seconds
                    facts.host.backward += seconds
                }
            }
            let hostBefore = host
            // Where the host's cost of this task goes in HostIssue.
            var spentIn = HostPhase.other
            facts.allocates.append(tasks[index].allocates)
            facts.frees.append(tasks[index].frees)
            facts.stream.append(tasks[index].stream)
            if case let .compute(kernel) = tasks[index].action {
                let key = PriceKey(family: kernel.family, pass: kernelPass(kernel.pass), work: kernel.work, kernel: kernel.kernel)
                spentIn = HostPhase(kernel.pass)
                var (duration, launches, issue) = price(key)
                var flops = kernel.work.flops
                // The optimizer's kernels are plain ops, outside autograd.
                host += kernel.pass == .optimizer ? launch.hostSeconds(pass: nil, launches: launches) : issue
                // Kernels launched after the product, each at its own price. The bias
                // reduction runs inside the product's autograd node (no host of its own); the
                // gradient's accumulation is a node of its own.
                kernel.forEachTail { family, work in
                    let tail = price(PriceKey(family: family, pass: .backward, work: work, kernel: kernel.kernel))
                    duration += tail.duration
                    flops += work.flops
                    if family == .gradientAccumulation { host += tail.host }
                }
                facts.isCompute.append(true)
                facts.flops.append(flops)
                facts.duration.append(duration)
            } else {
                facts.isCompute.append(false)
                facts.flops.append(0)
                facts.duration.append(.zero)
                // The stream first: decoding the action copies the call's label and arrays.
                if tasks[index].stream == .tensorParallel || tasks[index].stream == .expertParallel,
                   case let .collective(call) = tasks[index].action {
                    // Collectives called from Python inside the layers: the measured call, by
                    // kind, pass and size (memoised: a program repeats a few of them).
                    let callKey = CallKey(kind: call.kind, backward: call.isGradient, bytes: call.bytes)
                    spentIn = call.isGradient ? .backward : .forward
                    let seconds = calls[callKey] ?? launch.collectiveHostSeconds(kind: call.kind.rawValue, backward: callKey.backward,
                                                                                  bytes: Double(call.bytes))
                    calls[callKey] = seconds
                    host += seconds
                } else {
                    // Gradient buckets (DDP's C++ reducer), parameter gathers and
                    // point-to-point transfers: one plain op, a transfer's counted as other.
                    host += launch.hostSeconds(pass: nil, launches: 1)
                    if case let .collective(call) = tasks[index].action {
                        spentIn = call.isGradient ? .backward : .forward
                    }
                }
            }
            // A task FSDP2's hooks issue is priced in them.
            if fsdpHooks, tasks[index].hook.issuedByFSDP { host = hostBefore }
            facts.issued.append(SimTime(seconds: host))
            switch spentIn {
            case .forward: facts.host.forward += host - hostBefore
            case .backward: facts.host.backward += host - hostBefore
            case .other: facts.host.other += host - hostBefore
            }
        }
        return facts
    }

    /// Which part of `HostIssue` a task's host cost counts in.
    private enum HostPhase {
        case forward, backward, other

        /// The optimizer's pass holds the step and the gradients' zeroing.
        init(_ pass: Pass) {
            switch pass {
            case .forward: self = .forward
            case .backward, .backwardInput, .backwardWeight, .recompute: self = .backward
            case .optimizer: self = .other
            }
        }
    }

    /// A collective call's host price depends on these alone.
    private struct CallKey: Hashable {
        var kind: CollectiveKind
        var backward: Bool
        var bytes: Int64
    }

    /// What a kernel's time depends on (on one class's GPU).
    private struct PriceKey: Hashable {
        var family: OpFamily
        var pass: KernelPass
        var work: Work
        var kernel: String?

        /// The work's FLOPs and bytes and the pass only: they tell kernels apart almost
        /// always, and hashing the family (a grouped product's token counts) and the
        /// kernel's name for every task of every program was a measurable share of a
        /// sweep. Equal keys still compare every field.
        func hash(into hasher: inout Hasher) {
            hasher.combine(work.flops.bitPattern ^ (work.bytes.bitPattern &* 31))
            hasher.combine(pass)
        }
    }

    public func run() throws(ExecutionError) -> SimulationResult {
        // Flat per-task facts of every class, planned and priced on all cores; each class
        // lands in its own slot.
        let facts = ConcurrentMap.map(Array(graph.classes.indices)) { classID in
            Self.facts(of: graph.classes[classID], gpu: cluster.gpus[graph.classes[classID].members[0]].spec,
                       costs: costs, launch: launch)
        }
        var simulation = Simulation(executor: self, facts: facts)
        simulation.run()
        let simulated = simulation.simulated
        let now = simulation.now

        for sim in simulated.indices where simulation.finished[sim] != graph.program(of: simulated[sim]).tasks.count {
            let program = graph.program(of: simulated[sim])
            let stuck = program.tasks.indices.first { simulation.waits[simulation.simBase[sim] + $0] > 0 }
                .map { program.tasks[$0].name } ?? "?"
            throw ExecutionError(description: "GPU \(simulated[sim]) finished \(simulation.finished[sim]) of \(program.tasks.count) tasks (first stuck: \(stuck)): the execution graph has a cycle or a communication some member never reaches")
        }

        // A pipelined GPU's idle time is its share of the pipeline's bubble.
        let pipelined = graph.classes.contains { $0.tasks.contains { $0.stream == .pipeline } }
        // Every GPU reports: a folded class's members report what its simulated GPU did.
        let simulatedBreakdowns = simulated.indices.map { sim in
            var own = breakdown(gpu: simulated[sim], compute: simulation.computeIntervals[sim],
                                communication: simulation.communicationIntervals[sim], peak: simulation.peak[sim], end: now,
                                pipelined: pipelined)
            let host = facts[graph.classOfRank[simulated[sim]]].host
            own.host = HostIssue(forward: SimTime(seconds: host.forward), backward: SimTime(seconds: host.backward),
                                 other: SimTime(seconds: host.other))
            return own
        }
        let simOfRank: [Int: Int] = Dictionary(uniqueKeysWithValues: simulated.enumerated().map { ($1, $0) })
        let ranks = (0..<graph.rankCount).map { rank -> RankBreakdown in
            var own = simulatedBreakdowns[simOfRank[rank] ?? simOfRank[graph.classes[graph.classOfRank[rank]].members[0]]!]
            own.gpu = rank
            own.memoryCapacityBytes = cluster.gpus[rank].spec.memoryCapacity.bytes
            return own
        }
        let utilisation = zip(simulation.network.carried, cluster.links).map { carried, link in
            now.picoseconds > 0 ? carried / (link.bandwidth.bytesPerSecond * now.seconds) : 0
        }

        var result = SimulationResult(iterationTime: now, ranks: ranks, events: simulation.queue.processed,
                                      linkUtilisation: utilisation,
                                      timeline: recordsTimeline ? simulation.timeline : nil, simulatedRanks: simulated,
                                      hardwareFLOPs: simulation.hardwareFLOPs)
        result.criticalPath = simulation.criticalPath()
        result.allReduceAlgorithms = simulation.algorithmCounts
        for classFacts in facts { result.extrapolated.merge(classFacts.extrapolated, uniquingKeysWith: +) }
        return result
    }

    private func breakdown(gpu: Int, compute: [(start: SimTime, end: SimTime)],
                           communication: [(start: SimTime, end: SimTime, stream: StreamKind)],
                           peak: Int64, end: SimTime, pipelined: Bool) -> RankBreakdown {
        let computeTime = compute.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let computeUnion = Intervals.union(compute.sorted { $0.start < $1.start })
        let all = communication.map { (start: $0.start, end: $0.end) }.sorted { $0.start < $1.start }
        let communicationUnion = Intervals.union(all)
        let communicationTime = communicationUnion.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
        let exposed = communicationTime - Intervals.overlap(communicationUnion, computeUnion)
        // Each kind on its own: what of its time no compute hid (kinds overlapping each other
        // are each counted, so these can add up to more than the total).
        var byKind: [StreamKind: SimTime] = [:]
        for kind in StreamKind.allCases where kind != .compute {
            let own = Intervals.union(communication.filter { $0.stream == kind }.map { (start: $0.start, end: $0.end) }
                .sorted { $0.start < $1.start })
            let time = own.reduce(SimTime.zero) { $0 + ($1.end - $1.start) }
            let hidden = Intervals.overlap(own, computeUnion)
            if time > hidden { byKind[kind] = time - hidden }
        }
        let idle = end - computeTime - exposed
        return RankBreakdown(
            gpu: gpu, compute: computeTime, communication: communicationTime, exposedCommunication: exposed,
            idle: idle, peakMemoryBytes: peak,
            memoryCapacityBytes: cluster.gpus[gpu].spec.memoryCapacity.bytes,
            exposedByKind: byKind, pipelineBubble: pipelined ? idle : .zero)
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

extension StreamKind {
    /// A dense index (0 ..< `allCases.count`) for arrays per stream: hashing the enum would
    /// hash its raw string.
    var slot: Int {
        switch self {
        case .compute: 0
        case .tensorParallel: 1
        case .contextParallel: 2
        case .expertParallel: 3
        case .pipeline: 4
        case .gradientSync: 5
        case .parameterGather: 6
        }
    }
}

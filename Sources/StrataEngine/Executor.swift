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

    /// One class's tasks as flat arrays: what the event loop reads.
    private struct ClassFacts {
        var plan: ClassPlan
        var allocates: [Int64] = [], frees: [Int64] = [], stream: [StreamKind] = []
        var isCompute: [Bool] = [], flops: [Double] = [], duration: [SimTime] = []
        /// When the host has issued each task: it walks the program in order, paying each
        /// task's launches (`LaunchCosts`); a task starts no earlier.
        var issued: [SimTime] = []
        /// Tasks priced outside the measured tables, by the reason.
        var extrapolated: [String: Int] = [:]
    }

    private static func facts(of program: RankClass, gpu spec: GPUSpec, costs: any ComputeCostModel,
                              launch: LaunchCosts) -> ClassFacts {
        var facts = ClassFacts(plan: plan(program))
        var priced: [PriceKey: (duration: SimTime, launches: Int, outOfRange: String?)] = [:]
        let kernelFloor = SimTime(seconds: launch.kernelFloor)
        var host = 0.0
        for task in program.tasks {
            facts.allocates.append(task.allocates)
            facts.frees.append(task.frees)
            facts.stream.append(task.stream)
            if case let .compute(kernel) = task.action {
                let key = PriceKey(family: kernel.family, pass: kernelPass(kernel.pass), work: kernel.work,
                                   kernel: kernel.kernel, gpu: spec.id)
                let price = priced[key] ?? {
                    let launches = costs.launches(family: kernel.family, pass: key.pass, work: kernel.work, kernel: kernel.kernel)
                    let seconds = costs.seconds(family: kernel.family, pass: key.pass, work: kernel.work, gpu: spec, kernel: kernel.kernel)
                    let outOfRange = costs.outOfRange(family: kernel.family, pass: key.pass, work: kernel.work, kernel: kernel.kernel)
                    return (max(SimTime(seconds: seconds), kernelFloor * Int64(launches)), launches, outOfRange)
                }()
                priced[key] = price
                if let reason = price.outOfRange { facts.extrapolated[reason, default: 0] += 1 }
                facts.isCompute.append(true)
                facts.flops.append(kernel.work.flops)
                facts.duration.append(price.duration)
                host += launch.hostSeconds(pass: kernel.pass == .optimizer ? nil : key.pass, launches: price.launches)
            } else {
                facts.isCompute.append(false)
                facts.flops.append(0)
                facts.duration.append(.zero)
                host += launch.hostSeconds(pass: nil, launches: 1)
            }
            facts.issued.append(SimTime(seconds: host))
        }
        return facts
    }

    /// What a kernel's time depends on.
    private struct PriceKey: Hashable {
        var family: OpFamily
        var pass: KernelPass
        var work: Work
        var kernel: String?
        var gpu: String
    }

    /// Which simulated GPU stands for each of a group's members.
    private struct Instance: Hashable {
        var axes: [String]
        /// Exact: the group's first rank. Folded: the classes in the group.
        var group: [Int]
        var sequence: Int
    }

    private struct TransferKey: Hashable {
        /// Exact: ranks. Folded: classes.
        var source: Int
        var destination: Int
        var tag: String
    }

    /// A collective or transfer in flight: the tasks it completes and its flows left.
    private struct Communication {
        var members: [(sim: Int, task: Int)]
        var flows: [PreparedFlow]
        var pending: Int
    }

    /// A flow with its route resolved: the links it crosses and how many identical flows
    /// share each (folded execution).
    private struct PreparedFlow {
        var bytes: Double
        var links: [(link: Int, multiplicity: Double)]
    }

    /// A communication ready to start: its latency and flows.
    private struct Prepared {
        var latency: SimTime
        var flows: [PreparedFlow]
        /// An all-reduce's algorithm, for reports.
        var algorithm: CollectiveAlgorithm?
    }

    /// What a transfer's flow depends on.
    private struct TransferRoute: Hashable {
        var source: Int
        var destination: Int
        var bytes: Int64
    }

    /// What a ring collective's flows depend on, so identical calls (every layer's) are
    /// lowered and routed once.
    private struct LoweringKey: Hashable {
        var kind: CollectiveKind
        var axes: [String]
        var bytes: Int64
        var leader: Int
        var participants: [Int]
    }

    public func run() throws(ExecutionError) -> SimulationResult {
        let mesh = graph.mesh
        // Flat per-task facts of every class (class c's task i at offsets[c] + i), so the
        // event loop reads plain arrays instead of copying task structures. Classes are
        // planned and priced on all cores; each lands in its own slot.
        let facts = ConcurrentMap.map(Array(graph.classes.indices)) { classID in
            Self.facts(of: graph.classes[classID], gpu: cluster.gpus[graph.classes[classID].members[0]].spec,
                       costs: costs, launch: launch)
        }
        let plans = facts.map(\.plan)
        var offsets: [Int] = []
        var taskAllocates: [Int64] = [], taskFrees: [Int64] = [], taskStream: [StreamKind] = []
        var taskIsCompute: [Bool] = [], taskFLOPs: [Double] = [], taskDuration: [SimTime] = []
        var successorStart: [Int] = [], successorList: [Int32] = []
        var taskIssued: [SimTime] = []
        for classFacts in facts {
            offsets.append(taskAllocates.count)
            taskAllocates += classFacts.allocates
            taskFrees += classFacts.frees
            taskStream += classFacts.stream
            taskIsCompute += classFacts.isCompute
            taskFLOPs += classFacts.flops
            taskDuration += classFacts.duration
            taskIssued += classFacts.issued
            for successors in classFacts.plan.successors {
                successorStart.append(successorList.count)
                successorList += successors
            }
        }
        successorStart.append(successorList.count)
        // The GPUs simulated: every rank, or each class's first member.
        let simulated = exact ? Array(0..<graph.rankCount) : graph.classes.map { $0.members[0] }
        let simOfRank: [Int: Int] = Dictionary(uniqueKeysWithValues: simulated.enumerated().map { ($1, $0) })
        let classOf = { (rank: Int) in graph.classOfRank[rank] }
        var waits = simulated.map { plans[classOf($0)].waits }
        var memory = simulated.map { graph.classes[classOf($0)].persistentBytes }
        var peak = memory
        var finished = [Int](repeating: 0, count: simulated.count)
        var starts = simulated.map { [SimTime](repeating: .zero, count: graph.classes[classOf($0)].tasks.count) }
        var ends = starts
        // Critical path: what each task waited for last (a task of some simulated GPU, or
        // -1), and whether the host's launch was what it waited for.
        var causeSim = simulated.map { [Int32](repeating: -1, count: graph.classes[classOf($0)].tasks.count) }
        var causeTask = causeSim
        var waitedForHost = simulated.map { [Bool](repeating: false, count: graph.classes[classOf($0)].tasks.count) }
        var lastFinished: (sim: Int, task: Int)?
        var algorithmCounts: [CollectiveAlgorithm: Int] = [:]
        // Interference (calibrated from measured overlaps): a kernel that starts while its GPU
        // communicates runs slower, and so does a communication that starts while a kernel runs.
        var communicating = [Int](repeating: 0, count: simulated.count)
        // Communications that started at the latest start time, per GPU: a kernel starting
        // at that same instant is not slowed by them, whichever the event order put first
        // (folded and exact runs order simultaneous events differently).
        var latestCommunicationStart = [SimTime](repeating: .zero, count: simulated.count)
        var startedAtLatest = [Int](repeating: 0, count: simulated.count)
        var computing = [Bool](repeating: false, count: simulated.count)
        let computeSlowdown = self.network?.computeSlowdown ?? 1
        let communicationSlowdown = self.network?.communicationSlowdown ?? 1
        var computeIntervals = [[(start: SimTime, end: SimTime)]](repeating: [], count: simulated.count)
        var communicationIntervals = [[(start: SimTime, end: SimTime, stream: StreamKind)]](repeating: [], count: simulated.count)
        var hardwareFLOPs = 0.0
        var sequences = [[String: Int]](repeating: [:], count: simulated.count)
        var arrivals: [Instance: [(sim: Int, task: Int)]] = [:]
        var posted: [TransferKey: (sim: Int, task: Int)] = [:]
        var communications: [Int: Communication] = [:]
        var nextCommunication = 0
        var flowOwner: [Int: Int] = [:]
        var nextFlow = 0
        var network = FlowNetwork(linkCapacities: cluster.links.map {
            $0.bandwidth.bytesPerSecond * (self.network?.efficiency[$0.kind] ?? 1)
        })
        var networkVersion = 0
        var linkWeights: [String: [Int: Double]] = [:]
        var queue = EventQueue()
        var now = SimTime.zero
        var timeline = Timeline(ranks: recordsTimeline ? simulated.count : 0)

        func rescheduleNetwork() {
            networkVersion += 1
            if let next = network.nextCompletion(after: now) {
                queue.schedule(.networkCheck(version: networkVersion), at: max(next.time, now))
            }
        }

        /// Folded: how much load crosses each link when every group of the classes in
        /// `classes` runs this collective at once, per byte of the simulated group's.
        func weights(for signature: String, simulatedFlows: [CollectiveFlows.Flow], allFlows: () -> [CollectiveFlows.Flow]) -> [Int: Double] {
            if let cached = linkWeights[signature] { return cached }
            var total: [Int: Double] = [:], own: [Int: Double] = [:]
            // By bytes, not flows: a tree's edges carry half what its chains carry.
            for flow in allFlows() where flow.source != flow.destination {
                for link in cluster.route(fromGPU: flow.source, toGPU: flow.destination) { total[link.id, default: 0] += flow.bytes }
            }
            for flow in simulatedFlows where flow.source != flow.destination {
                for link in cluster.route(fromGPU: flow.source, toGPU: flow.destination) { own[link.id, default: 0] += flow.bytes }
            }
            var result: [Int: Double] = [:]
            for (link, count) in own { result[link] = max(1, (total[link] ?? count) / count) }
            linkWeights[signature] = result
            return result
        }

        var preparedCollectives: [LoweringKey: Prepared] = [:]
        var preparedTransfers: [TransferRoute: Prepared] = [:]

        func prepare(_ lowered: CollectiveFlows, weights: [Int: Double], algorithm: CollectiveAlgorithm? = nil) -> Prepared {
            Prepared(latency: lowered.latency, flows: lowered.flows.map { flow in
                let route = flow.source == flow.destination ? [] : cluster.route(fromGPU: flow.source, toGPU: flow.destination)
                return PreparedFlow(bytes: flow.bytes, links: route.map { ($0.id, weights[$0.id] ?? 1) })
            }, algorithm: algorithm)
        }

        /// `simulated`: the group's simulated GPU when folded, whose flows stand for the rest.
        func lowerCollective(_ calls: [(rank: Int, call: CollectiveCall)], group: [Int], algorithm: CollectiveAlgorithm,
                             simulated: Int? = nil) -> CollectiveFlows {
            algorithm == .tree
                ? CollectiveFlows.tree(group: group, bytes: Double(calls[0].call.bytes), cluster: cluster, calibration: self.network,
                                       busiest: simulated)
                : CollectiveFlows.lower(calls, group: group, cluster: cluster, calibration: self.network)
        }

        func communicate(_ members: [(sim: Int, task: Int)], _ prepared: Prepared) {
            // Every member waited for the last to arrive, which is the caller's task.
            let last = members[members.count - 1]
            let cause = (causeSim[last.sim][last.task], causeTask[last.sim][last.task], waitedForHost[last.sim][last.task])
            for member in members {
                starts[member.sim][member.task] = now
                communicating[member.sim] += 1
                if latestCommunicationStart[member.sim] == now {
                    startedAtLatest[member.sim] += 1
                } else {
                    latestCommunicationStart[member.sim] = now
                    startedAtLatest[member.sim] = 1
                }
                (causeSim[member.sim][member.task], causeTask[member.sim][member.task], waitedForHost[member.sim][member.task]) = cause
            }
            if let algorithm = prepared.algorithm { algorithmCounts[algorithm, default: 0] += 1 }
            let id = nextCommunication
            nextCommunication += 1
            communications[id] = Communication(members: members, flows: prepared.flows, pending: prepared.flows.count)
            queue.schedule(.communicationReady(id: id), at: now + prepared.latency)
        }

        /// A task whose dependencies are done starts once the host has issued it.
        func start(_ sim: Int, _ id: Int) {
            let issued = taskIssued[offsets[classOf(simulated[sim])] + id]
            if issued > now {
                waitedForHost[sim][id] = true
                queue.schedule(.issued(rank: sim, task: id), at: issued)
                return
            }
            begin(sim, id)
        }

        func begin(_ sim: Int, _ id: Int) {
            let rank = simulated[sim]
            let flat = offsets[classOf(rank)] + id
            memory[sim] += taskAllocates[flat]
            peak[sim] = max(peak[sim], memory[sim])
            starts[sim][id] = now
            if recordsTimeline, taskAllocates[flat] != 0 { timeline.memory[sim].append((now, memory[sim])) }
            if taskIsCompute[flat] {
                var duration = taskDuration[flat]
                if exact, cluster.gpus[rank].spec.id != cluster.gpus[graph.classes[classOf(rank)].members[0]].spec.id,
                   case let .compute(kernel) = graph.classes[classOf(rank)].tasks[id].action {
                    // A GPU of another type than its class's first member: price it on its own.
                    duration = SimTime(seconds: costs.seconds(family: kernel.family, pass: Self.kernelPass(kernel.pass),
                                                              work: kernel.work, gpu: cluster.gpus[rank].spec, kernel: kernel.kernel))
                }
                let earlier = communicating[sim] - (latestCommunicationStart[sim] == now ? startedAtLatest[sim] : 0)
                if earlier > 0, computeSlowdown > 1 {
                    duration = SimTime(seconds: duration.seconds * computeSlowdown)
                }
                computing[sim] = true
                queue.schedule(.taskFinished(rank: sim, task: id), at: now + duration)
                return
            }
            let action = graph.classes[classOf(rank)].tasks[id].action
            switch action {
            case .compute:
                preconditionFailure("compute tasks are handled above")
            case let .collective(call):
                let members = call.axes.isEmpty ? [rank] : mesh.group(of: rank, over: call.axes)
                if members.count <= 1 || call.bytes == 0 {
                    queue.schedule(.taskFinished(rank: sim, task: id), at: now)
                    return
                }
                let groupKey = call.axes.joined(separator: ",")
                let sequence = sequences[sim][groupKey, default: 0]
                sequences[sim][groupKey] = sequence + 1
                // Exact: the group's ranks must all arrive. Folded: one GPU of each class in it.
                let participants = exact ? members : Array(Set(members.map(classOf))).sorted()
                let instance = Instance(axes: call.axes, group: exact ? [members[0]] : participants, sequence: sequence)
                arrivals[instance, default: []].append((sim, id))
                guard let arrived = arrivals[instance], arrived.count == participants.count else { return }
                arrivals[instance] = nil
                let callOf: [Int: CollectiveCall] = Dictionary(uniqueKeysWithValues: arrived.map { member in
                    guard case let .collective(c) = graph.program(of: simulated[member.sim]).tasks[member.task].action else {
                        preconditionFailure("a collective's member is not a collective")
                    }
                    return (exact ? simulated[member.sim] : classOf(simulated[member.sim]), c)
                })
                let cacheKey = call.kind == .allToAll ? nil
                    : LoweringKey(kind: call.kind, axes: call.axes, bytes: call.bytes, leader: members[0], participants: participants)
                if let cacheKey, let prepared = preparedCollectives[cacheKey] {
                    communicate(arrived, prepared)
                    return
                }
                let calls = members.map { (rank: $0, call: callOf[exact ? $0 : classOf($0)]!) }
                let algorithm = CollectiveFlows.choose(collectiveAlgorithm, kind: call.kind, group: members, bytes: Double(call.bytes),
                                                       cluster: cluster, calibration: self.network)
                var lowered = lowerCollective(calls, group: members, algorithm: algorithm, simulated: exact ? nil : rank)
                var flowWeights: [Int: Double] = [:]
                if !exact {
                    // Folded rings: only the flows of the simulated GPUs, each standing for
                    // the identical flows of its class's other members. (A tree's flows
                    // differ by position, so all of the simulated group's run.)
                    let representatives = Set(participants.map { graph.classes[$0].members[0] })
                    lowered.flows = lowered.flows.filter { representatives.contains($0.source) || representatives.contains($0.destination) }
                    let signature = "c|\(call.kind.rawValue)|\(algorithm.rawValue)|\(groupKey)|\(participants)|\(members[0])"
                    flowWeights = weights(for: signature, simulatedFlows: lowered.flows) {
                        // Every group of these classes over these axes runs the same collective.
                        var leaders: Set<Int> = []
                        var flows: [CollectiveFlows.Flow] = []
                        for classID in participants {
                            for member in graph.classes[classID].members {
                                let group = mesh.group(of: member, over: call.axes)
                                guard leaders.insert(group[0]).inserted else { continue }
                                let groupCalls = group.map { (rank: $0, call: callOf[classOf($0)] ?? call) }
                                flows += lowerCollective(groupCalls, group: group, algorithm: algorithm,
                                                         simulated: group.first { graph.classes[classID].members[0] == $0 } ?? member).flows
                            }
                        }
                        return flows
                    }
                }
                let prepared = prepare(lowered, weights: flowWeights, algorithm: call.kind == .allReduce ? algorithm : nil)
                if let cacheKey { preparedCollectives[cacheKey] = prepared }
                communicate(arrived, prepared)
            case let .send(transfer), let .receive(transfer):
                let peer = mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
                let isSend = if case .send = action { true } else { false }
                let (source, destination) = isSend ? (rank, peer) : (peer, rank)
                let key = exact ? TransferKey(source: source, destination: destination, tag: transfer.tag)
                    : TransferKey(source: classOf(source), destination: classOf(destination), tag: transfer.tag)
                guard let other = posted.removeValue(forKey: key) else {
                    posted[key] = (sim, id)
                    return
                }
                // The flow goes from the sender's side of whichever simulated GPU sent.
                let sender = isSend ? rank : simulated[other.sim]
                let receiver = mesh.neighbour(of: sender, along: transfer.axis, offset: isSend ? transfer.offset : -transfer.offset)
                let routeKey = TransferRoute(source: sender, destination: receiver, bytes: transfer.bytes)
                if let prepared = preparedTransfers[routeKey] {
                    communicate([other, (sim, id)], prepared)
                    return
                }
                let lowered = CollectiveFlows.transfer(from: sender, to: receiver, bytes: Double(transfer.bytes), cluster: cluster,
                                                       calibration: self.network)
                var flowWeights: [Int: Double] = [:]
                if !exact {
                    let offset = isSend ? transfer.offset : -transfer.offset
                    flowWeights = weights(for: "p|\(classOf(sender))|\(transfer.axis)|\(offset)", simulatedFlows: lowered.flows) {
                        graph.classes[classOf(sender)].members.map {
                            CollectiveFlows.Flow(source: $0, destination: mesh.neighbour(of: $0, along: transfer.axis, offset: offset),
                                                 bytes: Double(transfer.bytes))
                        }
                    }
                }
                let prepared = prepare(lowered, weights: flowWeights)
                preparedTransfers[routeKey] = prepared
                communicate([other, (sim, id)], prepared)
            }
        }

        func finish(_ sim: Int, _ task: Int) {
            let classID = classOf(simulated[sim])
            let flat = offsets[classID] + task
            finished[sim] += 1
            memory[sim] -= taskFrees[flat]
            ends[sim][task] = now
            lastFinished = (sim, task)
            let interval = (starts[sim][task], now)
            if recordsTimeline {
                timeline.spans[sim].append(Timeline.Span(task: task, start: interval.0, end: now))
                if taskFrees[flat] != 0 { timeline.memory[sim].append((now, memory[sim])) }
            }
            if taskIsCompute[flat] {
                computing[sim] = false
                computeIntervals[sim].append(interval)
                // Every FLOP the GPU executes, recomputation included, for each member it stands for.
                hardwareFLOPs += taskFLOPs[flat] * Double(exact ? 1 : graph.classes[classID].members.count)
            } else if interval.0 < interval.1 {
                communicationIntervals[sim].append((interval.0, interval.1, taskStream[flat]))
            }
            for index in successorStart[flat]..<successorStart[flat + 1] {
                let successor = Int(successorList[index])
                waits[sim][successor] -= 1
                if waits[sim][successor] == 0 {
                    causeSim[sim][successor] = Int32(sim)
                    causeTask[sim][successor] = Int32(task)
                    start(sim, successor)
                }
            }
        }

        func complete(communication id: Int) {
            guard let done = communications.removeValue(forKey: id) else { return }
            for member in done.members { communicating[member.sim] -= 1 }
            for member in done.members { finish(member.sim, member.task) }
        }

        for sim in simulated.indices {
            for (id, count) in waits[sim].enumerated() where count == 0 { start(sim, id) }
        }
        while let event = queue.pop() {
            precondition(event.time >= now, "simulated time went backwards")
            now = event.time
            switch event.kind {
            case let .taskFinished(sim, task):
                finish(sim, task)
            case let .issued(sim, task):
                begin(sim, task)
            case let .communicationReady(id):
                guard let communication = communications[id] else { continue }
                network.advance(to: now)
                var instant = 0
                let slowed = communicationSlowdown > 1 && communication.members.contains { computing[$0.sim] }
                for flow in communication.flows {
                    if flow.links.isEmpty || flow.bytes <= 0 {
                        instant += 1
                        continue
                    }
                    flowOwner[nextFlow] = id
                    // Sharing the GPU with a kernel, the collective moves its bytes more slowly.
                    network.add(id: nextFlow, links: flow.links, bytes: flow.bytes * (slowed ? communicationSlowdown : 1), resolve: false)
                    nextFlow += 1
                }
                network.resolve()
                communications[id]!.pending -= instant
                if communications[id]!.pending == 0 { complete(communication: id) }
                rescheduleNetwork()
            case let .networkCheck(version):
                guard version == networkVersion else { continue }
                network.advance(to: now)
                let done = network.finished()
                network.remove(ids: Set(done))
                for flow in done {
                    let owner = flowOwner.removeValue(forKey: flow)!
                    communications[owner]!.pending -= 1
                    if communications[owner]!.pending == 0 { complete(communication: owner) }
                }
                rescheduleNetwork()
            }
        }

        for sim in simulated.indices where finished[sim] != graph.program(of: simulated[sim]).tasks.count {
            let program = graph.program(of: simulated[sim])
            let stuck = program.tasks.indices.first { waits[sim][$0] > 0 }.map { program.tasks[$0].name } ?? "?"
            throw ExecutionError(description: "GPU \(simulated[sim]) finished \(finished[sim]) of \(program.tasks.count) tasks (first stuck: \(stuck)): the execution graph has a cycle or a communication some member never reaches")
        }

        // A pipelined GPU's idle time is its share of the pipeline's bubble.
        let pipelined = graph.classes.contains { $0.tasks.contains { $0.stream == .pipeline } }
        // Every GPU reports: a folded class's members report what its simulated GPU did.
        let simulatedBreakdowns = simulated.indices.map { sim in
            breakdown(gpu: simulated[sim], compute: computeIntervals[sim], communication: communicationIntervals[sim],
                      peak: peak[sim], end: now, pipelined: pipelined)
        }
        let ranks = (0..<graph.rankCount).map { rank -> RankBreakdown in
            var own = simulatedBreakdowns[simOfRank[rank] ?? simOfRank[graph.classes[classOf(rank)].members[0]]!]
            own.gpu = rank
            own.memoryCapacityBytes = cluster.gpus[rank].spec.memoryCapacity.bytes
            return own
        }
        let utilisation = zip(network.carried, cluster.links).map { carried, link in
            now.picoseconds > 0 ? carried / (link.bandwidth.bytesPerSecond * now.seconds) : 0
        }

        // Walk back from the last task to finish through what each waited for last; a gap
        // before a task is the host's launch if it waited for the host, else waiting.
        var steps: [CriticalPath.Step] = []
        var pathTime: [String: SimTime] = [:], pathTasks: [String: Int] = [:]
        var step = lastFinished
        var later = (start: now, host: false)
        while let (sim, task) = step {
            let flat = offsets[classOf(simulated[sim])] + task
            if later.start > ends[sim][task] { pathTime[later.host ? "launch" : "wait", default: .zero] += later.start - ends[sim][task] }
            let kind = taskIsCompute[flat] ? "compute" : taskStream[flat].rawValue
            pathTime[kind, default: .zero] += ends[sim][task] - starts[sim][task]
            pathTasks[kind, default: 0] += 1
            steps.append(CriticalPath.Step(simulated: sim, task: task))
            later = (starts[sim][task], waitedForHost[sim][task])
            step = causeSim[sim][task] >= 0 ? (Int(causeSim[sim][task]), Int(causeTask[sim][task])) : nil
        }
        if later.start > .zero { pathTime[later.host ? "launch" : "wait", default: .zero] += later.start }

        var result = SimulationResult(iterationTime: now, ranks: ranks, events: queue.processed, linkUtilisation: utilisation,
                                      timeline: recordsTimeline ? timeline : nil, simulatedRanks: simulated,
                                      hardwareFLOPs: hardwareFLOPs)
        result.criticalPath = CriticalPath(steps: steps.reversed(), time: pathTime, tasks: pathTasks)
        result.allReduceAlgorithms = algorithmCounts
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

import StrataCore
import StrataCost
import StrataGraph
import StrataTopology

/// The state of one `Executor.run` and the handlers of its events.
///
/// A struct with mutating methods rather than closures over local variables: closures that
/// capture mutable locals box each one, and every access then retains and releases the box,
/// which cost a quarter of the engine's time. Per-GPU state lives in flat arrays — task *t*
/// of simulated GPU *s* at `simBase[s] + t`, its class's facts at `factBase[s] + t` — so a
/// step touches plain elements instead of nested arrays. Collectives and transfers are
/// resolved once per simulated task (`CollectiveSite`, `TransferSite`): their groups,
/// matching keys as integers, and the communication they lowered to.
struct Simulation {
    // MARK: Inputs

    let executor: Executor
    /// The graph's parts the loop reads, held directly: reading them through `executor`
    /// retained the whole graph on each access.
    let classes: [RankClass]
    let classOfRank: [Int]
    let mesh: Mesh
    let simulated: [Int]
    /// Per simulated GPU: its class, where its class's facts start, where its own tasks'
    /// state starts, and how many GPUs it stands for.
    let simClass: [Int]
    let factBase: [Int]
    let simBase: [Int]
    let simWeight: [Double]
    /// Exact runs: whether this GPU's type differs from its class's first member's, so its
    /// kernels are priced on their own.
    let pricesOwnKernels: [Bool]
    let taskAllocates: [Int64], taskFrees: [Int64], taskStream: [StreamKind]
    let taskIsCompute: [Bool], taskFLOPs: [Double], taskDuration: [SimTime], taskIssued: [SimTime]
    let successorStart: [Int], successorList: [Int32]
    let computeInterference: InterferenceCurve
    let communicationSlowdown: Double

    // MARK: Per-task state (flat, at simBase[sim] + task)

    var waits: [Int32]
    var starts: [SimTime]
    var ends: [SimTime]
    /// Critical path: what each task waited for last (a task of some simulated GPU, or -1),
    /// and whether the host's launch was what it waited for.
    var causeSim: [Int32]
    var causeTask: [Int32]
    var waitedForHost: [Bool]
    /// The task's `CollectiveSite` or `TransferSite`, once resolved; -1 before.
    var siteOf: [Int32]

    // MARK: Per-GPU state

    var memory: [Int64]
    var peak: [Int64]
    var finished: [Int]
    var lastFinished: (sim: Int, task: Int)?
    // Interference (calibrated from measured overlaps): a kernel runs slower for as long
    // as its GPU communicates beside it, and a communication that starts while a kernel
    // runs moves its bytes more slowly. A member that reaches a collective before its
    // peers counts as communicating from then: NCCL's kernel holds its SMs while it waits,
    // and slows a product beside it as much as one that moves bytes
    // (`scripts/validate/resident_kernels.py`; docs/accuracy.md). A pipeline's transfers
    // do not: charging their wait slowed pipelines by 16-34% against measured runs, and
    // still by 10-17% with receives posted in the runner's stream order
    // (`scripts/experiments/p2p-stream-order.patch`).
    var communicating: [Int]
    /// Per task: it reached its collective before the last member and has counted in
    /// `communicating` since.
    var waitingResident: [Bool]
    /// The kernel on each GPU's compute stream, if one runs, and the last version given to
    /// a kernel's finish event there (never reused, so a superseded event cannot match).
    var running: [RunningKernel?]
    var kernelVersions: [Int]
    var computeIntervals: [[(start: SimTime, end: SimTime)]]
    var communicationIntervals: [[(start: SimTime, end: SimTime, stream: StreamKind)]]
    var hardwareFLOPs = 0.0
    var algorithmCounts: [CollectiveAlgorithm: Int] = [:]
    var timeline: Timeline

    // MARK: Communication

    var collectiveSites: [CollectiveSite] = []
    var transferSites: [TransferSite] = []
    /// Interned matching keys: a communicator (axes and group), a (GPU, axes) group with
    /// its call counter, a transfer's tag.
    var communicatorIDs: [CommunicatorKey: Int] = [:]
    var groups: [SequenceKey: Group] = [:]
    var tagIDs: [String: Int] = [:]
    /// Calls made so far per (GPU, axes): calls over one group match in program order.
    var sequences: [Int] = []
    var arrivals: [ArrivalKey: [(sim: Int, task: Int)]] = [:]
    var posted: [TransferKey: (sim: Int, task: Int)] = [:]
    /// Lowered communications, each once; the keys say what they depend on.
    var prepared: [Prepared] = []
    var preparedCollectives: [LoweringKey: Int] = [:]
    var preparedTransfers: [TransferRoute: Int] = [:]
    var linkWeights: [String: [Int: Double]] = [:]
    /// Communications by id (ids are dense and increasing).
    var communications: [Communication] = []
    /// The communication each flow id belongs to.
    var flowOwner: [Int] = []
    var network: FlowNetwork
    var networkVersion = 0
    var queue = EventQueue()
    var now = SimTime.zero

    /// Which simulated GPU stands for each of a group's members.
    struct CommunicatorKey: Hashable {
        var axes: [String]
        /// Exact: the group's first rank. Folded: the classes in the group.
        var group: [Int]
    }

    struct SequenceKey: Hashable {
        var sim: Int
        var axes: [String]
    }

    /// A simulated GPU's group over some axes: its members, who must arrive, and where
    /// its calls are counted.
    struct Group {
        var members: [Int]
        var participants: [Int]
        var communicator: Int
        var sequenceSlot: Int
    }

    /// One call over one communicator.
    struct ArrivalKey: Hashable {
        var communicator: Int
        var sequence: Int
    }

    struct TransferKey: Hashable {
        /// Exact: ranks. Folded: classes.
        var source: Int
        var destination: Int
        var tag: Int
    }

    /// A collective task of one simulated GPU, resolved once.
    struct CollectiveSite {
        var kind: CollectiveKind
        var bytes: Int64
        var axes: [String]
        var members: [Int]
        /// Exact: the group's ranks. Folded: the classes in it.
        var participants: [Int]
        /// A group of one, or nothing to move: the task finishes at once.
        var trivial: Bool
        var communicator: Int
        var sequenceSlot: Int
        /// The lowering this call reuses, once one with its `LoweringKey` exists; -1 before.
        var prepared: Int
    }

    /// A send or receive of one simulated GPU, resolved once.
    struct TransferSite {
        var transfer: PointToPoint
        var isSend: Bool
        var key: TransferKey
    }

    /// A kernel on a compute stream: its time alone, the part of it not yet done as of
    /// `since` (in seconds alone), the slowdown it runs at from `since`, and the version of
    /// its pending finish event.
    struct RunningKernel {
        var task: Int
        var alone: Double
        var left: Double
        var since: SimTime
        var slowdown: Double
        var version: Int

        /// Time until it finishes at its current speed.
        var remaining: SimTime { SimTime(seconds: left * slowdown) }
    }

    /// A collective or transfer in flight: the tasks it completes and its flows left.
    struct Communication {
        var members: [(sim: Int, task: Int)]
        var prepared: Int
        var pending: Int
        var done = false
    }

    /// A flow with its route resolved: the links it crosses and how many identical flows
    /// share each (folded execution).
    struct PreparedFlow {
        var bytes: Double
        var links: [(link: Int, multiplicity: Double)]
    }

    /// A communication ready to start: its latency and flows.
    struct Prepared {
        var latency: SimTime
        var flows: [PreparedFlow]
        /// An all-reduce's algorithm, for reports.
        var algorithm: CollectiveAlgorithm?
    }

    /// What a transfer's flow depends on.
    struct TransferRoute: Hashable {
        var source: Int
        var destination: Int
        var bytes: Int64
    }

    /// What a ring collective's flows depend on, so identical calls (every layer's) are
    /// lowered and routed once.
    struct LoweringKey: Hashable {
        var kind: CollectiveKind
        var axes: [String]
        var bytes: Int64
        var leader: Int
        var participants: [Int]
    }

    init(executor: Executor, facts: [Executor.ClassFacts]) {
        self.executor = executor
        classes = executor.graph.classes
        classOfRank = executor.graph.classOfRank
        mesh = executor.graph.mesh
        let graph = executor.graph, cluster = executor.cluster, exact = executor.exact
        var classOffsets: [Int] = []
        var taskAllocates: [Int64] = [], taskFrees: [Int64] = [], taskStream: [StreamKind] = []
        var taskIsCompute: [Bool] = [], taskFLOPs: [Double] = [], taskDuration: [SimTime] = []
        var successorStart: [Int] = [], successorList: [Int32] = []
        var taskIssued: [SimTime] = []
        for classFacts in facts {
            classOffsets.append(taskAllocates.count)
            taskAllocates += classFacts.allocates
            taskFrees += classFacts.frees
            taskStream += classFacts.stream
            taskIsCompute += classFacts.isCompute
            taskFLOPs += classFacts.flops
            taskDuration += classFacts.duration
            taskIssued += classFacts.issued
            let base = successorList.count
            successorStart += classFacts.plan.successorStart.dropLast().map { base + $0 }
            successorList += classFacts.plan.successorList
        }
        successorStart.append(successorList.count)
        (self.taskAllocates, self.taskFrees, self.taskStream) = (taskAllocates, taskFrees, taskStream)
        (self.taskIsCompute, self.taskFLOPs, self.taskDuration) = (taskIsCompute, taskFLOPs, taskDuration)
        (self.taskIssued, self.successorStart, self.successorList) = (taskIssued, successorStart, successorList)

        // The GPUs simulated: every rank, or each class's first member.
        let simulated = exact ? Array(0..<graph.rankCount) : graph.classes.map { $0.members[0] }
        self.simulated = simulated
        let simClass = simulated.map { graph.classOfRank[$0] }
        self.simClass = simClass
        factBase = simClass.map { classOffsets[$0] }
        simWeight = simClass.map { exact ? 1 : Double(graph.classes[$0].members.count) }
        pricesOwnKernels = simulated.indices.map { sim in
            exact && cluster.gpus[simulated[sim]].spec.id != cluster.gpus[graph.classes[simClass[sim]].members[0]].spec.id
        }
        var simBase: [Int] = [], total = 0
        var waits: [Int32] = []
        for sim in simulated.indices {
            simBase.append(total)
            total += graph.classes[simClass[sim]].tasks.count
            waits += facts[simClass[sim]].plan.waits
        }
        self.simBase = simBase
        self.waits = waits
        starts = [SimTime](repeating: .zero, count: total)
        ends = starts
        causeSim = [Int32](repeating: -1, count: total)
        causeTask = causeSim
        siteOf = causeSim
        waitedForHost = [Bool](repeating: false, count: total)
        waitingResident = [Bool](repeating: false, count: total)

        memory = simClass.map { graph.classes[$0].persistentBytes + graph.libraryWorkspaceBytes }
        peak = memory
        finished = [Int](repeating: 0, count: simulated.count)
        communicating = [Int](repeating: 0, count: simulated.count)
        running = [RunningKernel?](repeating: nil, count: simulated.count)
        kernelVersions = [Int](repeating: 0, count: simulated.count)
        computeIntervals = [[(start: SimTime, end: SimTime)]](repeating: [], count: simulated.count)
        communicationIntervals = [[(start: SimTime, end: SimTime, stream: StreamKind)]](repeating: [], count: simulated.count)
        computeInterference = executor.network?.computeInterference ?? InterferenceCurve()
        communicationSlowdown = executor.network?.communicationSlowdown ?? 1
        timeline = Timeline(ranks: executor.recordsTimeline ? simulated.count : 0)
        network = FlowNetwork(linkCapacities: cluster.links.map {
            $0.bandwidth.bytesPerSecond * (executor.network?.efficiency[$0.kind] ?? 1)
        })
    }

    var graph: ExecutionGraph { executor.graph }
    var cluster: Cluster { executor.cluster }
    var exact: Bool { executor.exact }

    /// Runs every event until none is left.
    mutating func run() {
        for sim in simulated.indices {
            for task in 0..<taskCount(of: sim) where waits[simBase[sim] + task] == 0 { start(sim, task) }
        }
        while let event = queue.pop() {
            // A kernel's superseded finish (its speed changed since) is no event at all: the
            // clock does not move to it.
            if case let .kernelFinished(sim, _, version) = event.kind, running[sim]?.version != version { continue }
            precondition(event.time >= now, "simulated time went backwards")
            now = event.time
            switch event.kind {
            case let .taskFinished(sim, task):
                finish(sim, task)
            case let .kernelFinished(sim, task, _):
                finish(sim, task)
            case let .issued(sim, task):
                begin(sim, task)
            case let .communicationReady(id):
                communicationReady(id)
            case let .networkCheck(version):
                guard version == networkVersion else { continue }
                network.advance(to: now)
                for flow in network.removeFinished() {
                    let owner = flowOwner[flow]
                    communications[owner].pending -= 1
                    if communications[owner].pending == 0 { complete(communication: owner) }
                }
                rescheduleNetwork()
            }
        }
    }

    func taskCount(of sim: Int) -> Int {
        (sim + 1 < simBase.count ? simBase[sim + 1] : starts.count) - simBase[sim]
    }

    mutating func rescheduleNetwork() {
        networkVersion += 1
        if let next = network.nextCompletion(after: now) {
            queue.schedule(.networkCheck(version: networkVersion), at: max(next.time, now))
        }
    }

    /// A task whose dependencies are done starts once the host has issued it.
    mutating func start(_ sim: Int, _ task: Int) {
        let issued = taskIssued[factBase[sim] + task]
        if issued > now {
            waitedForHost[simBase[sim] + task] = true
            queue.schedule(.issued(rank: sim, task: task), at: issued)
            return
        }
        begin(sim, task)
    }

    /// How much slower a kernel of `alone` seconds runs on `sim` now: by the measured
    /// interference while the GPU communicates, else not at all.
    func slowdown(_ sim: Int, alone: Double) -> Double {
        communicating[sim] > 0 ? computeInterference.slowdown(at: alone) : 1
    }

    /// A collective began or ended beside `sim`'s kernel: the kernel's work done so far is
    /// counted at the old speed and the rest scheduled at the new one, so a kernel is slowed
    /// for the part of it that overlaps communication, whichever started first.
    mutating func rerate(_ sim: Int) {
        guard var kernel = running[sim] else { return }
        let target = slowdown(sim, alone: kernel.alone)
        guard target != kernel.slowdown else { return }
        kernel.left = max(0, kernel.left - (now - kernel.since).seconds / kernel.slowdown)
        kernel.since = now
        kernel.slowdown = target
        kernelVersions[sim] += 1
        kernel.version = kernelVersions[sim]
        running[sim] = kernel
        queue.schedule(.kernelFinished(rank: sim, task: kernel.task, version: kernel.version), at: now + kernel.remaining)
    }

    mutating func begin(_ sim: Int, _ task: Int) {
        let fact = factBase[sim] + task, state = simBase[sim] + task
        memory[sim] += taskAllocates[fact]
        peak[sim] = max(peak[sim], memory[sim])
        starts[state] = now
        if executor.recordsTimeline, taskAllocates[fact] != 0 { timeline.memory[sim].append((now, memory[sim])) }
        if taskIsCompute[fact] {
            var duration = taskDuration[fact]
            if pricesOwnKernels[sim] { duration = ownPrice(sim, task) }
            let alone = duration.seconds
            kernelVersions[sim] += 1
            let kernel = RunningKernel(task: task, alone: alone, left: alone, since: now, slowdown: slowdown(sim, alone: alone),
                                       version: kernelVersions[sim])
            running[sim] = kernel
            queue.schedule(.kernelFinished(rank: sim, task: task, version: kernel.version), at: now + kernel.remaining)
            return
        }
        if siteOf[state] < 0 { resolveSite(sim, task) }
        let site = Int(siteOf[state])
        if site >= Int(transferSiteFlag) {
            beginTransfer(sim, task, site: site - Int(transferSiteFlag))
        } else {
            beginCollective(sim, task, site: site)
        }
    }

    /// Added to a `TransferSite`'s index in `siteOf`, to tell it from a `CollectiveSite`'s.
    private var transferSiteFlag: Int32 { 1 << 30 }

    /// A kernel of an exact run's GPU whose type differs from its class's first member's.
    private func ownPrice(_ sim: Int, _ task: Int) -> SimTime {
        guard case let .compute(kernel) = classes[simClass[sim]].tasks[task].action else {
            preconditionFailure("a compute task without a kernel")
        }
        let gpu = cluster.gpus[simulated[sim]].spec
        let main = SimTime(seconds: executor.costs.seconds(family: kernel.family, pass: Executor.kernelPass(kernel.pass),
                                                           work: kernel.work, gpu: gpu, kernel: kernel.kernel))
        var total = main
        kernel.forEachTail { family, work in
            total += SimTime(seconds: executor.costs.seconds(family: family, pass: .backward, work: work, gpu: gpu, kernel: kernel.kernel))
        }
        return total
    }

    /// Resolves a communication task's group and matching keys, once per simulated task.
    private mutating func resolveSite(_ sim: Int, _ task: Int) {
        switch classes[simClass[sim]].tasks[task].action {
        case .compute:
            preconditionFailure("compute tasks have no communication site")
        case let .collective(call):
            let group = self.group(of: sim, over: call.axes)
            siteOf[simBase[sim] + task] = Int32(collectiveSites.count)
            collectiveSites.append(CollectiveSite(
                kind: call.kind, bytes: call.bytes, axes: call.axes, members: group.members, participants: group.participants,
                trivial: group.members.count <= 1 || call.bytes == 0, communicator: group.communicator,
                sequenceSlot: group.sequenceSlot, prepared: -1))
        case let .send(transfer):
            resolveTransfer(sim, task, transfer, isSend: true)
        case let .receive(transfer):
            resolveTransfer(sim, task, transfer, isSend: false)
        }
    }

    private mutating func resolveTransfer(_ sim: Int, _ task: Int, _ transfer: PointToPoint, isSend: Bool) {
        let rank = simulated[sim]
        let peer = mesh.neighbour(of: rank, along: transfer.axis, offset: transfer.offset)
        let (source, destination) = isSend ? (rank, peer) : (peer, rank)
        let tag: Int
        if let known = tagIDs[transfer.tag] {
            tag = known
        } else {
            tag = tagIDs.count
            tagIDs[transfer.tag] = tag
        }
        let key = exact ? TransferKey(source: source, destination: destination, tag: tag)
            : TransferKey(source: classOfRank[source], destination: classOfRank[destination], tag: tag)
        siteOf[simBase[sim] + task] = transferSiteFlag + Int32(transferSites.count)
        transferSites.append(TransferSite(transfer: transfer, isSend: isSend, key: key))
    }

    /// A simulated GPU's group over some axes, found once per (GPU, axes).
    private mutating func group(of sim: Int, over axes: [String]) -> Group {
        let sequenceKey = SequenceKey(sim: sim, axes: axes)
        if let known = groups[sequenceKey] { return known }
        let rank = simulated[sim], classOfRank = self.classOfRank
        let members = axes.isEmpty ? [rank] : mesh.group(of: rank, over: axes)
        // Exact: the group's ranks must all arrive. Folded: one GPU of each class in it.
        let participants = exact ? members : Array(Set(members.map { classOfRank[$0] })).sorted()
        let communicatorKey = CommunicatorKey(axes: axes, group: exact ? [members[0]] : participants)
        let communicator = communicatorIDs[communicatorKey] ?? communicatorIDs.count
        communicatorIDs[communicatorKey] = communicator
        let group = Group(members: members, participants: participants, communicator: communicator,
                          sequenceSlot: sequences.count)
        sequences.append(0)
        groups[sequenceKey] = group
        return group
    }

    private mutating func beginCollective(_ sim: Int, _ task: Int, site: Int) {
        if collectiveSites[site].trivial {
            queue.schedule(.taskFinished(rank: sim, task: task), at: now)
            return
        }
        let slot = collectiveSites[site].sequenceSlot
        let sequence = sequences[slot]
        sequences[slot] = sequence + 1
        var arrived = [(sim: sim, task: task)]
        // A group whose members are all of this GPU's class (folded) has arrived at once.
        if collectiveSites[site].participants.count > 1 {
            let instance = ArrivalKey(communicator: collectiveSites[site].communicator, sequence: sequence)
            arrived = arrivals.removeValue(forKey: instance) ?? []
            arrived.append((sim, task))
            guard arrived.count == collectiveSites[site].participants.count else {
                arrivals[instance] = arrived
                becomeResident(sim, task)
                return
            }
        }
        if collectiveSites[site].prepared >= 0 {
            communicate(arrived, collectiveSites[site].prepared)
            return
        }
        let kind = collectiveSites[site].kind
        let cacheKey = kind == .allToAll ? nil
            : LoweringKey(kind: kind, axes: collectiveSites[site].axes, bytes: collectiveSites[site].bytes,
                          leader: collectiveSites[site].members[0], participants: collectiveSites[site].participants)
        if let cacheKey, let index = preparedCollectives[cacheKey] {
            collectiveSites[site].prepared = index
            communicate(arrived, index)
            return
        }
        let index = prepared.count
        prepared.append(lowerCollective(arrived, sim: sim, site: collectiveSites[site]))
        if let cacheKey {
            preparedCollectives[cacheKey] = index
            collectiveSites[site].prepared = index
        }
        communicate(arrived, index)
    }

    /// Lowers a collective every member has reached to flows on the network, choosing its
    /// algorithm; `sim` is the last to arrive.
    private mutating func lowerCollective(_ arrived: [(sim: Int, task: Int)], sim: Int, site: CollectiveSite) -> Prepared {
        let rank = simulated[sim], members = site.members, participants = site.participants
        let graph = self.graph, mesh = graph.mesh, cluster = self.cluster, calibration = executor.network
        let classOf = { (rank: Int) in graph.classOfRank[rank] }
        let callOf: [Int: CollectiveCall] = Dictionary(uniqueKeysWithValues: arrived.map { member in
            guard case let .collective(c) = graph.program(of: simulated[member.sim]).tasks[member.task].action else {
                preconditionFailure("a collective's member is not a collective")
            }
            return (exact ? simulated[member.sim] : classOf(simulated[member.sim]), c)
        })
        let call = callOf[exact ? rank : classOf(rank)]!
        let calls = members.map { (rank: $0, call: callOf[exact ? $0 : classOf($0)]!) }
        let algorithm = CollectiveFlows.choose(executor.collectiveAlgorithm, kind: call.kind, group: members,
                                               bytes: Double(call.bytes), cluster: cluster, calibration: executor.network)
        var lowered = Self.lowerCollective(calls, group: members, algorithm: algorithm, simulated: exact ? nil : rank,
                                           cluster: cluster, calibration: calibration)
        var flowWeights: [Int: Double] = [:]
        if !exact {
            // Folded rings: only the flows of the simulated GPUs, each standing for
            // the identical flows of its class's other members. (A tree's flows
            // differ by position, so all of the simulated group's run.)
            let representatives = Set(participants.map { graph.classes[$0].members[0] })
            lowered.flows = lowered.flows.filter { representatives.contains($0.source) || representatives.contains($0.destination) }
            let groupKey = call.axes.joined(separator: ",")
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
                        flows += Self.lowerCollective(groupCalls, group: group, algorithm: algorithm,
                                                      simulated: group.first { graph.classes[classID].members[0] == $0 } ?? member,
                                                      cluster: cluster, calibration: calibration).flows
                    }
                }
                return flows
            }
        }
        return prepare(lowered, weights: flowWeights, algorithm: call.kind == .allReduce ? algorithm : nil)
    }

    private mutating func beginTransfer(_ sim: Int, _ task: Int, site: Int) {
        let key = transferSites[site].key
        guard let other = posted.removeValue(forKey: key) else {
            posted[key] = (sim, task)
            return
        }
        let transfer = transferSites[site].transfer, isSend = transferSites[site].isSend
        let rank = simulated[sim]
        // The flow goes from the sender's side of whichever simulated GPU sent.
        let sender = isSend ? rank : simulated[other.sim]
        let receiver = mesh.neighbour(of: sender, along: transfer.axis, offset: isSend ? transfer.offset : -transfer.offset)
        let routeKey = TransferRoute(source: sender, destination: receiver, bytes: transfer.bytes)
        if let index = preparedTransfers[routeKey] {
            communicate([other, (sim, task)], index)
            return
        }
        let lowered = CollectiveFlows.transfer(from: sender, to: receiver, bytes: Double(transfer.bytes), cluster: cluster,
                                               calibration: executor.network)
        var flowWeights: [Int: Double] = [:]
        if !exact {
            let offset = isSend ? transfer.offset : -transfer.offset
            let graph = self.graph, mesh = graph.mesh
            let senderClass = graph.classOfRank[sender]
            flowWeights = weights(for: "p|\(senderClass)|\(transfer.axis)|\(offset)", simulatedFlows: lowered.flows) {
                graph.classes[senderClass].members.map {
                    CollectiveFlows.Flow(source: $0, destination: mesh.neighbour(of: $0, along: transfer.axis, offset: offset),
                                         bytes: Double(transfer.bytes))
                }
            }
        }
        let index = prepared.count
        prepared.append(prepare(lowered, weights: flowWeights))
        preparedTransfers[routeKey] = index
        communicate([other, (sim, task)], index)
    }

    /// Folded: how much load crosses each link when every group of the classes in
    /// `classes` runs this collective at once, per byte of the simulated group's.
    private mutating func weights(for signature: String, simulatedFlows: [CollectiveFlows.Flow],
                                  allFlows: () -> [CollectiveFlows.Flow]) -> [Int: Double] {
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

    private func prepare(_ lowered: CollectiveFlows, weights: [Int: Double], algorithm: CollectiveAlgorithm? = nil) -> Prepared {
        let cluster = self.cluster
        return Prepared(latency: lowered.latency, flows: lowered.flows.map { flow in
            let route = flow.source == flow.destination ? [] : cluster.route(fromGPU: flow.source, toGPU: flow.destination)
            return PreparedFlow(bytes: flow.bytes, links: route.map { ($0.id, weights[$0.id] ?? 1) })
        }, algorithm: algorithm)
    }

    /// `simulated`: the group's simulated GPU when folded, whose flows stand for the rest.
    private static func lowerCollective(_ calls: [(rank: Int, call: CollectiveCall)], group: [Int], algorithm: CollectiveAlgorithm,
                                        simulated: Int?, cluster: Cluster, calibration: NetworkCalibration?) -> CollectiveFlows {
        algorithm == .tree
            ? CollectiveFlows.tree(group: group, bytes: Double(calls[0].call.bytes), cluster: cluster, calibration: calibration,
                                   busiest: simulated)
            : CollectiveFlows.lower(calls, group: group, cluster: cluster, calibration: calibration)
    }

    private mutating func communicate(_ members: [(sim: Int, task: Int)], _ preparedIndex: Int) {
        // Every member waited for the last to arrive, which is the caller's task.
        let last = members[members.count - 1]
        let lastState = simBase[last.sim] + last.task
        let cause = (causeSim[lastState], causeTask[lastState], waitedForHost[lastState])
        for member in members {
            let state = simBase[member.sim] + member.task
            starts[state] = now
            if !waitingResident[state] { beginCommunicating(member.sim) }
            (causeSim[state], causeTask[state], waitedForHost[state]) = cause
        }
        if let algorithm = prepared[preparedIndex].algorithm { algorithmCounts[algorithm, default: 0] += 1 }
        let id = communications.count
        communications.append(Communication(members: members, prepared: preparedIndex,
                                            pending: prepared[preparedIndex].flows.count))
        queue.schedule(.communicationReady(id: id), at: now + prepared[preparedIndex].latency)
    }

    /// A member waits for its peers with its kernel already on the GPU: it slows the
    /// compute beside it from now (`communicating`), though it moves nothing yet.
    private mutating func becomeResident(_ sim: Int, _ task: Int) {
        waitingResident[simBase[sim] + task] = true
        beginCommunicating(sim)
    }

    /// One more communication on `sim`: its running kernel slows from now if it is the first.
    private mutating func beginCommunicating(_ sim: Int) {
        communicating[sim] += 1
        if communicating[sim] == 1 { rerate(sim) }
    }

    /// A communication's latency has passed: its flows enter the network.
    private mutating func communicationReady(_ id: Int) {
        guard !communications[id].done else { return }
        network.advance(to: now)
        var instant = 0
        let slowed = communicationSlowdown > 1 && communications[id].members.contains { running[$0.sim] != nil }
        let preparedIndex = communications[id].prepared
        for flow in prepared[preparedIndex].flows {
            if flow.links.isEmpty || flow.bytes <= 0 {
                instant += 1
                continue
            }
            flowOwner.append(id)
            // Sharing the GPU with a kernel, the collective moves its bytes more slowly.
            network.add(id: flowOwner.count - 1, links: flow.links, bytes: flow.bytes * (slowed ? communicationSlowdown : 1),
                        resolve: false)
        }
        network.resolve()
        communications[id].pending -= instant
        if communications[id].pending == 0 { complete(communication: id) }
        rescheduleNetwork()
    }

    mutating func finish(_ sim: Int, _ task: Int) {
        let fact = factBase[sim] + task, state = simBase[sim] + task
        finished[sim] += 1
        memory[sim] -= taskFrees[fact]
        ends[state] = now
        lastFinished = (sim, task)
        let began = starts[state]
        if executor.recordsTimeline {
            timeline.spans[sim].append(Timeline.Span(task: task, start: began, end: now))
            if taskFrees[fact] != 0 { timeline.memory[sim].append((now, memory[sim])) }
        }
        if taskIsCompute[fact] {
            running[sim] = nil
            computeIntervals[sim].append((began, now))
            // Every FLOP the GPU executes, recomputation included, for each member it stands for.
            hardwareFLOPs += taskFLOPs[fact] * simWeight[sim]
        } else if began < now {
            communicationIntervals[sim].append((began, now, taskStream[fact]))
        }
        for index in successorStart[fact]..<successorStart[fact + 1] {
            let successor = Int(successorList[index])
            let successorState = simBase[sim] + successor
            waits[successorState] -= 1
            if waits[successorState] == 0 {
                causeSim[successorState] = Int32(sim)
                causeTask[successorState] = Int32(task)
                start(sim, successor)
            }
        }
    }

    mutating func complete(communication id: Int) {
        guard !communications[id].done else { return }
        communications[id].done = true
        let members = communications[id].members
        communications[id].members = []
        for member in members {
            communicating[member.sim] -= 1
            if communicating[member.sim] == 0 { rerate(member.sim) }
        }
        for member in members { finish(member.sim, member.task) }
    }

    /// Walks back from the last task to finish through what each waited for last; a gap
    /// before a task is the host's launch if it waited for the host, else waiting.
    func criticalPath() -> CriticalPath {
        var steps: [CriticalPath.Step] = []
        var pathTime: [String: SimTime] = [:], pathTasks: [String: Int] = [:]
        var step = lastFinished
        var later = (start: now, host: false)
        while let (sim, task) = step {
            let fact = factBase[sim] + task, state = simBase[sim] + task
            if later.start > ends[state] { pathTime[later.host ? "launch" : "wait", default: .zero] += later.start - ends[state] }
            let kind = taskIsCompute[fact] ? "compute" : taskStream[fact].rawValue
            pathTime[kind, default: .zero] += ends[state] - starts[state]
            pathTasks[kind, default: 0] += 1
            steps.append(CriticalPath.Step(simulated: sim, task: task))
            later = (starts[state], waitedForHost[state])
            step = causeSim[state] >= 0 ? (Int(causeSim[state]), Int(causeTask[state])) : nil
        }
        if later.start > .zero { pathTime[later.host ? "launch" : "wait", default: .zero] += later.start }
        return CriticalPath(steps: steps.reversed(), time: pathTime, tasks: pathTasks)
    }
}

import StrataCore
import StrataModel

/// One step of a unit's forward, undone in reverse by its backward.
enum LoweredStep {
    /// A compute op; with `ring`, attention split into steps that exchange key/value
    /// blocks around the context-parallel ring (Liu et al. 2023, ring attention).
    case op(index: Int, op: Op, ring: (axis: String, steps: Int, bytes: Int64)?)
    /// A tensor-parallel collective where layouts change (Shoeybi et al. 2019's f and g,
    /// Korthikanti et al. 2022's all-gather and reduce-scatter with sequence parallelism):
    /// `forward` in the forward pass, `backward` in the backward pass.
    case tensorParallel(forward: CollectiveKind?, backward: CollectiveKind?, axes: [String], bytes: Int64, label: String)
    /// Expert-parallel all-to-all (dispatch or combine), the same volume in both passes.
    case expertExchange(axes: [String], bytesPerDestination: [Int64], label: String)
    /// The vocabulary-parallel cross-entropy's three reductions over the tensor-parallel
    /// group: the logits' maximum, the target logit and the sum of exponentials.
    case crossEntropyReductions(axes: [String], bytes: Int64)
}

/// A unit of pipeline and FSDP work: a transformer layer, or a standalone op.
struct LoweredUnit {
    /// The module: `layers[i]` or the standalone op.
    var node: Int
    /// A transformer layer (FSDP wraps each as a unit of its own with `unit = layer`; the
    /// standalone ops around them belong to the model's root unit).
    var isLayer = false
    var steps: [LoweredStep]
    var recompute: Recompute
    /// Bytes of the unit's input kept when the whole unit is recomputed.
    var inputBytes: Int64
    /// Bytes of the activation this unit hands to the next (for pipeline transfers).
    var outputBytes: Int64
    /// Activation gradients its backward holds at once at its widest (a dense layer's MLP:
    /// `UnitLowering.denseMLPGradientBytes`), counted from its first backward kernel to its last.
    var backwardGradientBytes: Int64 = 0
}

/// Emits the program of one class of GPUs: its pipeline stage's chunks in schedule order,
/// with the collectives, transfers, memory events and the optimizer step.
struct ProgramBuilder {
    let strategy: ResolvedStrategy
    let mesh: Mesh
    let shapes: OpShapes
    /// The representative rank whose coordinates decide the program.
    let rank: Int
    let stage: Int
    /// Units of each model chunk in forward order (indexed by global chunk).
    let chunkUnits: [[LoweredUnit]]
    /// Bytes leaving each chunk for the next stage (and of the gradient coming back).
    let boundaryBytes: [Int64]
    private(set) var tasks: [GraphTask] = []
    /// Gradients computed but not yet handed to a collective.
    private var pendingGradients: GradientBuckets
    /// The gradient collectives emitted so far; the optimizer waits for all of them.
    private var gradientTasks: [Int] = []
    /// A communication buffer the next compute op consumes and frees: the output of a
    /// tensor-parallel all-gather, or the tokens an expert all-to-all delivered.
    private var pendingBufferFree: Int64 = 0
    /// How many GPUs compute each op identically, worked out once per op.
    private let replications = ReplicationCache()
    /// Each op's gradient accumulation (`accumulate`), by op index.
    private var accumulationOps: [Int: (parameters: Int64, add: Op)] = [:]
    /// Gathered parameters kept from forward to backward (FSDP without resharding).
    private var heldGathers: [Int: [Int64]] = [:]
    /// Per unit gathered so far, in program order, the task after which its parameters are
    /// in place (FSDP's copy-out, or the gather): a unit's gather waits for the one
    /// `fsdp.prefetch` units back, so that many units' gathers run ahead of the compute.
    private var gatheredUnits: [Int] = []
    /// Units FSDP gathers (their nodes): FSDP2's hooks run around each of their passes.
    private var fsdpUnits: Set<Int> = []
    /// Per chunk, the positions of the units FSDP's root unit holds (`FSDPRoot`).
    private let roots: [FSDPRoot?]
    /// Per chunk and micro-batch, the root's gather its forward made, kept until its backward ends.
    private var rootGathers: [RootKey: (task: Int, bytes: Int64)] = [:]
    private struct RootKey: Hashable {
        var chunk: Int
        var microBatch: Int
    }
    /// The ops whose gradients a root reduce-scatters at its post-backward (every chunk's
    /// roots' `parameterOps`), and those waiting for it.
    private let rootOps: Set<Int>
    private var rootGradients: GradientBuckets
    /// Dropped gradients (`zero_gradients = set_to_none`): the ops whose gradients the
    /// iteration's backward has written so far, and their bytes, freed at the next zeroing.
    private var writtenGradients: Set<Int> = []
    private var droppedGradientBytes: Int64 = 0

    private var tree: StrategyTree { strategy.tree }
    private var fsdpLike: Bool { strategy.fsdp != nil }

    init(strategy: ResolvedStrategy, mesh: Mesh, shapes: OpShapes, rank: Int, stage: Int, chunkUnits: [[LoweredUnit]],
         boundaryBytes: [Int64]) {
        self.boundaryBytes = boundaryBytes
        self.strategy = strategy
        self.mesh = mesh
        self.shapes = shapes
        self.rank = rank
        self.stage = stage
        self.chunkUnits = chunkUnits
        self.pendingGradients = GradientBuckets(bucketBytes: strategy.gradientSync.bucketBytes)
        self.rootGradients = GradientBuckets(bucketBytes: strategy.gradientSync.bucketBytes)
        let roots = chunkUnits.map { units in strategy.fsdp.flatMap { FSDPRoot(units: units, unit: $0.unit) } }
        self.roots = roots
        self.rootOps = roots.reduce(into: []) { $0.formUnion($1?.parameterOps ?? []) }
    }

    // MARK: Emission helpers

    @discardableResult
    private mutating func emit(_ name: String, _ stream: StreamKind, _ action: TaskAction, after dependencies: [Int?],
                               allocates: Int64 = 0, frees: Int64 = 0) -> Int {
        emit(.text(name), stream, action, after: dependencies, allocates: allocates, frees: frees)
    }

    private mutating func emit(_ label: TaskLabel, _ stream: StreamKind, _ action: TaskAction, after dependencies: [Int?],
                               allocates: Int64 = 0, frees: Int64 = 0) -> Int {
        let id = tasks.count
        var unique: [Int] = []
        unique.reserveCapacity(dependencies.count)
        for case let dependency? in dependencies where !unique.contains(dependency) { unique.append(dependency) }
        tasks.append(GraphTask(id: id, label: label, stream: stream, action: action, dependencies: unique,
                               allocates: allocates, frees: frees))
        return id
    }

    private func kernel(_ op: Op, _ pass: Pass, work: Work? = nil, index: Int? = nil) -> TaskAction {
        let work = work ?? (pass == .forward || pass == .recompute ? op.forward : op.backward)
        var model = 0.0
        if op.family.countsAsModelFLOPs, pass != .recompute, pass != .optimizer {
            model = work.flops
            // Flash attention's backward recomputes the scores: 2.5 × forward in work, 2 × in model FLOPs.
            if case .attention = op.family, pass != .forward { model *= 2 / 2.5 }
            model /= Double(index.map { index in
                if let known = replications.values[index] { return known }
                let computed = shapes.replication(of: index, pipelineAxis: strategy.pipeline?.axis)
                replications.values[index] = computed
                return computed
            } ?? 1)
        }
        var kernel = ComputeKernel(op: op.name, family: op.family, pass: pass, work: work, modelFLOPs: model,
                                   kernel: index.flatMap { tree.attributes[$0].kernel })
        kernel.reducesBias = op.hasBias && (pass == .backward || pass == .backwardWeight)
        if case let .attention(batch, heads, _, sequence, headDim, _) = op.family, batch > 1,
           pass == .backward || pass == .backwardInput {
            // The output and its gradient, each read and written once.
            let outputBytes = Double(batch * heads * sequence * headDim) * work.precision.bytesPerElement
            kernel.layoutCopies = Work(flops: 0, bytes: 2 * 2 * outputBytes, precision: .fp32)
        }
        return .compute(kernel)
    }

    private func collective(_ kind: CollectiveKind, _ axes: [String], _ bytes: Int64, _ label: String,
                            perDestination: [Int64]? = nil, gradient: Bool = false) -> TaskAction {
        .collective(CollectiveCall(kind: kind, axes: axes, bytes: bytes, bytesPerDestination: perDestination, label: label,
                                   isGradient: gradient))
    }

    // MARK: The program

    /// Schedule actions for this stage: (pass, micro-batch, chunk).
    mutating func build(actions: [(pass: Pass, microBatch: Int, chunk: Int)], microBatches: Int) -> [GraphTask] {
        let lastChunk = chunkUnits.count - 1
        var lastCompute: Int?
        // The last micro-batch whose backward each chunk runs: its gradients are final.
        let finalMicroBatch = microBatches - 1

        for action in actions {
            let chunk = action.chunk, mb = action.microBatch
            let units = chunkUnits[chunk]
            switch action.pass {
            case .forward:
                var previous: Int? = lastCompute
                if chunk > 0 {
                    let bytes = boundaryBytes[chunk - 1]
                    previous = emit("receive activation c\(chunk) mb\(mb)", .pipeline,
                                    .receive(PointToPoint(axis: pipelineAxis, offset: -1, bytes: bytes, tag: "F c\(chunk) mb\(mb)")),
                                    after: [])
                }
                for (position, unit) in units.enumerated() {
                    previous = forward(unit, mb: mb, after: previous, chunk: chunk, position: position)
                }
                lastCompute = previous
                if chunk < lastChunk {
                    emit("send activation c\(chunk) mb\(mb)", .pipeline,
                         .send(PointToPoint(axis: pipelineAxis, offset: 1, bytes: boundaryBytes[chunk], tag: "F c\(chunk + 1) mb\(mb)")),
                         after: [previous])
                }
            case .backward, .backwardInput:
                var previous: Int? = lastCompute
                if chunk < lastChunk {
                    previous = emit("receive gradient c\(chunk) mb\(mb)", .pipeline,
                                    .receive(PointToPoint(axis: pipelineAxis, offset: 1, bytes: boundaryBytes[chunk], tag: "B c\(chunk) mb\(mb)")),
                                    after: [])
                }
                let synchronise = action.pass == .backward && (mb == finalMicroBatch || !strategy.gradientSync.afterLastMicroBatch)
                for (position, unit) in units.enumerated().reversed() {
                    previous = backward(unit, mb: mb, pass: action.pass, after: previous, synchronise: synchronise,
                                        chunk: chunk, position: position)
                }
                lastCompute = previous
                if chunk > 0 {
                    emit("send gradient c\(chunk) mb\(mb)", .pipeline,
                         .send(PointToPoint(axis: pipelineAxis, offset: -1, bytes: boundaryBytes[chunk - 1], tag: "B c\(chunk - 1) mb\(mb)")),
                         after: [previous])
                }
            case .backwardWeight:
                var previous: Int? = lastCompute
                let synchronise = mb == finalMicroBatch || !strategy.gradientSync.afterLastMicroBatch
                for (position, unit) in units.enumerated().reversed() {
                    previous = weightGradients(unit, mb: mb, after: previous, synchronise: synchronise)
                    if synchronise, roots[chunk]?.endsBackward(at: position) == true { flushRoot(after: previous) }
                }
                lastCompute = previous
            default:
                break
            }
            // A chunk's last backward leaves no more of its gradients to wait for.
            if strategy.gradientSync.overlap, action.pass != .forward, action.pass != .backwardInput {
                flush(after: lastCompute, onlyFull: false)
            }
        }
        flush(after: lastCompute, onlyFull: false)
        flushRoot(after: lastCompute)

        // Tied embeddings on different stages: the first stage (embedding) and the last (head)
        // exchange their copies' gradients and add them (Megatron-LM's embedding group),
        // each sending its whole copy to the other around the pipeline ring.
        if let pipeline = strategy.pipeline, pipeline.stages > 1, strategy.model.tiedEmbeddings,
           stage == 0 || stage == pipeline.stages - 1 {
            let copy = chunkUnits.flatMap { $0 }.flatMap(\.steps).compactMap { step -> Op? in
                if case let .op(_, op, _) = step, op.name == (stage == 0 ? "embedding" : "head") { op } else { nil }
            }.first
            if let copy, copy.parameters > 0 {
                let vocabularyRows = stage == 0 ? Double(copy.parameters - Int64(strategy.model.family == .gpt ? strategy.model.sequence * strategy.model.hidden : 0))
                    : Double(copy.parameters)
                let bytes = Int64(vocabularyRows * strategy.training.state.gradientBytesPerParameter)
                let offset = stage == 0 ? -1 : 1
                emit("send embedding gradient", .pipeline,
                     .send(PointToPoint(axis: pipelineAxis, offset: offset, bytes: bytes, tag: "embedding gradient from \(stage)")),
                     after: [lastCompute])
                let received = emit("receive embedding gradient", .pipeline,
                                    .receive(PointToPoint(axis: pipelineAxis, offset: offset, bytes: bytes,
                                                          tag: "embedding gradient from \(stage == 0 ? pipeline.stages - 1 : 0)")),
                                    after: [])
                gradientTasks.append(received)
            }
        }

        // The optimizer updates this GPU's shard once every gradient has arrived: between
        // casts of its own where the masters are kept apart from the 16-bit tensors (FSDP
        // keeps fp32 shards and casts as it gathers and scatters, so it has none).
        let state = strategy.training.state
        var ready: [Int?] = [lastCompute] + gradientTasks
        if !fsdpLike, let cast = state.castGradients(parameters: optimizerParameters) {
            ready = [emit("optimizer cast gradients", .compute, kernel(cast, .optimizer, work: cast.forward), after: ready)]
        }
        let step = state.step(parameters: optimizerParameters)
        var optimizer = emit("optimizer step", .compute, kernel(step, .optimizer, work: step.forward), after: ready)
        if !fsdpLike, let copy = state.copyWeights(parameters: optimizerParameters) {
            optimizer = emit("optimizer copy weights", .compute, kernel(copy, .optimizer, work: copy.forward), after: [optimizer])
        }
        // Dropped gradients go with the zeroing after the step.
        tasks[optimizer].frees += droppedGradientBytes
        // The kept gradients are written with zeros for the next iteration (Megatron-LM's
        // zero_grad_buffer, PyTorch's foreach_zero_), unless they are dropped instead.
        if strategy.training.gradientZeroing == .memset, keptGradientParameters > 0 {
            let bytes = Double(keptGradientParameters) * state.gradientBytesPerParameter
            let zero = OpCosts.copy("gradients.zero", read: 0, written: bytes)
            emit("gradients zero", .compute, kernel(zero, .optimizer, work: zero.forward), after: [optimizer])
        }
        // The distributed optimizer (ZeRO-1/2) gathers the updated weights for the next iteration.
        if !fsdpLike {
            var gathers = GradientBuckets(bucketBytes: strategy.gradientSync.bucketBytes)
            for unit in chunkUnits.flatMap({ $0 }) {
                for case let .op(index, op, _) in unit.steps where tree.attributes[index].zero >= 1 && tree.attributes[index].zero < 3 && op.parameters > 0 {
                    let axes = replicaAxes(index)
                    if !axes.isEmpty {
                        let bytesPerParameter = strategy.training.state.weightBytesPerParameter
                        gathers.add(op.parameterTensors.map { Int64(Double($0) * bytesPerParameter) },
                                    key: BucketKey(axes: axes, sharded: true))
                    }
                }
            }
            for bucket in gathers.drain(onlyFull: false) {
                emit("parameter all_gather \(bucket.key.axes.joined(separator: ","))", .parameterGather,
                     collective(.allGather, bucket.key.axes, bucket.bytes, "updated parameters"), after: [optimizer])
            }
        }
        return tasks
    }

    private var pipelineAxis: String { strategy.pipeline?.axis ?? "" }

    /// The axes gradients of op `index` are reduced over: its data-parallel axes, without
    /// the expert-parallel axis for routed experts (whose ranks hold different experts).
    private func replicaAxes(_ index: Int) -> [String] {
        let a = tree.attributes[index]
        let expert = tree.layouts[index]?.splits.first?.dimension == "experts"
        var axes = a.dataParallel.filter { !(expert && $0 == a.expertParallel) && mesh.size(of: $0) > 1 }
        // Tensor-parallel ranks hold whole copies of a routed expert and feed it different
        // tokens: replicas, whose gradients are reduced like data-parallel ones.
        if let tensor = a.tensorParallel, mesh.size(of: tensor) > 1, shapes.isRoutedExpert(index), !axes.contains(tensor) {
            axes.append(tensor)
        }
        return axes
    }

    /// Parameters whose optimizer state this GPU keeps: its share of the model, or its
    /// shard where the state is sharded (FSDP, ZeRO-1 and up).
    private var optimizerParameters: Int64 { heldParameters(shardedFromZero: 1) }

    /// Parameters whose gradients this GPU keeps across micro-batches: its share of the
    /// model, or its shard where the gradients are sharded (FSDP, ZeRO-2 and up).
    private var keptGradientParameters: Int64 { heldParameters(shardedFromZero: 2) }

    /// This GPU's parameters summed over its ops, each op's divided over its replicas where
    /// FSDP or a ZeRO stage of at least `stage` shards it.
    private func heldParameters(shardedFromZero stage: Int) -> Int64 {
        var total = 0.0
        for unit in chunkUnits.flatMap({ $0 }) {
            for case let .op(index, op, _) in unit.steps where op.parameters > 0 {
                total += held(op.parameters, of: index, sharded: fsdpLike || tree.attributes[index].zero >= stage)
            }
        }
        return Int64(total.rounded())
    }

    /// `parameters` of op `index` as this GPU holds them: divided over the op's replicas
    /// where `sharded`.
    private func held(_ parameters: Int64, of index: Int, sharded: Bool) -> Double {
        Double(parameters) / Double(sharded ? mesh.size(of: replicaAxes(index)) : 1)
    }

    // MARK: Forward

    private mutating func forward(_ unit: LoweredUnit, mb: Int, after start: Int?, chunk: Int, position: Int) -> Int? {
        if let root = roots[chunk], root.members.contains(position) {
            return rootForward(unit, mb: mb, after: start, chunk: chunk, position: position, root: root)
        }
        var previous = start
        let full = unit.recompute.isFull
        let first = tasks.count
        let gather = gatherParameters(unit, label: "forward mb\(mb)", after: start)
        if fsdpLike, gather != nil {
            fsdpUnits.insert(unit.node)
            tasks[first].hook.startsFSDPUnit = .forward
        }
        for (position, step) in unit.steps.enumerated() {
            let keep = position == 0 && full ? unit.inputBytes : 0
            previous = emitForward(step, mb: mb, pass: .forward, after: [previous, position == 0 ? gather?.task : nil],
                                   allocate: !full, extra: keep)
        }
        // Resharding frees the gathered parameters after the unit's forward; otherwise they
        // stay until its backward.
        if let gather, let last = previous {
            if strategy.fsdp?.reshardAfterForward ?? true { tasks[last].frees += gather.bytes } else { heldGathers[unit.node, default: []].append(gather.bytes) }
        }
        return previous
    }

    /// A module of FSDP's root unit runs forward: the first gathers every member's
    /// parameters (one all-gather, its hooks priced once), and the others wait for that
    /// gather, which is kept until the last has run, or without resharding until the
    /// micro-batch's backward has run the root's last module (in a pipeline's schedule
    /// several can then be in flight, where FSDP2 would keep one and gather it again for the
    /// later backwards).
    private mutating func rootForward(_ unit: LoweredUnit, mb: Int, after start: Int?, chunk: Int, position: Int,
                                      root: FSDPRoot) -> Int? {
        var previous = start
        let first = tasks.count
        let key = RootKey(chunk: chunk, microBatch: mb)
        if root.beginsForward(at: position) {
            if let gather = gatherParameters(rootUnit(root, chunk: chunk, node: unit.node), label: "forward mb\(mb)",
                                             after: start, name: "root") {
                rootGathers[key] = gather
                tasks[first].hook.startsFSDPUnit = .forward
            }
        }
        let gather = rootGathers[key]
        for (index, step) in unit.steps.enumerated() {
            previous = emitForward(step, mb: mb, pass: .forward, after: [previous, index == 0 ? gather?.task : nil], allocate: true)
        }
        // Resharded after forward, as the layers are, once the root's forward (the whole
        // model's) is done; otherwise kept for the backward.
        if root.endsForward(at: position), strategy.fsdp?.reshardAfterForward ?? true, let last = previous,
           let gathered = rootGathers.removeValue(forKey: key) {
            tasks[last].frees += gathered.bytes
        }
        return previous
    }

    /// Every module of the root as one unit, for its gathers.
    private func rootUnit(_ root: FSDPRoot, chunk: Int, node: Int) -> LoweredUnit {
        LoweredUnit(node: node, steps: root.members.flatMap { chunkUnits[chunk][$0].steps }, recompute: .none,
                    inputBytes: 0, outputBytes: 0)
    }

    private mutating func emitForward(_ step: LoweredStep, mb: Int, pass: Pass, after dependencies: [Int?],
                                      allocate: Bool, extra: Int64 = 0) -> Int? {
        switch step {
        case let .op(index, op, ring):
            let saved = (allocate ? op.savedBytes : 0) + extra
            let buffer = pendingBufferFree
            pendingBufferFree = 0
            guard let ring, ring.steps > 1 else {
                return emit(.pass(op: op.name, pass: pass, microBatch: mb), .compute, kernel(op, pass, index: index), after: dependencies,
                            allocates: saved + op.forwardWorkspace, frees: op.forwardWorkspace + buffer)
            }
            return ringAttention(op, ring: ring, mb: mb, pass: pass, after: dependencies, allocates: saved, frees: buffer, index: index)
        case let .tensorParallel(kind, _, axes, bytes, label):
            guard let kind else { return dependencies.compactMap { $0 }.last }
            // The gathered activation lives until the op that consumes it has run.
            let buffer = kind == .allGather ? bytes : 0
            pendingBufferFree += buffer
            return emit("\(label) \(kind.rawValue) mb\(mb)", .tensorParallel, collective(kind, axes, bytes, label), after: dependencies,
                        allocates: buffer)
        case let .expertExchange(axes, perDestination, label):
            // Dispatch delivers the tokens the local experts work on; the combine frees them.
            let received = perDestination.reduce(0, +)
            let dispatch = label.hasSuffix("dispatch")
            return emit("\(label) all_to_all mb\(mb)", .expertParallel,
                        collective(.allToAll, axes, perDestination.reduce(0, +), label, perDestination: perDestination),
                        after: dependencies, allocates: dispatch ? received : 0, frees: dispatch ? 0 : received)
        case let .crossEntropyReductions(axes, bytes):
            var previous = dependencies.compactMap { $0 }.last
            for what in ["logit max", "target logit", "sum of exponentials"] {
                previous = emit("loss \(what) all_reduce mb\(mb)", .tensorParallel, collective(.allReduce, axes, bytes, "loss \(what)"),
                                after: [previous])
            }
            return previous
        }
    }

    /// Ring attention: `steps` blocks of attention, each overlapped with passing the
    /// key/value block on to the next rank of the ring and receiving one from the previous.
    private mutating func ringAttention(_ op: Op, ring: (axis: String, steps: Int, bytes: Int64), mb: Int, pass: Pass,
                                        after dependencies: [Int?], allocates: Int64, frees: Int64, index: Int) -> Int? {
        let backward = pass == .backward || pass == .backwardInput
        var block = op
        block.forward.flops /= Double(ring.steps)
        block.forward.bytes /= Double(ring.steps)
        block.backward.flops /= Double(ring.steps)
        block.backward.bytes /= Double(ring.steps)
        // Backward also passes the key/value gradients around the ring.
        let bytes = backward ? 2 * ring.bytes : ring.bytes
        var previous: Int? = nil
        var received: Int? = nil
        for step in 0..<ring.steps {
            let tag = "\(op.name) \(pass.rawValue) mb\(mb) step\(step)"
            let last = step == ring.steps - 1
            if !last {
                emit("send kv \(tag)", .contextParallel, .send(PointToPoint(axis: ring.axis, offset: 1, bytes: bytes, tag: tag)),
                     after: step == 0 ? dependencies : [received])
            }
            let compute = emit("\(op.name) \(pass.rawValue) mb\(mb) block\(step)", .compute, kernel(block, pass, index: index),
                               after: (step == 0 ? dependencies : [previous, received]),
                               allocates: step == 0 ? allocates : 0, frees: last ? frees : 0)
            if !last {
                received = emit("receive kv \(tag)", .contextParallel,
                                .receive(PointToPoint(axis: ring.axis, offset: -1, bytes: bytes, tag: tag)),
                                after: step == 0 ? dependencies : [received])
            }
            previous = compute
        }
        return previous
    }

    // MARK: Backward

    /// How many of a fully recomputed unit's steps run again, and the bytes a trailing
    /// product that is not run saves all the same (its input, which the last step run makes
    /// again): every step, or with early stop (`fullEarlyStop`) those up to the last one a
    /// saved tensor needs. Trailing steps that save nothing are left out, and so is a
    /// trailing dense product, which saves only its input and weight.
    private func recomputedSteps(_ unit: LoweredUnit) -> (count: Int, carried: Int64) {
        var count = unit.steps.count
        guard unit.recompute == .fullEarlyStop else { return (count, 0) }
        while count > 0 {
            guard case let .op(_, op, ring) = unit.steps[count - 1] else {
                count -= 1  // a collective's output is saved by no op after it
                continue
            }
            if op.savedBytes == 0 {
                count -= 1
                continue
            }
            if case .gemm = op.family, ring == nil, count > 1 {
                return (count - 1, op.savedBytes)
            }
            return (count, 0)
        }
        return (0, 0)
    }

    private mutating func backward(_ unit: LoweredUnit, mb: Int, pass: Pass, after start: Int?, synchronise: Bool,
                                   chunk: Int, position: Int) -> Int? {
        let root = roots[chunk].flatMap { $0.members.contains(position) ? $0 : nil }
        let rootKey = RootKey(chunk: chunk, microBatch: mb)
        var previous = start
        let first = tasks.count
        let resharded = strategy.fsdp?.reshardAfterForward ?? true
        var gather = gatherParameters(unit, label: "backward mb\(mb)", after: start, skip: root != nil || !resharded)
        // The root's backward begins with its pre-backward hook: its parameters gathered
        // again where they were resharded after forward, or still held.
        var hooked = root == nil && fsdpUnits.contains(unit.node)
        if let root, root.beginsBackward(at: position) {
            if resharded {
                // Issued by the root's pre-backward hook once the forward is done, not ahead of it.
                if let gathered = gatherParameters(rootUnit(root, chunk: chunk, node: unit.node), label: "backward mb\(mb)",
                                                   after: start, name: "root", anchored: true) {
                    rootGathers[rootKey] = gathered
                }
            }
            hooked = rootGathers[rootKey] != nil
        }
        // Every module of the root waits for the root's gather; its bytes are freed once,
        // after the root's last module (below).
        if root != nil { gather = rootGathers[rootKey].map { (task: $0.task, bytes: 0) } }
        defer {
            // The hooks begin with the unit's gather, or without one its first backward task.
            if hooked, first < tasks.count {
                tasks[first].hook.startsFSDPUnit = .backward(synchronised: synchronise)
            }
            writeDroppedGradients(of: unit, from: first)
            holdActivationGradients(of: unit, from: first)
        }
        if unit.recompute.isFull {
            let (count, carried) = recomputedSteps(unit)
            for (position, step) in unit.steps.prefix(count).enumerated() {
                previous = emitForward(step, mb: mb, pass: .recompute, after: [previous, position == 0 ? gather?.task : nil],
                                       allocate: true, extra: position == count - 1 ? carried : 0)
            }
        }
        for (position, step) in unit.steps.enumerated().reversed() {
            switch step {
            case let .op(index, op, ring):
                if unit.recompute == .selective, case .attention = op.family {
                    previous = emitForward(step, mb: mb, pass: .recompute, after: [previous], allocate: false)
                }
                let splitsWeights = pass == .backwardInput && op.parameters > 0
                // Zero-bubble: the input gradient now, the weight gradient (and the saved
                // input it needs) later.
                var work = op.backward
                if splitsWeights { work = Work(flops: work.flops / 2, bytes: work.bytes / 2, precision: work.precision) }
                var frees = splitsWeights ? 0 : op.savedBytes
                if position == 0, unit.recompute.isFull { frees += unit.inputBytes }
                let dependencies = [previous, position == unit.steps.count - 1 ? gather?.task : nil]
                if let ring, ring.steps > 1 {
                    previous = ringAttention(op, ring: ring, mb: mb, pass: pass, after: dependencies, allocates: 0, frees: frees, index: index)
                } else {
                    let buffer = pendingBufferFree
                    pendingBufferFree = 0
                    previous = emit(.pass(op: op.name, pass: pass, microBatch: mb), .compute, kernel(op, pass, work: work, index: index),
                                    after: dependencies, allocates: op.backwardWorkspace, frees: frees + op.backwardWorkspace + buffer)
                }
                if pass == .backward, op.parameters > 0 {
                    previous = accumulate(index, op, mb: mb, after: previous)
                    if synchronise { addGradients(index, op, after: previous) }
                }
            case let .tensorParallel(_, kind, axes, bytes, label):
                if let kind {
                    // A re-gathered input lives until the op whose backward needs it has run.
                    let buffer = kind == .allGather ? bytes : 0
                    pendingBufferFree += buffer
                    previous = emit("\(label) gradient \(kind.rawValue) mb\(mb)", .tensorParallel,
                                    collective(kind, axes, bytes, "\(label) gradient", gradient: true), after: [previous], allocates: buffer)
                }
            case let .expertExchange(axes, perDestination, label):
                // Backward runs the combine's gradient first (delivering the experts' output
                // gradients) and the dispatch's last (freeing them).
                let received = perDestination.reduce(0, +)
                let combine = label.hasSuffix("combine")
                previous = emit("\(label) gradient all_to_all mb\(mb)", .expertParallel,
                                collective(.allToAll, axes, received, "\(label) gradient", perDestination: perDestination,
                                           gradient: true),
                                after: [previous], allocates: combine ? received : 0, frees: combine ? 0 : received)
            case .crossEntropyReductions:
                break
            }
        }
        if let last = previous {
            if let gather { tasks[last].frees += gather.bytes }
            if let held = heldGathers[unit.node]?.first {
                tasks[last].frees += held
                heldGathers[unit.node]!.removeFirst()
            }
        }
        if let root {
            // The root's post-backward, after its last member: its gathered parameters are
            // freed and its gradients reduce-scattered together.
            guard root.endsBackward(at: position) else { return previous }
            if let last = previous, let gathered = rootGathers.removeValue(forKey: RootKey(chunk: chunk, microBatch: mb)) {
                tasks[last].frees += gathered.bytes
            }
            if synchronise, pass == .backward { flushRoot(after: previous) }
            return previous
        }
        // FSDP and ZeRO-3 reduce-scatter each unit's gradients as soon as they are ready.
        if synchronise, fsdpLike || unit.steps.contains(where: { if case let .op(i, _, _) = $0 { tree.attributes[i].zero >= 3 } else { false } }) {
            flush(after: previous, onlyFull: false)
        }
        return previous
    }

    private mutating func weightGradients(_ unit: LoweredUnit, mb: Int, after start: Int?, synchronise: Bool) -> Int? {
        let first = tasks.count
        defer { writeDroppedGradients(of: unit, from: first) }
        var previous = start
        for case let .op(index, op, _) in unit.steps.reversed() where op.parameters > 0 {
            let work = Work(flops: op.backward.flops / 2, bytes: op.backward.bytes / 2, precision: op.backward.precision)
            previous = emit(.pass(op: op.name, pass: .backwardWeight, microBatch: mb), .compute,
                            kernel(op, .backwardWeight, work: work, index: index),
                            after: [previous], frees: op.savedBytes)
            previous = accumulate(index, op, mb: mb, after: previous)
            if synchronise { addGradients(index, op, after: previous) }
        }
        return previous
    }

    /// The activation gradients `unit`'s backward holds at its widest, allocated by its
    /// first backward kernel emitted from task `first` on (after any recomputation) and
    /// freed by its last.
    private mutating func holdActivationGradients(of unit: LoweredUnit, from first: Int) {
        guard unit.backwardGradientBytes > 0 else { return }
        let kernels = tasks.indices[first...].filter {
            if case let .compute(kernel) = tasks[$0].action { kernel.pass != .recompute } else { false }
        }
        guard let start = kernels.first, let end = kernels.last else { return }
        tasks[start].allocates += unit.backwardGradientBytes
        tasks[end].frees += unit.backwardGradientBytes
    }

    /// Gradients dropped at each zeroing (`set_to_none`) come into being as the first
    /// backward of the iteration writes them: `unit`'s, at the first compute task of its
    /// backward emitted from task `first` on (a gather ahead of it may be prefetched early);
    /// they are freed after the optimizer step.
    private mutating func writeDroppedGradients(of unit: LoweredUnit, from first: Int) {
        guard strategy.training.gradientZeroing == .setToNone,
              let task = tasks[first...].firstIndex(where: { $0.stream == .compute }) else { return }
        var bytes = 0.0
        for index in Compiler.stateIndices(of: unit, tree: tree, seen: &writtenGradients) {
            bytes += Compiler.keptGradientBytes(index, strategy: strategy, mesh: mesh, shapes: shapes)
        }
        let rounded = Int64(bytes.rounded(.up))
        tasks[task].allocates += rounded
        droppedGradientBytes += rounded
    }

    /// PyTorch's AccumulateGrad: the micro-batch's gradient added to the kept one (a
    /// separate kernel unless the strategy fuses accumulation into the product). FSDP keeps
    /// only its shard of the gradients: each micro-batch's unsharded gradient is
    /// reduce-scattered fresh and its shard added to the kept shard (FSDP2's post-backward).
    private mutating func accumulate(_ index: Int, _ op: Op, mb: Int, after task: Int?) -> Int? {
        guard strategy.training.gradientAccumulation == .add else { return task }
        // Dropped gradients (set_to_none): the first micro-batch's becomes the kept one.
        if strategy.training.gradientZeroing == .setToNone, mb == 0 { return task }
        let kept = Int64(held(op.parameters, of: index, sharded: fsdpLike).rounded())
        // The same op for every micro-batch: built once per op.
        let add: Op
        if let known = accumulationOps[index], known.parameters == kept {
            add = known.add
        } else {
            add = OpCosts.gradientAccumulation("\(op.name).grad", parameters: kept,
                                               precision: strategy.training.state.gradientPrecision)
            accumulationOps[index] = (kept, add)
        }
        guard let task, case var .compute(kernel) = tasks[task].action else { return task }
        kernel.accumulation = add.backward
        tasks[task].action = .compute(kernel)
        return task
    }

    // MARK: Data-parallel state

    private mutating func addGradients(_ index: Int, _ op: Op, after task: Int?) {
        let axes = replicaAxes(index)
        guard !axes.isEmpty else { return }
        let sharded = fsdpLike || tree.attributes[index].zero >= 1
        let bytesPerParameter = strategy.training.state.gradientBytesPerParameter
        let tensors = op.parameterTensors.map { Int64(Double($0) * bytesPerParameter) }
        // The root's gradients wait for its post-backward.
        if rootOps.contains(index) {
            rootGradients.add(tensors, key: BucketKey(axes: axes, sharded: sharded))
            return
        }
        pendingGradients.add(tensors, key: BucketKey(axes: axes, sharded: sharded))
        if strategy.gradientSync.overlap { flush(after: task, onlyFull: true) }
    }

    /// Hands ready buckets to collectives: reduce-scatter where the gradients end up
    /// sharded (ZeRO ≥ 1, FSDP), all-reduce otherwise.
    private mutating func flush(after task: Int?, onlyFull: Bool) {
        collectGradients(pendingGradients.drain(onlyFull: onlyFull), after: task)
    }

    /// The root unit's gradients, every one, at its post-backward.
    private mutating func flushRoot(after task: Int?) {
        collectGradients(rootGradients.drain(onlyFull: false), after: task)
    }

    private mutating func collectGradients(_ buckets: [GradientBuckets.Bucket], after task: Int?) {
        for bucket in buckets {
            let kind: CollectiveKind = bucket.key.sharded ? .reduceScatter : .allReduce
            let axes = bucket.key.axes.joined(separator: ",")
            var ready = task
            let first = tasks.count
            defer {
                // FSDP2's post-backward hook issues the unit's reduce-scatter and what prepares it.
                if bucket.key.sharded, fsdpLike {
                    for index in first..<tasks.count { tasks[index].hook.issuedByFSDP = true }
                }
            }
            if bucket.key.sharded, fsdpLike {
                // FSDP2 concatenates the unit's unsharded gradients into the reduce-scatter's
                // flat input first (chunk_cat): every gradient byte read and written.
                let concatenation = OpCosts.copy("gradients \(axes) chunk_cat", bytes: bucket.bytes)
                ready = emit("gradients chunk_cat \(axes)", .compute, kernel(concatenation, .backward), after: [task])
            }
            switch strategy.gradientSync.average {
            case .pass:
                // The bucket divided by the replicas' number, read and written once, on the
                // compute stream before the collective reads it.
                let average = OpCosts.copy("gradients \(axes) average", bytes: bucket.bytes)
                ready = emit("gradients average \(axes)", .compute, kernel(average, .backward), after: [ready])
            case .perTensor:
                // Each gradient divided by a kernel of its own, as DDP's reducer does when the
                // gradient lands (here all before the collective that waits for the last).
                for tensor in bucket.tensors {
                    let average = OpCosts.copy("gradient \(axes) average", bytes: tensor)
                    ready = emit("gradient average \(axes)", .compute, kernel(average, .backward), after: [ready])
                }
            case .inCollective:
                break
            }
            gradientTasks.append(emit("gradients \(kind.rawValue) \(axes)", .gradientSync,
                                      collective(kind, bucket.key.axes, bucket.bytes, "gradients"), after: [ready]))
        }
    }

    /// ZeRO-3 and FSDP gather a unit's parameters before using them.
    private mutating func gatherParameters(_ unit: LoweredUnit, label: String, after anchor: Int?, skip: Bool = false,
                                           name: String? = nil, anchored: Bool = false) -> (task: Int, bytes: Int64)? {
        guard !skip else { return nil }
        var bytes: Int64 = 0, total: Int64 = 0
        var axes: [String] = []
        for case let .op(index, op, _) in unit.steps where op.parameters > 0 && (fsdpLike || tree.attributes[index].zero >= 3) {
            let group = replicaAxes(index)
            guard !group.isEmpty else { continue }
            axes = group
            let full = Double(op.parameters) * strategy.training.state.weightBytesPerParameter
            total += Int64(full)
            // FSDP2 gathers into unsharded parameters of their own, the whole of them; a
            // ZeRO-3 gather writes around the rank's own shard.
            bytes += fsdpLike ? Int64(full) : Int64(full * (1 - 1 / Double(mesh.size(of: group))))
        }
        guard bytes > 0 else { return nil }
        let path = name ?? tree.modules.path(of: unit.node)
        // FSDP2 issues a unit's all-gather on a stream of its own once the unit `prefetch`
        // units back has its parameters in place (its copy-out done), which bounds the
        // gathered units in flight; with 0, once the unit before has run. ZeRO-3 outside
        // FSDP keeps the latter.
        let depth = strategy.fsdp?.prefetch ?? 0
        let after: Int? = depth == 0 || anchored ? anchor
            : (gatheredUnits.count >= depth ? gatheredUnits[gatheredUnits.count - depth] : nil)
        let task = emit("parameter all_gather \(path) \(label)", .parameterGather,
                        collective(.allGather, axes, total, "parameters of \(path)"),
                        after: [after], allocates: bytes)
        guard fsdpLike else {
            gatheredUnits.append(task)
            return (task, bytes)
        }
        tasks[task].hook.issuedByFSDP = true
        // FSDP2 gathers into one flat buffer and copies it out into the unit's parameter
        // tensors on the compute stream before the unit runs (split_with_sizes_copy):
        // every gathered byte read and written (measured on the validation runner:
        // docs/cost-model.md, "Other collectives and transfers"). A ZeRO-3 subtree outside
        // FSDP is gathered without it.
        let copyOut = OpCosts.copy("\(path) parameters copy-out", bytes: total)
        let copied = emit("parameter copy-out \(path) \(label)", .compute, kernel(copyOut, .forward), after: [task])
        tasks[copied].hook.issuedByFSDP = true
        gatheredUnits.append(copied)
        return (copied, bytes)
    }
}

/// FSDP2's root unit: `fully_shard` on the whole model, after its layers, takes every
/// parameter no layer's unit holds (the embedding, the final norm, an untied head), or with
/// `unit = model` all of them. It gathers them once, before the first of its modules runs
/// forward, and keeps them gathered until its backward is done: FSDP2 does not reshard the
/// root after forward, since its parameters are the first the backward needs. Its
/// gradients are reduce-scattered together at its post-backward, and its hooks run once a
/// pass rather than once a module.
struct FSDPRoot {
    /// Positions of its modules among the chunk's units, in forward order.
    let members: [Int]
    /// Its modules' ops that hold parameters: their gradients wait for its post-backward.
    let parameterOps: Set<Int>

    /// The root of a chunk's `units`, or nil where it holds no parameters.
    init?(units: [LoweredUnit], unit: FSDPSettings.Unit) {
        let members = units.indices.filter { unit == .model || !units[$0].isLayer }
        var parameterOps: Set<Int> = []
        for position in members {
            for case let .op(index, op, _) in units[position].steps where op.parameters > 0 { parameterOps.insert(index) }
        }
        guard !parameterOps.isEmpty else { return nil }
        (self.members, self.parameterOps) = (members, parameterOps)
    }

    /// Its forward begins (and gathers) with this unit.
    func beginsForward(at position: Int) -> Bool { position == members.first }
    /// Its forward ends (and it reshards) after this unit.
    func endsForward(at position: Int) -> Bool { position == members.last }
    /// Its backward begins (and its hooks run) with this unit.
    func beginsBackward(at position: Int) -> Bool { position == members.last }
    /// Its backward ends (its post-backward runs) after this unit.
    func endsBackward(at position: Int) -> Bool { position == members.first }
}

/// Which collective a gradient bucket goes to: the data-parallel axes, and whether the
/// result is sharded (reduce-scatter) or replicated (all-reduce).
struct BucketKey: Hashable {
    var axes: [String]
    var sharded: Bool
}

/// Gradients (or parameters) waiting for a collective, per key, gathered into buckets of
/// whole tensors in the order they became ready: a bucket goes once it holds at least
/// `bucketBytes`.
struct GradientBuckets {
    struct Bucket {
        var key: BucketKey
        /// Each gradient tensor's bytes, in the order they joined.
        var tensors: [Int64]
        var bytes: Int64 { tensors.reduce(0, +) }
    }

    let bucketBytes: Int64
    /// Buckets that reached their size, in the order they did.
    private var closed: [Bucket] = []
    private var open: [BucketKey: Bucket] = [:]
    private var order: [BucketKey] = []

    init(bucketBytes: Int64) { self.bucketBytes = bucketBytes }

    /// One op's gradients (each tensor's bytes) join their key's open bucket. A bucket takes
    /// whole tensors and closes once it reaches its size, as PyTorch DDP and Megatron-LM
    /// assign gradients to buckets: a tensor larger than a bucket (GPT's embedding) is one
    /// bucket of its own, never split.
    mutating func add(_ tensors: [Int64], key: BucketKey) {
        guard !tensors.isEmpty else { return }
        if open[key] == nil { order.append(key) }
        var filled = open[key, default: Bucket(key: key, tensors: [])]
        filled.tensors += tensors
        if filled.bytes >= bucketBytes {
            closed.append(filled)
            open[key] = nil
            order.removeAll { $0 == key }
        } else {
            open[key] = filled
        }
    }

    /// Buckets ready to go: the closed ones, or (at the end) everything.
    mutating func drain(onlyFull: Bool) -> [Bucket] {
        var ready = closed
        closed = []
        if !onlyFull {
            ready += order.compactMap { open[$0] }.filter { $0.bytes > 0 }
            open = [:]
            order = []
        }
        return ready
    }
}

/// A memo of `OpShapes.replication` per op, shared by a builder's emissions.
private final class ReplicationCache {
    var values: [Int: Int] = [:]
}

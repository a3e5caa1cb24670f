import StrataCore
import StrataGraph
import Testing

/// The pipeline orders against the papers' figures, and their invariants over many shapes run
/// through a unit-time simulation.
@Suite struct PipelineSchedulerTests {
    // MARK: Golden orders

    /// One line per stage, `stage 0: F0 F1 …`; micro-batches from 0 where the papers count
    /// from 1. With `chunks`, each action also shows its model chunk local to the stage
    /// (`F4.1` is micro-batch 4 through the stage's second chunk), as the papers colour them.
    static func render(_ order: [[PipelineAction]], chunks: Bool = false) -> String {
        let p = order.count
        return order.enumerated().map { stage, actions in
            "stage \(stage): " + actions.map { action in
                "\(action.pass.rawValue)\(action.microBatch)" + (chunks ? ".\(action.chunk / p)" : "")
            }.joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Huang et al. 2019 (GPipe), figure 2c: four devices, four micro-batches; every forward,
    /// then the backwards from the last micro-batch to the first (`B3,3 B3,2 B3,1 B3,0`).
    @Test func gpipeMatchesHuangFigure2() {
        let order = PipelineScheduler.actions(.gpipe, stages: 4, microBatches: 4, virtualStages: 1)
        #expect(Self.render(order) == """
            stage 0: F0 F1 F2 F3 B3 B2 B1 B0
            stage 1: F0 F1 F2 F3 B3 B2 B1 B0
            stage 2: F0 F1 F2 F3 B3 B2 B1 B0
            stage 3: F0 F1 F2 F3 B3 B2 B1 B0
            """)
    }

    /// Narayanan et al. 2021, figure 4 (top): PipeDream-Flush with four devices and eight
    /// micro-batches. Device 1 reads `1 2 3 4 1 5 2 6 3 7 4 8 5 6 7 8`, device 4
    /// `1 1 2 2 … 8 8`.
    @Test func oneFOneBMatchesNarayananFigure4Top() {
        let order = PipelineScheduler.actions(.oneFOneB, stages: 4, microBatches: 8, virtualStages: 1)
        #expect(Self.render(order) == """
            stage 0: F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7
            stage 1: F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 F7 B5 B6 B7
            stage 2: F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 F6 B5 F7 B6 B7
            stage 3: F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7
            """)
    }

    /// Narayanan et al. 2021, figure 4 (bottom): interleaved 1F1B, four devices, two chunks
    /// each, eight micro-batches. Device 1 runs ten warm-up forwards (2·3 + 4: micro-batches
    /// 1–4 through its first chunk, 1–4 through its second, then 5–7 through the first)
    /// before its first backward, which is micro-batch 1 through its second chunk; the
    /// order is Megatron-LM's `get_model_chunk_id` walk.
    @Test func interleavedMatchesNarayananFigure4Bottom() {
        let order = PipelineScheduler.actions(.interleaved, stages: 4, microBatches: 8, virtualStages: 2)
        #expect(Self.render(order, chunks: true) == """
            stage 0: F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 F4.0 F5.0 F6.0 B0.1 F7.0 B1.1 F4.1 B2.1 \
            F5.1 B3.1 F6.1 B0.0 F7.1 B1.0 B2.0 B3.0 B4.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0
            stage 1: F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 F3.1 F4.0 B0.1 F5.0 B1.1 F6.0 B2.1 F7.0 B3.1 \
            F4.1 B0.0 F5.1 B1.0 F6.1 B2.0 F7.1 B3.0 B4.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0
            stage 2: F0.0 F1.0 F2.0 F3.0 F0.1 F1.1 F2.1 B0.1 F3.1 B1.1 F4.0 B2.1 F5.0 B3.1 F6.0 B0.0 \
            F7.0 B1.0 F4.1 B2.0 F5.1 B3.0 F6.1 B4.1 F7.1 B5.1 B6.1 B7.1 B4.0 B5.0 B6.0 B7.0
            stage 3: F0.0 F1.0 F2.0 F3.0 F0.1 B0.1 F1.1 B1.1 F2.1 B2.1 F3.1 B3.1 F4.0 B0.0 F5.0 B1.0 \
            F6.0 B2.0 F7.0 B3.0 F4.1 B4.1 F5.1 B5.1 F6.1 B6.1 F7.1 B7.1 B4.0 B5.0 B6.0 B7.0
            """)
        // Chunk c of the model runs on stage c % p: stage 1 holds chunks 1 and 5.
        #expect(Set(order[1].map(\.chunk)) == [1, 5])
    }

    /// Qi et al. 2024 (Zero Bubble Pipeline Parallelism), figure 3 (top), ZB-H1 with four
    /// stages and eight micro-batches (`I` is the paper's B). The first stage puts each W
    /// right after its B, as in 1F1B; the last runs `F I` pairs and holds three W passes
    /// back, spending them after its last B in what 1F1B leaves as cool-down bubble.
    @Test func zeroBubbleMatchesQiFigure3Top() {
        let order = PipelineScheduler.actions(.zeroBubble, stages: 4, microBatches: 8, virtualStages: 1)
        #expect(Self.render(order) == """
            stage 0: F0 F1 F2 F3 I0 W0 F4 I1 W1 F5 I2 W2 F6 I3 W3 F7 I4 W4 I5 W5 I6 W6 I7 W7
            stage 1: F0 F1 F2 I0 F3 I1 W0 F4 I2 W1 F5 I3 W2 F6 I4 W3 F7 I5 W4 I6 W5 I7 W6 W7
            stage 2: F0 F1 I0 F2 I1 F3 I2 W0 F4 I3 W1 F5 I4 W2 F6 I5 W3 F7 I6 W4 I7 W5 W6 W7
            stage 3: F0 I0 F1 I1 F2 I2 F3 I3 W0 F4 I4 W1 F5 I5 W2 F6 I6 W3 F7 I7 W4 W5 W6 W7
            """)
    }

    @Test func actionDescriptionShowsPassMicroBatchAndChunk() {
        #expect(PipelineAction(.backwardWeight, microBatch: 3, chunk: 5).description == "W3.5")
    }

    // MARK: Properties over many shapes

    /// One pipeline shape.
    struct Shape: CustomStringConvertible {
        var schedule: PipelineSchedule
        var stages: Int
        var microBatches: Int
        var virtualStages: Int
        var description: String {
            "\(schedule.rawValue) p=\(stages) m=\(microBatches) v=\(virtualStages)"
        }
    }

    /// Every schedule for p in 1…8 and m in 1…3p (v in 1…4 and m a multiple of p for
    /// interleaved), then 300 seeded shapes up to p = 16, m = 64.
    static let shapes: [Shape] = {
        var shapes: [Shape] = []
        for p in 1...8 {
            for m in 1...(3 * p) {
                for schedule in [PipelineSchedule.gpipe, .oneFOneB, .zeroBubble] {
                    shapes.append(Shape(schedule: schedule, stages: p, microBatches: m, virtualStages: 1))
                }
                if m % p == 0 {
                    for v in 1...4 {
                        shapes.append(Shape(schedule: .interleaved, stages: p, microBatches: m, virtualStages: v))
                    }
                }
            }
        }
        var random = SplitMix64(seed: 0x5354_5241_5441)  // "STRATA"
        for _ in 0..<300 {
            let schedule = PipelineSchedule.allCases.randomElement(using: &random)!
            let p = Int.random(in: 1...16, using: &random)
            if schedule == .interleaved {
                let m = p * Int.random(in: 1...4, using: &random)
                shapes.append(Shape(schedule: schedule, stages: p, microBatches: m,
                                    virtualStages: Int.random(in: 1...4, using: &random)))
            } else {
                shapes.append(Shape(schedule: schedule, stages: p,
                                    microBatches: Int.random(in: 1...64, using: &random), virtualStages: 1))
            }
        }
        return shapes
    }()

    static func order(_ shape: Shape) -> [[PipelineAction]] {
        PipelineScheduler.actions(shape.schedule, stages: shape.stages, microBatches: shape.microBatches,
                                  virtualStages: shape.virtualStages)
    }

    /// Stage s runs, exactly once each, every pass of every micro-batch through the chunks
    /// it holds (c % p == s), and nothing else; the same shape gives the same order.
    @Test func everyPassRunsOnceOnItsStage() {
        for shape in Self.shapes {
            let order = Self.order(shape)
            let (p, m, v) = (shape.stages, shape.microBatches, shape.virtualStages)
            let passes: [PipelineAction.Pass] =
                shape.schedule == .zeroBubble ? [.forward, .backwardInput, .backwardWeight] : [.forward, .backward]
            #expect(order.count == p, "\(shape)")
            for (s, actions) in order.enumerated() {
                var expected: Set<PipelineAction> = []
                for pass in passes {
                    for i in 0..<m {
                        for c in stride(from: s, to: p * v, by: p) {
                            expected.insert(PipelineAction(pass, microBatch: i, chunk: c))
                        }
                    }
                }
                #expect(actions.count == expected.count && Set(actions) == expected, "\(shape), stage \(s)")
            }
            #expect(order == Self.order(shape), "\(shape): not deterministic")
        }
    }

    /// What one run of an order took with unit costs.
    struct UnitTimeRun {
        /// When the last stage went idle.
        var makespan = 0
        /// Time each stage spent computing.
        var busy: [Int]
        /// Most (micro-batch, chunk) pairs whose forward had run and whose backward (B or I)
        /// had not, per stage.
        var inFlight: [Int]
        /// Most pairs whose forward had run and whose weight gradient (B or W) had not.
        var awaitingWeights: [Int]
    }

    /// Runs each stage's actions in order, each as soon as the stage is free and its input
    /// is ready: a forward waits for the previous chunk's forward of its micro-batch; a
    /// backward (B or I) for the next chunk's, or for the last chunk its own forward; W for
    /// its I. F = 1 and B = 2, or F = I = W = 1 for ZB-H1. Nil when no stage can move.
    static func simulate(_ order: [[PipelineAction]], chunks: Int) -> UnitTimeRun? {
        let p = order.count
        var run = UnitTimeRun(busy: Array(repeating: 0, count: p),
                              inFlight: Array(repeating: 0, count: p),
                              awaitingWeights: Array(repeating: 0, count: p))
        var finished: [PipelineAction: Int] = [:]
        var next = Array(repeating: 0, count: p)
        var free = Array(repeating: 0, count: p)
        var (live, unweighted) = (Array(repeating: 0, count: p), Array(repeating: 0, count: p))
        var moved = true
        while moved {
            moved = false
            for s in 0..<p {
                while next[s] < order[s].count {
                    let action = order[s][next[s]]
                    let (i, c) = (action.microBatch, action.chunk)
                    let input: PipelineAction? = switch action.pass {
                    case .forward: c > 0 ? PipelineAction(.forward, microBatch: i, chunk: c - 1) : nil
                    case .backward, .backwardInput:
                        c < chunks - 1 ? PipelineAction(action.pass, microBatch: i, chunk: c + 1)
                            : PipelineAction(.forward, microBatch: i, chunk: c)
                    case .backwardWeight: PipelineAction(.backwardInput, microBatch: i, chunk: c)
                    }
                    var start = free[s]
                    if let input {
                        guard let ready = finished[input] else { break }
                        start = max(start, ready)
                    }
                    let cost = action.pass == .backward ? 2 : 1
                    finished[action] = start + cost
                    free[s] = start + cost
                    run.busy[s] += cost
                    switch action.pass {
                    case .forward: live[s] += 1; unweighted[s] += 1
                    case .backward: live[s] -= 1; unweighted[s] -= 1
                    case .backwardInput: live[s] -= 1
                    case .backwardWeight: unweighted[s] -= 1
                    }
                    run.inFlight[s] = max(run.inFlight[s], live[s])
                    run.awaitingWeights[s] = max(run.awaitingWeights[s], unweighted[s])
                    next[s] += 1
                    moved = true
                }
            }
        }
        guard (0..<p).allSatisfy({ next[$0] == order[$0].count }) else { return nil }
        run.makespan = free.max() ?? 0
        return run
    }

    /// Interleaved warm-up forwards on stage s (Megatron-LM).
    static func interleavedWarmUp(stage s: Int, _ shape: Shape) -> Int {
        let (p, m, v) = (shape.stages, shape.microBatches, shape.virtualStages)
        return min(2 * (p - s - 1) + (v - 1) * p, m * v)
    }

    /// No order deadlocks, and each stage holds at most what its schedule promises:
    /// GPipe all m; 1F1B and ZB-H1 min(p − s, m) between F and B (I); ZB-H1 min(p, m) between
    /// F and W; interleaved Megatron's warm-up plus one, at most m·v. Each bound is reached.
    @Test func noDeadlockAndInFlightWithinTheScheduleBound() {
        for shape in Self.shapes {
            let (p, m, v) = (shape.stages, shape.microBatches, shape.virtualStages)
            guard let run = Self.simulate(Self.order(shape), chunks: p * v) else {
                Issue.record("\(shape): deadlock")
                continue
            }
            for s in 0..<p {
                let bound = switch shape.schedule {
                case .gpipe: m
                case .oneFOneB, .zeroBubble: min(p - s, m)
                case .interleaved: min(Self.interleavedWarmUp(stage: s, shape) + 1, m * v)
                }
                #expect(run.inFlight[s] == bound, "\(shape), stage \(s): \(run.inFlight[s]) in flight, bound \(bound)")
                if shape.schedule == .zeroBubble {
                    #expect(run.awaitingWeights[s] == min(p, m),
                            "\(shape), stage \(s): \(run.awaitingWeights[s]) awaiting W, bound \(min(p, m))")
                }
            }
        }
    }

    /// Bubble fraction = idle time / makespan of a stage (every stage does the same work).
    /// With F = 1 and B = 2, exactly:
    /// - GPipe and 1F1B: (p − 1)/(m + p − 1) (Huang et al. 2019; Narayanan et al. 2021, §2.2.1);
    /// - interleaved (unit costs per chunk): (p − 1)/(v·m + p − 1), the paper's bubble divided
    ///   by v, below 1F1B's for v ≥ 2, p ≥ 2;
    /// - ZB-H1 with F = I = W = 1 (the same 3 units per micro-batch and chunk): idle time
    ///   p − 1 + max(0, p − m). For m ≥ p that is p − 1, one third of 1F1B's 3(p − 1)
    ///   (Qi et al. 2024: (p − 1)(T_F + T_B − T_W) against (p − 1)(T_F + T_B + T_W)); the
    ///   fraction is then (p − 1)/(3m + p − 1), a little over one third of 1F1B's fraction
    ///   because the makespan shrinks too. For m < p the stages cannot hide all W passes.
    ///   Never more idle time than 1F1B.
    @Test func bubbleFractionMatchesTheAnalyticValue() {
        for shape in Self.shapes {
            let (p, m, v) = (shape.stages, shape.microBatches, shape.virtualStages)
            guard let run = Self.simulate(Self.order(shape), chunks: p * v) else {
                Issue.record("\(shape): deadlock")
                continue
            }
            #expect(Set(run.busy).count == 1, "\(shape): stages do unequal work \(run.busy)")
            let (makespan, idle) = (run.makespan, run.makespan - run.busy[0])
            #expect(idle >= 0, "\(shape)")
            switch shape.schedule {
            case .gpipe, .oneFOneB:
                #expect(idle * (m + p - 1) == (p - 1) * makespan,
                        "\(shape): bubble \(idle)/\(makespan), expected (p−1)/(m+p−1)")
            case .interleaved:
                #expect(idle * (v * m + p - 1) == (p - 1) * makespan,
                        "\(shape): bubble \(idle)/\(makespan), expected (p−1)/(v·m+p−1)")
                if v >= 2, p >= 2 {
                    #expect(idle * (m + p - 1) < (p - 1) * makespan, "\(shape): not below 1F1B's bubble")
                }
            case .zeroBubble:
                let oneFOneB = Self.simulate(
                    PipelineScheduler.actions(.oneFOneB, stages: p, microBatches: m, virtualStages: 1), chunks: p)!
                let oneFOneBIdle = oneFOneB.makespan - oneFOneB.busy[0]
                #expect(idle == p - 1 + max(0, p - m), "\(shape): idle \(idle), expected p−1+max(0, p−m)")
                #expect(idle <= oneFOneBIdle, "\(shape): idle \(idle) above 1F1B's \(oneFOneBIdle)")
                if m >= p {
                    #expect(3 * idle == oneFOneBIdle, "\(shape): idle \(idle), 1F1B's \(oneFOneBIdle)")
                }
            }
        }
    }
}

import ArgumentParser
import Foundation
import StrataCore
import StrataDSL
import StrataGraph
import StrataStore

/// `simulate sweep`: simulate every combination of a grid of parameter values.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Simulate every combination of a grid of 'let' parameter values and store each one.",
        discussion: """
            Each --grid name=v1,v2,… gives one 'let' parameter of the strategy a list of values \
            (what --set would take, without commas); the sweep is every combination, in order, the \
            last --grid varying fastest, numbered from 0. Each point is resolved, simulated and \
            stored as 'simulate run --set …' would, in a 'run' row, and recorded in 'sweep_point' \
            with its status: ok, invalid (the strategy rejects the values; the diagnostics are the \
            reason) or failed. Points whose inputs (strategy, imports, topology, values, cost \
            tables) the database already has are skipped, so running the same command again \
            resumes an interrupted sweep. Points are simulated on --jobs threads and stored one \
            transaction each: Ctrl-C keeps every finished point.

            --shard I/N runs only the points whose index is I modulo N, with I from 0 to N-1, \
            for spreading one sweep over machines; 'simulate merge' joins their databases.
            """
    )

    @OptionGroup var strategy: StrategyOptions

    @Option(name: .customLong("grid"),
            help: ArgumentHelp("A parameter and its values, e.g. --grid tp=1,2,4,8. Repeatable; one per parameter.",
                               valueName: "name=v1,v2,…"))
    var grid: [String] = []

    @Option(help: ArgumentHelp("The results database; created if missing.", valueName: "path"))
    var db = "strata.sqlite"

    @Option(help: ArgumentHelp("Points simulated at once (default: the number of active cores).", valueName: "n"))
    var jobs: Int?

    @Option(help: ArgumentHelp("Run only the points whose index is I modulo N (I from 0 to N-1).", valueName: "I/N"))
    var shard: String?

    func validate() throws {
        guard !grid.isEmpty else {
            throw ValidationError("give at least one --grid name=values, such as --grid tp=1,2,4")
        }
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let shard, SweepShard(argument: shard) == nil {
            throw ValidationError("--shard expects I/N with 0 ≤ I < N, such as --shard 0/4 (the first of four shards); got '\(shard)'")
        }
    }

    func run() throws {
        // Everything about the input is checked before the database is opened.
        let grid = try SweepGrid(arguments: grid)
        let shard = shard.flatMap(SweepShard.init(argument:))
        let text = try Pipeline.readText(strategy.file, what: "strategy file")
        let file = try Parser.parse(text, path: strategy.file)
        let sources = StrategySources(of: file)
        try grid.check(parameters: sources.parameters, strategyPath: strategy.file, fixed: strategy.parsedOverrides)
        if let topology = strategy.topology { _ = try Pipeline.readText(topology, what: "topology file") }

        let store = try RunStore(path: db, lockTimeout: 2)
        try store.checkWritable()
        let sweep = try store.findOrInsert(SweepRecord(
            createdAt: ISO8601DateFormatter().string(from: Date()), toolVersion: StrataVersion.current,
            strategyPath: strategy.file, strategySha256: SHA256.hex(of: text), grid: grid.json,
            topologyOverride: strategy.topology, traces: strategy.traces, points: grid.count,
            sweepSha256: Self.sweepHash(text: text, grid: grid, options: strategy)))
        let sweepID = sweep.id!
        let recorded = try store.points(ofSweep: sweepID)
        let evaluator = SweepEvaluator(strategyPath: strategy.file, strategyText: text, file: file, sources: sources, grid: grid,
                                       fixed: strategy.parsedOverrides, topologyOverride: strategy.topology,
                                       traces: strategy.traces, stored: try store.storedOutcomes())

        let points = (0..<grid.count).filter { shard?.contains($0) ?? true }
        let jobs = jobs ?? ProcessInfo.processInfo.activeProcessorCount
        var tally = SweepTally()
        var progress = SweepProgress(total: points.count)
        let pool = WorkerPool<PointOutcome>()
        let interrupt = SweepInterrupt(pool: pool)

        // A test hook: stop as Ctrl-C does once this many points have been simulated.
        let stopAfter = ProcessInfo.processInfo.environment["STRATA_SWEEP_STOP_AFTER"].flatMap(Int.init)
        let simulatedCount = Counter()
        let work: @Sendable (Int) -> PointOutcome = { [pool] index in
            let outcome = evaluator.evaluate(index)
            if let stopAfter, case .simulated = outcome, simulatedCount.increment() >= stopAfter { pool.stop() }
            return outcome
        }
        try pool.run(points, jobs: jobs, work: work) { index, outcome in
            let overrides = evaluator.overrides(at: index)
            let point = SweepPointRecord(sweepId: sweepID, point: index, overrides: RunRecords.canonicalJSON(overrides),
                                         inputsSha256: outcome.inputs, status: .ok, reason: nil, runId: nil)
            let started = DispatchTime.now()
            switch outcome {
            case let .simulated(_, rows):
                try store.record(point, run: (rows.run, rows.gpus, rows.links, rows.criticalPath))
                tally.simulated += 1
            case let .stored(_, known):
                var point = point
                switch known {
                case let .run(id): point.runId = id
                case let .invalid(reason): (point.status, point.reason) = (.invalid, reason)
                }
                if recorded[index] != point { try store.record(point, run: nil) }
                tally.skipped += 1
            case let .invalid(_, reason):
                var point = point
                (point.status, point.reason) = (.invalid, reason)
                try store.record(point, run: nil)
                tally.invalid.append((SweepGrid.label(grid.overrides(at: index)), reason))
            case let .failed(_, reason):
                var point = point
                (point.status, point.reason) = (.failed, reason)
                try store.record(point, run: nil)
                tally.failed.append((SweepGrid.label(grid.overrides(at: index)), reason))
            }
            evaluator.timings.add(.store, since: started)
            progress.update(done: tally.done, counts: tally.counts)
        }
        interrupt.cancel()
        progress.finish()

        let best = try store.bestFittingPoint(ofSweep: sweepID)
        print(SweepReport.summary(sweepID: sweepID, strategyPath: strategy.file, grid: grid, shard: shard,
                                  points: points.count, tally: tally, seconds: progress.elapsed, jobs: jobs, best: best,
                                  database: db))
        if ProcessInfo.processInfo.environment["STRATA_SWEEP_TIMINGS"] == "1" {
            print("  thread time   \(evaluator.timings.summary)")
        }
        if pool.isStopping, tally.done < points.count {
            Simulate.printError("""
                interrupted: \(tally.done) of \(points.count) points done and stored; \
                run the same command again to resume (stored points are skipped)
                """)
            throw ExitCode(130)
        }
    }

    /// Identifies a sweep across reruns and shards: the strategy text, the grid in order,
    /// the `--set` values, and the topology and tables options.
    static func sweepHash(text: String, grid: SweepGrid, options: StrategyOptions) -> String {
        SHA256.hex(of: ["strata sweep v1", SHA256.hex(of: text), grid.json, RunRecords.canonicalJSON(options.parsedOverrides),
                        options.topology ?? "", options.traces ?? ""].joined(separator: "\n"))
    }
}

/// What a sweep did with its points in this invocation.
struct SweepTally {
    var simulated = 0
    var skipped = 0
    /// Each newly invalid or failed point's values and reason, in the order found.
    var invalid: [(point: String, reason: String)] = []
    var failed: [(point: String, reason: String)] = []

    var done: Int { simulated + skipped + invalid.count + failed.count }

    /// `12 simulated, 3 skipped, 5 invalid`, for the progress line.
    var counts: String {
        "\(simulated) simulated, \(skipped) skipped, \(invalid.count) invalid" + (failed.isEmpty ? "" : ", \(failed.count) failed")
    }
}

/// Ctrl-C during a sweep: the first stops starting points (those in progress finish and
/// are stored, every finished one is already committed); a second quits at once.
final class SweepInterrupt: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(pool: WorkerPool<PointOutcome>) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [pool] in
            if pool.isStopping { _exit(130) }
            SweepProgress.write("\nstopping: finishing the points in progress (Ctrl-C again to quit at once)\n")
            pool.stop()
        }
        source.resume()
    }

    /// Restores Ctrl-C's default action.
    func cancel() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// A count shared by the worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    /// Adds one and returns the new count.
    func increment() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}

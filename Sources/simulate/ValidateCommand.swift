import ArgumentParser
import Foundation
import StrataCore
import StrataDSL
import StrataEngine
import StrataGraph

/// `simulate validate`: predictions against measured training iterations.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Compare predicted iteration time and peak memory with measured runs.",
        discussion: """
            Reads DIR/measurements.csv (written by scripts/validate/, one row per strategy), \
            simulates each strategy from the strategies folder, and prints measured, \
            predicted and the error for time and memory, the measured iterations' spread \
            (p10 to p90 as a share of the median, where measurements.csv has p10_s and \
            p90_s), and the share of the predicted iteration's critical path spent waiting \
            for the host ("host"), then the mean and \
            largest absolute errors (for time also apart for the predictions paced by the GPU \
            and by the host) and how well the predictions rank the strategies by time \
            (Kendall's τ), and how many predictions fall inside their measured p10 to p90. \
            Where measurements.csv has a launches column (run_all.py --launches), a line says \
            over how many launches each plan was measured, and where it has a "# timing:" \
            line (run_all.py writes synchronised, back_to_back or gpu_head_start), a line \
            says how the iterations were timed. \
            Where DIR/results/STRATEGY.json (the runner's result) holds host_forward_s and \
            host_backward_s, the host-paced predictions' host time to issue an iteration \
            follows, forward and backward, measured (the slowest rank) beside predicted.
            """
    )

    @Argument(help: ArgumentHelp("A folder with measurements.csv.", valueName: "dir"))
    var directory: String

    @Option(help: ArgumentHelp("Where the measured strategies' files are.", valueName: "dir"))
    var strategies = "strategies/validation"

    @Option(help: ArgumentHelp("Measured kernel tables to price ops with (default: traces/ beside the topology's folder).",
                               valueName: "dir"))
    var traces: String?

    /// The same strategies measured on another cluster (the H100 plans run on H200s) are
    /// validated against that cluster's topology, without a copy of every strategy file.
    @Option(help: ArgumentHelp("Use this topology XML instead of the ones the strategies name: the cluster the measurements ran on.",
                               valueName: "path"))
    var topology: String?

    /// A host-paced prediction moves with the host's speed, which differs between a job's
    /// processes; this prices the host as the slowest of them would run.
    @Option(help: ArgumentHelp("Price every host cost at this multiple, such as the slowest process over the median that host_spread.py measured, to see how far the host-paced predictions move.",
                               valueName: "factor"))
    var hostScale: Double?

    func validate() throws {
        if let hostScale, !(hostScale > 0 && hostScale.isFinite) {
            throw ValidationError("--host-scale must be a positive number, such as 1.5, got \(hostScale)")
        }
    }

    func run() throws {
        let path = (directory as NSString).appendingPathComponent("measurements.csv")
        let table = try MeasurementTable(path: path)
        var rows: [ValidationRow] = []
        var sources: [String] = []
        for measurement in table.rows {
            let file = (strategies as NSString).appendingPathComponent(measurement.strategy + ".strata")
            let options = try StrategyOptions.parse([file] + (topology.map { ["--topology", $0] } ?? []))
            let (_, resolved) = try Pipeline(options: options).resolve()
            // With --host-scale, the strategy's costs with every host figure scaled.
            let scaled = try hostScale.map { factor in
                var costs = try Pipeline.costs(for: resolved, traces: traces)
                costs.launch = costs.launch.hostScaled(by: factor)
                return costs
            }
            let (_, result, metrics, costs) = try Pipeline.simulate(resolved, traces: traces, costs: scaled)
            let source = "\(Resolver.normalized(resolved.topologyPath)), costs \(costs)"
            if !sources.contains(source) { sources.append(source) }
            let resultFile = ((directory as NSString).appendingPathComponent("results") as NSString)
                .appendingPathComponent(measurement.strategy + ".json")
            rows.append(ValidationRow(strategy: measurement.strategy, gpus: measurement.gpus,
                                      measuredSeconds: measurement.seconds, measuredRange: measurement.range,
                                      launches: measurement.launches,
                                      predictedSeconds: metrics.iterationTimeSeconds,
                                      hostShare: RunReport.hostShare(result),
                                      measuredBytes: measurement.peakBytes, predictedBytes: Double(metrics.peakMemoryBytes),
                                      measuredHost: try MeasuredHost(path: resultFile),
                                      predictedHost: RunReport.busiestHost(result).host))
        }
        // Which cluster and which tables the predictions came from: the same measurements
        // read very differently against another GPU's tables or another host's costs.
        for source in sources { print("predicted on \(source)") }
        if let hostScale { print("every host cost times \(Format.fixed(hostScale, 3)) (--host-scale)") }
        print(ValidationReport.render(rows, source: path, timing: table.timing))
    }
}

/// One strategy's measured and predicted figures.
struct ValidationRow {
    var strategy: String
    var gpus: Int
    var measuredSeconds: Double
    /// The measured iterations' 10th and 90th percentiles, where the file has them: an
    /// error inside this range is as large as the run's own iteration-to-iteration spread.
    var measuredRange: ClosedRange<Double>?
    /// How many launches (each in processes of its own) the measurement is the median of: a
    /// host-paced plan runs at the speed of the processes it gets, so one launch is one draw.
    var launches = 1
    var predictedSeconds: Double
    /// The share of the predicted iteration's critical path spent waiting for the host to
    /// issue a kernel: where it is large the prediction, and the measurement, follow the
    /// host's speed, which moves far more between machines than the GPUs' does
    /// (docs/accuracy.md).
    var hostShare: Double
    var measuredBytes: Double
    var predictedBytes: Double
    /// The runner's host time to issue an iteration, where its result file says, and
    /// Strata's, of the GPU whose host works longest.
    var measuredHost: MeasuredHost? = nil
    var predictedHost = HostIssue()

    var timeError: Double { (predictedSeconds - measuredSeconds) / measuredSeconds }
    /// p10 to p90 as a share of the median.
    var spread: Double? { measuredRange.map { ($0.upperBound - $0.lowerBound) / measuredSeconds } }
    var predictionInsideRange: Bool? { measuredRange.map { $0.contains(predictedSeconds) } }
    var memoryError: Double { (predictedBytes - measuredBytes) / measuredBytes }
}

/// The host time a runner's result file (`scripts/validate/run.py`'s JSON) reports for an
/// iteration: per pass, the slowest rank's median. Only a host-paced run's figures are its
/// host's own; a GPU-paced run's host waits on a full launch queue (docs/cost-model.md).
struct MeasuredHost {
    var forward: Double
    var backward: Double

    /// Nil where the file is absent or lacks the figures; a file that is not JSON is bad input.
    init?(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text = try Pipeline.readText(path, what: "runner result")
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: 1, column: 1), "not a JSON object",
                                             help: "give the result file scripts/validate/run.py wrote, or remove it"))
        }
        func slowest(_ key: String) -> Double? { (object[key] as? [Double])?.max() }
        guard let forward = slowest("host_forward_s"), let backward = slowest("host_backward_s") else { return nil }
        (self.forward, self.backward) = (forward, backward)
    }
}

/// The rows of a measurements file: `# key: value` header lines, a CSV header, then rows.
struct MeasurementTable {
    struct Row {
        var strategy: String
        var gpus: Int
        var seconds: Double
        /// p10_s to p90_s, where the file has both columns.
        var range: ClosedRange<Double>?
        var peakBytes: Double
        /// The `launches` column (run_all.py --launches), 1 where the file has none.
        var launches = 1
    }

    /// How the runner timed the iterations: a table's `# timing:` line (run_all.py writes
    /// one), nil where it has none.
    enum Timing: String {
        /// Each iteration started behind an idle GPU after a sync, timed by the host's clock.
        case synchronised
        /// One iteration after another, as a training loop runs them, timed on the GPU
        /// (run.py --back-to-back).
        case backToBack = "back_to_back"
        /// Each started after a GPU sleep queued before it, so the host began ahead of its
        /// GPU, timed on the GPU from the sleep's end (run.py --gpu-head-start).
        case gpuHeadStart = "gpu_head_start"
    }

    var rows: [Row] = []
    var timing: Timing?

    init(path: String) throws {
        let text = try Pipeline.readText(path, what: "measurements file")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (number, line) in lines.enumerated() where line.hasPrefix("# timing:") {
            let value = line.dropFirst("# timing:".count)
            let blanks = value.prefix { $0.isWhitespace }.count
            let word = value.dropFirst(blanks).prefix { !$0.isWhitespace }
            guard let timing = Timing(rawValue: String(word)) else {
                // The column of the word itself, 1-based.
                let column = "# timing:".count + blanks + 1
                throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: column),
                                                 "unknown timing '\(word)'",
                                                 help: "write synchronised, back_to_back or gpu_head_start, as run_all.py does, or drop the line"))
            }
            self.timing = timing
        }
        var header: [String]?
        for (number, line) in lines.enumerated() where !line.hasPrefix("#") && !line.trimmingWhitespace().isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
            guard let columns = header else {
                header = fields
                for required in ["strategy", "gpus", "iteration_time_s", "peak_allocated_bytes"] where !fields.contains(required) {
                    throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: 1),
                                                     "the header lacks the column '\(required)'",
                                                     help: "measurements.csv needs strategy, gpus, iteration_time_s and peak_allocated_bytes"))
                }
                continue
            }
            func field(_ name: String) -> String { fields[columns.firstIndex(of: name)!] }
            guard fields.count == columns.count, let gpus = Int(field("gpus")), let seconds = Double(field("iteration_time_s")),
                  let bytes = Double(field("peak_allocated_bytes")) else {
                throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: 1),
                                                 "expected \(columns.count) fields with numbers in gpus, iteration_time_s and peak_allocated_bytes",
                                                 help: "fix or remove this row"))
            }
            var range: ClosedRange<Double>?
            if columns.contains("p10_s"), columns.contains("p90_s") {
                guard let p10 = Double(field("p10_s")), let p90 = Double(field("p90_s")), p10 <= seconds, seconds <= p90 else {
                    throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: 1),
                                                     "p10_s and p90_s must be numbers with p10_s ≤ iteration_time_s ≤ p90_s",
                                                     help: "write the measured iterations' percentiles, or drop both columns"))
                }
                range = p10...p90
            }
            var launches = 1
            if columns.contains("launches") {
                guard let count = Int(field("launches")), count >= 1 else {
                    throw DiagnosticError(Diagnostic(at: SourceLocation(file: path, line: number + 1, column: 1),
                                                     "launches must be a whole number, 1 or more",
                                                     help: "write how many launches the row's time is the median of, or drop the column"))
                }
                launches = count
            }
            rows.append(Row(strategy: field("strategy"), gpus: gpus, seconds: seconds, range: range, peakBytes: bytes,
                            launches: launches))
        }
    }
}

/// The comparison table and its summary.
enum ValidationReport {
    static func render(_ rows: [ValidationRow], source: String, timing: MeasurementTable.Timing? = nil) -> String {
        var table = [["strategy", "gpus", "measured", "spread", "predicted", "error", "host", "memory measured", "predicted", "error"]]
        for row in rows {
            table.append([row.strategy, String(row.gpus), Format.duration(row.measuredSeconds), row.spread.map(Format.percent) ?? "-",
                          Format.duration(row.predictedSeconds),
                          signed(row.timeError), Format.percent(row.hostShare), Format.bytes(row.measuredBytes),
                          Format.bytes(row.predictedBytes), signed(row.memoryError)])
        }
        var lines = aligned(table)
        guard !rows.isEmpty else { return "no measurements in \(source)" }
        lines.append("")
        lines.append("time:   " + meanAndMax(rows.map { abs($0.timeError) }))
        let gpuPaced = rows.filter { $0.hostShare < RunReport.hostPacedShare }.map { abs($0.timeError) }
        let hostPaced = rows.filter { $0.hostShare >= RunReport.hostPacedShare }.map { abs($0.timeError) }
        if !gpuPaced.isEmpty, !hostPaced.isEmpty {
            lines.append("        host under \(Format.percent(RunReport.hostPacedShare)) of the critical path: " +
                         "\(meanAndMax(gpuPaced)) over \(gpuPaced.count); the rest: \(meanAndMax(hostPaced)) over \(hostPaced.count)")
        }
        lines.append("memory: " + meanAndMax(rows.map { abs($0.memoryError) }))
        lines.append("rank agreement by time: Kendall τ = \(Format.fixed(kendallTau(rows.map(\.measuredSeconds), rows.map(\.predictedSeconds)), 3)) over \(rows.count) strategies")
        let ranged = rows.compactMap(\.predictionInsideRange)
        if !ranged.isEmpty {
            lines.append("inside the measured p10 to p90: \(ranged.filter { $0 }.count) of \(ranged.count) predictions")
        }
        if let most = rows.map(\.launches).max(), most > 1 {
            let fewest = rows.map(\.launches).min() ?? most
            let count = fewest == most ? "\(most)" : "\(fewest) to \(most)"
            lines.append("measured over \(count) launches a plan: the median of their medians, p10 to p90 over their iterations pooled")
        }
        switch timing {
        case .backToBack?:
            lines.append("iterations timed back to back, as a training loop runs them (run.py --back-to-back)")
        case .gpuHeadStart?:
            lines.append("iterations timed on the GPU after a head start for the host (run.py --gpu-head-start)")
        case .synchronised?:
            lines.append("iterations timed each behind an idle GPU after a sync: every rank's host starts each one behind "
                         + "its GPU, which a training loop pays once")
        case nil: break
        }
        lines += hostLines(rows)
        return lines.joined(separator: "\n")
    }

    /// The host-paced predictions' host time beside the runner's, where its results say:
    /// where such a prediction is off, whether the host's cost is.
    private static func hostLines(_ rows: [ValidationRow]) -> [String] {
        let paced = rows.filter { $0.hostShare >= RunReport.hostPacedShare && $0.measuredHost != nil }
        guard !paced.isEmpty else { return [] }
        var table = [["strategy", "forward measured", "predicted", "error", "backward measured", "predicted", "error"]]
        for row in paced {
            let measured = row.measuredHost!
            let forward = row.predictedHost.forward.seconds, backward = row.predictedHost.backward.seconds
            table.append([row.strategy, Format.duration(measured.forward), Format.duration(forward),
                          signed((forward - measured.forward) / measured.forward),
                          Format.duration(measured.backward), Format.duration(backward),
                          signed((backward - measured.backward) / measured.backward)])
        }
        return ["", "host-paced: the host's time to issue an iteration, the slowest rank's (results/*.json) and predicted"]
            + aligned(table)
    }

    /// Rows of cells as lines: the first column left-aligned, the rest right-aligned, each
    /// padded to its widest cell.
    private static func aligned(_ table: [[String]]) -> [String] {
        let widths = table[0].indices.map { column in table.map { $0[column].count }.max()! }
        return table.map { row in
            row.enumerated().map { $0.offset == 0 ? $0.element.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                : String(repeating: " ", count: widths[$0.offset] - $0.element.count) + $0.element }.joined(separator: "  ")
        }
    }

    /// "mean |error| 3.4 %, max 5.4 %" of non-empty absolute errors.
    private static func meanAndMax(_ errors: [Double]) -> String {
        "mean |error| \(Format.percent(errors.reduce(0, +) / Double(errors.count))), max \(Format.percent(errors.max()!))"
    }

    private static func signed(_ fraction: Double) -> String {
        (fraction >= 0 ? "+" : "") + Format.percent(fraction)
    }

    /// Kendall's τ-b between two rankings (Kendall 1945): concordant minus discordant pairs
    /// over the pairs not tied in each ranking.
    static func kendallTau(_ a: [Double], _ b: [Double]) -> Double {
        var concordant = 0.0, discordant = 0.0, tiesA = 0.0, tiesB = 0.0
        for i in a.indices {
            for j in a.indices where j > i {
                let x = (a[i] - a[j]).sign == .minus ? -1.0 : (a[i] == a[j] ? 0 : 1)
                let y = (b[i] - b[j]).sign == .minus ? -1.0 : (b[i] == b[j] ? 0 : 1)
                if x == 0, y == 0 { continue }
                if x == 0 { tiesA += 1 } else if y == 0 { tiesB += 1 } else if x == y { concordant += 1 } else { discordant += 1 }
            }
        }
        let denominator = ((concordant + discordant + tiesA) * (concordant + discordant + tiesB)).squareRoot()
        return denominator == 0 ? 1 : (concordant - discordant) / denominator
    }
}

import Foundation
import Testing

/// `validate`, `export` and `graph` end to end, against snapshots.
@Suite struct ValidateExportGraphTests {
    /// `simulate validate ARGUMENTS` succeeds and prints the golden `name`; its output, for
    /// what a test expects of it besides.
    @discardableResult
    private func validated(_ name: String, _ arguments: [String]) throws -> Golden.Output {
        let output = try Golden.run(["validate"] + arguments)
        #expect(output.status == 0, "\(output.stderr)")
        try Golden.check(name, arguments: ["validate"] + arguments, output: output)
        return output
    }

    /// `simulate validate FOLDER` refuses bad input with exit status 2, a located error
    /// beginning `error`, and nothing on standard output.
    private func refused(_ folder: String, _ error: String) throws {
        let output = try Golden.run(["validate", folder])
        #expect(output.status == 2)
        #expect(output.stderr.hasPrefix(error), "\(output.stderr)")
        #expect(output.stdout.isEmpty, "nothing is printed for input it cannot read")
    }

    @Test func validateComparesPredictionsWithMeasurements() throws {
        try validated("validate-fixture", ["Tests/Fixtures/validation"])
    }

    /// The same measurements against another cluster: the H200 node's kernels are priced
    /// from its own tables (traces/h200-sxm), and the header says so.
    @Test func validateOnAnotherTopology() throws {
        let arguments = ["Tests/Fixtures/validation", "--topology", "topologies/h200-sxm-4gpu.xml"]
        let output = try validated("validate-fixture-h200", arguments)
        #expect(output.stdout.hasPrefix("predicted on topologies/h200-sxm-4gpu.xml, costs measured (traces/h200-sxm)"))
        let missing = try Golden.run(["validate"] + arguments.dropLast() + ["topologies/none.xml"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("topologies/none.xml"))
    }

    /// With the measured percentiles, each row shows the run's own spread and the summary
    /// counts the predictions inside it (gpt-350m-base's is, ddp2's is not).
    @Test func validateShowsTheMeasuredSpread() throws {
        let output = try validated("validate-fixture-spread", ["Tests/Fixtures/validation-spread"])
        #expect(output.stdout.contains("inside the measured p10 to p90: 1 of 2 predictions"))
        #expect(!output.stdout.contains("launches"), "one launch a plan goes unsaid")
    }

    /// Measured over several launches (run_all.py --launches), the summary says over how
    /// many; a row of no launch is bad input, located.
    @Test func validateSaysOverHowManyLaunches() throws {
        let output = try validated("validate-fixture-launches", ["Tests/Fixtures/validation-launches"])
        #expect(output.stdout.contains("measured over 1 to 3 launches a plan: the median of their medians"))
        try refused("Tests/Fixtures/validation-bad-launches",
                    "Tests/Fixtures/validation-bad-launches/measurements.csv:3:1: error: launches must be a whole number, 1 or more")
    }

    /// `--host-scale F` prices every host cost at F times (the slowest of a job's processes):
    /// the host-paced prediction (llama-1b-tp2's) moves by much, the GPU-paced ones hardly,
    /// and the header says so; a factor that is not positive is refused before anything runs.
    @Test func validatePricesTheHostAtAScale() throws {
        let plain = try Golden.run(["validate", "Tests/Fixtures/validation"])
        let slower = try validated("validate-fixture-host-scale", ["Tests/Fixtures/validation", "--host-scale", "1.5"])
        #expect(slower.stdout.contains("every host cost times 1.500 (--host-scale)"))
        func predicted(_ output: Golden.Output, _ strategy: String) throws -> Double {
            let line = try #require(output.stdout.split(separator: "\n").first { $0.hasPrefix(strategy + " ") })
            let fields = line.split(separator: " ")
            return try #require(Double(fields[5]))  // strategy gpus measured ms spread… : the predicted time
        }
        let tp = try predicted(slower, "llama-1b-tp2") / predicted(plain, "llama-1b-tp2")
        let base = try predicted(slower, "gpt-350m-base") / predicted(plain, "gpt-350m-base")
        #expect(tp > 1.05, "the host-paced plan follows its host: \(tp)")
        #expect(base < 1.02, "the GPU-paced plan hardly moves: \(base)")
        for bad in ["0", "-1", "nan"] {
            let refused = try Golden.run(["validate", "Tests/Fixtures/validation", "--host-scale=\(bad)"])
            #expect(refused.status == 2, "\(bad): \(refused.stderr)")
            #expect(refused.stderr.contains("--host-scale must be a positive number"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
    }

    /// A table that says how its iterations were timed (run_all.py's `# timing:` line) has
    /// validate say it; a timing it does not know is bad input, located at the word.
    @Test func validateSaysHowTheIterationsWereTimed() throws {
        let output = try validated("validate-fixture-timing", ["Tests/Fixtures/validation-timing"])
        #expect(output.stdout.contains("iterations timed back to back, as a training loop runs them"))
        let untimed = try Golden.run(["validate", "Tests/Fixtures/validation-spread"])
        #expect(!untimed.stdout.contains("iterations timed"), "a table without the line leaves it unsaid")
        try refused("Tests/Fixtures/validation-bad-timing",
                    "Tests/Fixtures/validation-bad-timing/measurements.csv:2:11: error: unknown timing 'sometimes'")
    }

    /// With the runner's results beside the measurements, the host-paced predictions
    /// (moe-base's, not gpt-350m-base's) show the host's time beside the slowest rank's.
    @Test func validateShowsTheHostOfHostPacedPredictions() throws {
        let output = try validated("validate-fixture-host", ["Tests/Fixtures/validation-host"])
        let hostLines = output.stdout.components(separatedBy: "host-paced:").last ?? ""
        #expect(hostLines.contains("moe-base         80.000 ms"), "the slowest rank's forward")
        #expect(!hostLines.contains("gpt-350m-base"), "a GPU-paced prediction has no host line")
        try refused("Tests/Fixtures/validation-host-bad",
                    "Tests/Fixtures/validation-host-bad/results/moe-base.json:1:1: error: not a JSON object")
    }

    @Test func percentilesAroundTheMedianAreRequired() throws {
        try refused("Tests/Fixtures/validation-bad-range",
                    "Tests/Fixtures/validation-bad-range/measurements.csv:4:1: error: p10_s and p90_s must be numbers with p10_s ≤ iteration_time_s ≤ p90_s")
    }

    @Test func validateWithoutMeasurementsIsBadInput() throws {
        let output = try Golden.run(["validate", "Tests/Fixtures"])
        #expect(output.status == 2)
        #expect(output.stderr.hasPrefix("Tests/Fixtures/measurements.csv: error: no such measurements file"))
    }

    @Test func exportIsStableJSONWithEveryRank() throws {
        let arguments = ["export", "strategies/small/tp2-dp2.strata"]
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        let plan = try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any]
        #expect((plan?["ranks"] as? [Any])?.count == 4)
        #expect(plan?["uniform"] as? Bool == true)
        let again = try Golden.run(arguments)
        #expect(again.stdout == output.stdout, "export is deterministic")
    }

    @Test(arguments: [
        ("graph-tp2-dp2", ["graph", "strategies/small/tp2-dp2.strata", "--rank", "3", "--limit", "24"]),
        ("graph-pp4-dot", ["graph", "strategies/small/pp4-1f1b.strata", "--rank", "1", "--dot", "--limit", "12"]),
        ("help-graph", ["graph", "--help"]),
        ("help-export", ["export", "--help"]),
        ("help-validate", ["validate", "--help"]),
    ])
    func snapshots(name: String, arguments: [String]) throws {
        let output = try Golden.run(arguments)
        #expect(output.status == 0, "\(output.stderr)")
        try Golden.check(name, arguments: arguments, output: output)
    }

    @Test func graphRejectsARankOutsideTheJob() throws {
        let output = try Golden.run(["graph", "strategies/small/tp2-dp2.strata", "--rank", "9"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("the strategy runs on 4 GPUs"))
    }
}

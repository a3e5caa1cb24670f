import Foundation
import Testing

/// Every kind of bad input gets `file:line:col: error:` with the rule and the fix, exit
/// status 2, and leaves the results database untouched.
@Suite struct BadInputTests {
    static let example = "strategies/examples/gpt-125m-dp4.strata"

    @Test(arguments: [
        ("bad-strategy-syntax", ["run", "Tests/Fixtures/syntax-errors.strata"]),
        ("bad-strategy-batch", ["run", "Tests/Fixtures/batch-indivisible.strata"]),
        ("bad-strategy-misspellings", ["run", "Tests/Fixtures/misspellings.strata"]),
        ("bad-strategy-missing-file", ["run", "Tests/Fixtures/no-such-file.strata"]),
        ("bad-topology-missing-file", ["run", "Tests/Fixtures/missing-topology.strata"]),
        ("bad-set-unknown-parameter", ["run", example, "--set", "tp=4"]),
        ("bad-set-malformed", ["run", example, "--set", "dp"]),
        ("bad-check-misspellings", ["check", "Tests/Fixtures/misspellings.strata"]),
        ("bad-topology-malformed", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-malformed.xml"]),
        ("bad-topology-schema", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-schema-invalid.xml"]),
        ("bad-topology-no-unit", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-no-unit.xml"]),
        ("bad-topology-unknown-unit", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-unknown-unit.xml"]),
        ("bad-topology-gpu-without-figures", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-no-figures.xml"]),
        ("bad-topology-unknown-gpu-type", ["run", "Tests/Fixtures/tiny-dp2.strata", "--topology", "Tests/Fixtures/topology-unknown-gpu.xml"]),
    ])
    func badInputIsDiagnosedAndStoresNothing(name: String, arguments: [String]) throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite")
        let isRun = arguments.first == "run"
        let output = try Golden.run(arguments + (isRun ? ["--db", database.path] : []))
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: database.path), "bad input must not create the database")
        try Golden.check(name, arguments: arguments, output: output)
    }

    @Test func badInputKeepsEveryStoredRun() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("runs.sqlite").path
        let good = try Golden.run(["run", Self.example, "--db", database])
        #expect(good.status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: database))
        let bad = try Golden.run(["run", "Tests/Fixtures/batch-indivisible.strata", "--db", database])
        #expect(bad.status == 2)
        let after = try Data(contentsOf: URL(fileURLWithPath: database))
        #expect(before == after, "a failed run must leave the database byte for byte as it was")
        let count = try Golden.run(["query", "--db", database, "--sql", "SELECT count(*) AS runs FROM run", "--csv"])
        #expect(count.stdout == "runs\n1\n")
    }
}

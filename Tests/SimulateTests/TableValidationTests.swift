import Testing

/// Measured tables the cost model would misread are rejected with the file, line and reason.
@Suite struct TableValidationTests {
    @Test(arguments: ["missing-column", "non-numeric", "other-gpu"])
    func badTablesAreRejected(name: String) throws {
        let arguments = ["calibrate", "--traces", "Tests/Fixtures/traces-bad/\(name)"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        try Golden.check("table-\(name)", arguments: arguments, output: output)
    }
}

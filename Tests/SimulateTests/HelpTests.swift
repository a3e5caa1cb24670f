import Testing

/// The help text is what users read first: every command's help is a snapshot.
@Suite struct HelpTests {
    @Test(arguments: [
        ("help-root", ["--help"]),
        ("help-run", ["run", "--help"]),
        ("help-check", ["check", "--help"]),
        ("help-query", ["query", "--help"]),
        ("help-sweep", ["sweep", "--help"]),
        ("help-merge", ["merge", "--help"]),
        ("help-plot", ["plot", "--help"]),
        ("help-plot-timeline", ["plot", "timeline", "--help"]),
        ("help-plot-scatter", ["plot", "scatter", "--help"]),
        ("help-plot-breakdown", ["plot", "breakdown", "--help"]),
    ])
    func helpText(name: String, arguments: [String]) throws {
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        try Golden.check(name, arguments: arguments, output: output)
    }

    @Test func versionPrintsTheToolVersion() throws {
        let output = try Golden.run(["--version"])
        #expect(output.status == 0)
        #expect(output.stdout == "0.1.0\n")
    }

    @Test func aMisspelledOptionIsBadInput() throws {
        let arguments = ["run", "strategies/examples/gpt-125m-dp4.strata", "--topolgy", "x.xml"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("usage-misspelled-option", arguments: arguments, output: output)
    }
}

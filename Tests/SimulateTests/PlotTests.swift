import Foundation
import Testing

/// `simulate plot`: each kind of plot of a small deterministic case is an SVG snapshot,
/// a stored run replays to the timeline it was stored with, and bad input is diagnosed.
@Suite struct PlotTests {
    @Test func timelineOfATinyPipeline() throws {
        let arguments = ["plot", "timeline", SweepFixture.layouts, "--set", "pp=2", "--set", "dp=1"]
        let output = try Golden.run(arguments)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.hasPrefix("<?xml") && output.stdout.hasSuffix("</svg>\n"))
        try Golden.check("plot-timeline-tiny-pp2", arguments: arguments, output: output)
    }

    @Test func plotsOfAStoredSweep() throws {
        let (folder, database) = try SweepFixture.database()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, [String])] = [
            ("plot-scatter-gpus", ["plot", "scatter", "--db", database]),
            ("plot-scatter-memory", ["plot", "scatter", "--db", database, "--x", "memory"]),
            ("plot-breakdown", ["plot", "breakdown", "--db", database, "1", "2", "3", "4", "5"]),
        ]
        for (name, arguments) in cases {
            let output = try Golden.run(arguments)
            #expect(output.status == 0, "\(name): \(output.stderr)")
            try Golden.check(name, arguments: arguments.map { $0 == database ? "$DB" : $0 }, output: output,
                             replacing: [database: "$DB"])
        }

        // A stored run replays exactly: no warning, and the same lanes as plotting the file.
        let replay = try Golden.run(["plot", "timeline", "--run", "4", "--db", database])
        #expect(replay.status == 0)
        #expect(replay.stderr.isEmpty, "replaying run 4 warned: \(replay.stderr)")
        let direct = try Golden.run(["plot", "timeline", SweepFixture.layouts, "--set", "pp=2", "--set", "dp=1"])
        func body(_ svg: String) -> String { svg.components(separatedBy: "<g class=\"legend\">").last ?? "" }
        #expect(body(replay.stdout) == body(direct.stdout))

        // Written to a file with -o.
        let file = folder.appendingPathComponent("breakdown.svg").path
        let written = try Golden.run(["plot", "breakdown", "--db", database, "1", "-o", file])
        #expect(written.status == 0 && written.stdout.isEmpty)
        #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("<?xml"))
    }

    @Test func badPlotRequestsAreDiagnosed() throws {
        let (folder, database) = try SweepFixture.database()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, [String])] = [
            ("bad-plot-timeline-nothing", ["plot", "timeline"]),
            ("bad-plot-timeline-file-and-run", ["plot", "timeline", SweepFixture.layouts, "--run", "1", "--db", database]),
            ("bad-plot-timeline-unknown-run", ["plot", "timeline", "--run", "42", "--db", database]),
            ("bad-plot-breakdown-unknown-run", ["plot", "breakdown", "--db", database, "1", "6"]),
            ("bad-plot-breakdown-no-runs", ["plot", "breakdown", "--db", database]),
            ("bad-plot-scatter-no-match", ["plot", "scatter", "--db", database, "--strategy", "nothing/*"]),
        ]
        for (name, arguments) in cases {
            let output = try Golden.run(arguments)
            #expect(output.status == 2, "\(name)")
            #expect(output.stdout.isEmpty, "\(name)")
            try Golden.check(name, arguments: arguments.map { $0 == database ? "$DB" : $0 }, output: output,
                             replacing: [database: "$DB"])
        }
    }
}

/// The database keeps a run's strategy text but not the files it imports: a replay after
/// an imported file changed still draws, and warns that it no longer matches the run.
@Suite struct ReplayTests {
    @Test func aReplayWhoseImportChangedWarns() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fixtures = Golden.packageRoot.appendingPathComponent("Tests/Fixtures")
        let base = folder.appendingPathComponent("base.strata")
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("tiny-layouts.strata"), to: base)
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent("test-2gpu.xml"),
                                         to: folder.appendingPathComponent("test-2gpu.xml"))
        let strategy = folder.appendingPathComponent("run.strata").path
        try "import \"base.strata\"\n".write(toFile: strategy, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("runs.sqlite").path
        #expect(try Golden.run(["run", strategy, "--db", database]).status == 0)

        let same = try Golden.run(["plot", "timeline", "--run", "1", "--db", database])
        #expect(same.status == 0 && same.stderr.isEmpty, "\(same.stderr)")

        let text = try String(contentsOf: base, encoding: .utf8).replacingOccurrences(of: "layers = 2", with: "layers = 4")
        try text.write(to: base, atomically: true, encoding: .utf8)
        let changed = try Golden.run(["plot", "timeline", "--run", "1", "--db", database])
        #expect(changed.status == 0)
        #expect(changed.stdout.hasPrefix("<?xml"))
        #expect(changed.stderr.hasPrefix("\(strategy): warning: run 1 replays in "), "\(changed.stderr)")
        #expect(changed.stderr.contains("help: its imported files, cost tables or Strata itself"))
    }
}

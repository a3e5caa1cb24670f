import Foundation
import Testing

/// One fixture per diagnostic the strategy language can produce, each checked against its
/// exact text, so a message that changes, moves or stops firing is noticed.
///
/// A fixture is `Tests/Fixtures/diagnostics/NAME.strata`; its first line is a comment
/// naming the rule. A line `// simulate: run --set x=1` picks the subcommand (default
/// `check`) and extra arguments; `run` gets a temporary `--db` that must not be created.
/// Files the fixtures import or read live in the `support/` folder beside them.
@Suite struct DiagnosticGoldenTests {
    static let folder = "Tests/Fixtures/diagnostics"

    /// Every fixture's name, sorted, found at test time so a new fixture needs no test edit.
    static let fixtures: [String] = {
        let url = Golden.packageRoot.appendingPathComponent(folder)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.filter { $0.hasSuffix(".strata") }.map { String($0.dropLast(".strata".count)) }.sorted()
    }()

    /// The subcommand and extra arguments a fixture asks for.
    static func command(of text: String) -> (subcommand: String, extra: [String]) {
        let marker = "// simulate:"
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(marker) }) else { return ("check", []) }
        let words = line.dropFirst(marker.count).split(separator: " ").map(String.init)
        return (words.first ?? "check", Array(words.dropFirst()))
    }

    @Test func thereIsAFixtureForEveryDiagnostic() {
        // A floor, so a broken folder lookup cannot pass by running nothing.
        #expect(Self.fixtures.count >= 100, "found only \(Self.fixtures.count) fixtures in \(Self.folder)")
    }

    @Test(arguments: fixtures)
    func diagnosticMatchesGolden(name: String) throws {
        let path = "\(Self.folder)/\(name).strata"
        let text = try String(contentsOf: Golden.packageRoot.appendingPathComponent(path), encoding: .utf8)
        #expect(text.hasPrefix("// "), "\(path) must start with a comment naming its rule")
        let (subcommand, extra) = Self.command(of: text)
        let arguments = [subcommand, path] + extra

        let temporary = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: temporary) }
        let database = temporary.appendingPathComponent("runs.sqlite")
        let isRun = subcommand == "run"
        let output = try Golden.run(arguments + (isRun ? ["--db", database.path] : []))

        #expect(output.status == 2, "\(path) should be rejected with exit status 2")
        #expect(output.stdout.isEmpty)
        #expect(!output.stderr.isEmpty)
        if isRun {
            #expect(!FileManager.default.fileExists(atPath: database.path), "bad input must not create the database")
        }
        try Golden.check("diagnostic-\(name)", arguments: arguments, output: output)
    }

    /// Every `.strata` file under strategies/, in any folder.
    static let shippedStrategies: [String] = {
        let root = Golden.packageRoot.appendingPathComponent("strategies")
        guard let walker = FileManager.default.enumerator(atPath: root.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".strata") }.map { "strategies/\($0)" }.sorted()
    }()

    @Test func strategiesAreFound() {
        #expect(!Self.shippedStrategies.isEmpty)
    }

    @Test(arguments: shippedStrategies)
    func shippedStrategyPassesCheck(path: String) throws {
        let output = try Golden.run(["check", path])
        #expect(output.status == 0, "\(path):\n\(output.stderr)")
        #expect(output.stdout.hasPrefix("\(path): ok"))
        #expect(output.stderr.isEmpty)
    }
}

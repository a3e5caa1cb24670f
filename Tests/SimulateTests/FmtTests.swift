import Foundation
import Testing

/// `simulate fmt` as users run it: its help, the canonical text of a messy file, and the
/// exit statuses of `--check` and `--in-place`.
@Suite struct FmtTests {
    static let messy = "Tests/Fixtures/messy.strata"

    @Test func helpText() throws {
        let arguments = ["fmt", "--help"]
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        try Golden.check("help-fmt", arguments: arguments, output: output)
    }

    @Test func printsTheCanonicalForm() throws {
        let arguments = ["fmt", Self.messy]
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        try Golden.check("fmt-messy", arguments: arguments, output: output)
    }

    @Test func syntaxErrorsAreBadInput() throws {
        let arguments = ["fmt", "Tests/Fixtures/syntax-errors.strata"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        try Golden.check("fmt-syntax-errors", arguments: arguments, output: output)
    }

    @Test func checkAndInPlaceTogetherAreAUsageError() throws {
        let arguments = ["fmt", Self.messy, "--check", "--in-place"]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("fmt-check-and-in-place", arguments: arguments, output: output)
    }

    @Test func checkExitsOneUntilInPlaceRewritesTheFile() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("messy.strata")
        try FileManager.default.copyItem(at: Golden.packageRoot.appendingPathComponent(Self.messy), to: file)

        let before = try Golden.run(["fmt", file.path, "--check"])
        #expect(before.status == 1)
        #expect(before.stdout.isEmpty && before.stderr.isEmpty)

        let canonical = try Golden.run(["fmt", file.path]).stdout
        let rewrite = try Golden.run(["fmt", file.path, "--in-place"])
        #expect(rewrite.status == 0)
        #expect(rewrite.stdout.isEmpty && rewrite.stderr.isEmpty)
        #expect(try String(contentsOf: file, encoding: .utf8) == canonical)

        let after = try Golden.run(["fmt", file.path, "--check"])
        #expect(after.status == 0)
        #expect(after.stdout.isEmpty && after.stderr.isEmpty)

        // A canonical file is left alone: not even rewritten.
        let modified = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 0.01)
        #expect(try Golden.run(["fmt", file.path, "--in-place"]).status == 0)
        #expect(try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date == modified)
    }

    @Test func aMissingFileIsBadInput() throws {
        let output = try Golden.run(["fmt", "Tests/Fixtures/no-such-file.strata", "--check"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("no such strategy file"))
    }
}

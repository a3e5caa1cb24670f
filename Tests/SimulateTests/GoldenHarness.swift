import Foundation
import Testing

/// Runs the built `simulate` executable and compares what it prints with checked-in
/// snapshots under Tests/SimulateTests/Golden.
///
/// A missing snapshot is written and the test fails, so nothing is blessed silently;
/// `STRATA_RECORD=1 swift test` rewrites every snapshot (and fails once) after an
/// intended change to what users see.
enum Golden {
    /// The package root, found from this file's path.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let snapshots = packageRoot.appendingPathComponent("Tests/SimulateTests/Golden")

    /// The `simulate` executable beside this test binary (SwiftPM puts every product of a
    /// build in one folder).
    static let executable: URL = {
        let candidates = [
            Bundle.main.executableURL?.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            Bundle.main.bundleURL.deletingLastPathComponent(),
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
        ].compactMap { $0 }
        for folder in candidates {
            let url = folder.appendingPathComponent("simulate")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/simulate")
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `simulate arguments…` in the package root.
    /// `executable` and `prefix` run it through another program (such as setpriv).
    static func run(_ arguments: [String], environment: [String: String] = [:], executable: URL = executable,
                    prefix: [String] = []) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = prefix + arguments
        process.currentDirectoryURL = packageRoot
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = "100"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Compares `output` of `simulate arguments…` with snapshot `name`.
    static func check(_ name: String, arguments: [String], output: Output, replacing: [String: String] = [:],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        var rendered = """
            $ simulate \(arguments.joined(separator: " "))
            exit status: \(output.status)
            --- stdout
            \(output.stdout)--- stderr
            \(output.stderr)
            """
        // Paths that differ between machines (temporary folders) become stable names.
        for (text, replacement) in replacing.sorted(by: { $0.key > $1.key }) {
            rendered = rendered.replacingOccurrences(of: text, with: replacement)
        }
        let url = snapshots.appendingPathComponent(name + ".txt")
        let record = ProcessInfo.processInfo.environment["STRATA_RECORD"] == "1"
        guard !record, let expected = try? String(contentsOf: url, encoding: .utf8) else {
            try FileManager.default.createDirectory(at: snapshots, withIntermediateDirectories: true)
            try rendered.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded snapshot \(name).txt; check it and run the tests again", sourceLocation: sourceLocation)
            return
        }
        #expect(rendered == expected, "output differs from Golden/\(name).txt", sourceLocation: sourceLocation)
    }

    /// A fresh folder for a test's database, removed by the caller.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

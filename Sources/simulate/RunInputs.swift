import Foundation
import StrataCore
import StrataGraph

/// Everything a run's result depends on, as content hashes: the strategy file and every
/// file it imports, the topology, the `--set` values, the measured cost tables, and the
/// simulator build that prices them.
///
/// `simulate run` stores `sha256` as `run.inputs_sha256`; `simulate sweep` skips a point
/// whose hash the database already has, so two runs share a hash exactly when the same
/// build read the same bytes. A rebuilt simulator may price the same inputs differently
/// (a new cost model, a fixed lowering), so it simulates again what an older build stored
/// rather than reuse a result that build would no longer give.
struct RunInputs: Hashable, Sendable {
    var strategySha256: String
    /// `path sha256` of each imported file, one per line.
    var importsDigest: String
    /// The topology's hash, or `"unknown"` when a point was rejected before its topology
    /// was known.
    var topologySha256: String
    /// The `--set` (and `--grid`) values, as `run.overrides` stores them.
    var overridesJSON: String
    /// The hash of the measured tables' folder, `"roofline"` when none were used, or
    /// `"unresolved: <--traces>"` for a point rejected before its tables were chosen.
    var costTablesDigest: String
    /// The simulator build (`currentSimulator`).
    var simulator: String = RunInputs.currentSimulator

    var sha256: String {
        SHA256.hex(of: ["strata inputs v3", strategySha256, importsDigest, topologySha256, overridesJSON, costTablesDigest,
                        simulator].joined(separator: "\n"))
    }

    /// This simulator build: its version and its executable's path, size and modification
    /// time, which every rebuild changes. Not the executable's content hash: that would cost
    /// more than a small run itself (27 MB against a 40 ms `simulate run`), and a rebuild of
    /// unchanged code only costs a sweep its cache.
    static let currentSimulator: String = {
        let path = Bundle.main.executablePath ?? CommandLine.arguments.first ?? "unknown"
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        return "\(StrataVersion.current) \(path) \(size) \(modified)"
    }()
}

extension RunInputs {
    /// The inputs of a resolved run: `costs.folder` names the tables it read, if any.
    init(strategyText: String, imports: [String], topologyPath: String, overrides: [Override], costs: Pipeline.Costs,
         digests: FileDigests) {
        strategySha256 = SHA256.hex(of: strategyText)
        importsDigest = digests.digest(ofImports: imports)
        topologySha256 = digests.sha256(ofFile: topologyPath)
        overridesJSON = RunRecords.canonicalJSON(overrides)
        costTablesDigest = costs.folder.map { digests.sha256(ofFolder: $0) } ?? "roofline"
    }

    /// The inputs of a point rejected before it was resolved: the topology is the one
    /// given with `--topology` or named literally by the strategy, if either is known.
    init(unresolvedStrategyText strategyText: String, imports: [String], topologyPath: String?, overrides: [Override],
         traces: String?, digests: FileDigests) {
        strategySha256 = SHA256.hex(of: strategyText)
        importsDigest = digests.digest(ofImports: imports)
        topologySha256 = topologyPath.map { digests.sha256(ofFile: $0) } ?? "unknown"
        overridesJSON = RunRecords.canonicalJSON(overrides)
        costTablesDigest = "unresolved: \(traces ?? "")"
    }
}

/// Content hashes of input files and folders, each read once and shared between threads
/// (a sweep hashes the same topology and tables for every point).
final class FileDigests: @unchecked Sendable {
    private let lock = NSLock()
    private var files: [String: String] = [:]
    private var folders: [String: String] = [:]
    private var texts: [String: String] = [:]

    /// A text file's contents, read once.
    func text(ofFile path: String, what: String) throws(DiagnosticError) -> String {
        lock.lock()
        let known = texts[path]
        lock.unlock()
        if let known { return known }
        let text = try Pipeline.readText(path, what: what)
        lock.lock()
        texts[path] = text
        lock.unlock()
        return text
    }

    /// The SHA-256 of a file's bytes, or `"unreadable"`.
    func sha256(ofFile path: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        if let known = files[path] { return known }
        let digest = FileManager.default.contents(atPath: path).map { data in
            var hasher = SHA256()
            hasher.update([UInt8](data))
            return hasher.finalizeHex()
        } ?? "unreadable"
        files[path] = digest
        return digest
    }

    /// One hash over every table (`.csv`) under `path`, recursively, sorted by relative
    /// path: its name and its bytes' hash. Other files there (profiles, notes) do not
    /// change a prediction, so they do not change the hash.
    func sha256(ofFolder path: String) -> String {
        lock.lock()
        if let known = folders[path] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let manager = FileManager.default
        let names = (manager.subpaths(atPath: path) ?? []).filter { name in
            guard name.hasSuffix(".csv") else { return false }
            var isFolder: ObjCBool = false
            return manager.fileExists(atPath: (path as NSString).appendingPathComponent(name), isDirectory: &isFolder)
                && !isFolder.boolValue
        }.sorted()
        let lines = names.map { name in "\(name) \(sha256(ofFile: (path as NSString).appendingPathComponent(name)))" }
        let digest = SHA256.hex(of: lines.joined(separator: "\n"))
        lock.lock()
        folders[path] = digest
        lock.unlock()
        return digest
    }

    /// `path sha256` of each file, one per line.
    func digest(ofImports paths: [String]) -> String {
        paths.map { "\($0) \(sha256(ofFile: $0))" }.joined(separator: "\n")
    }
}

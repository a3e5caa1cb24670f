import Foundation
import StrataCore

/// Loads a cluster from a topology XML file (format v1, docs/topology.md).
///
/// Loading runs in stages, each reporting every problem it finds before the next starts:
/// libxml2 parses the file (no network access, no entity expansion), validates it against
/// the bundled schema `topology-v1.xsd`, and only a valid document is read — with units,
/// references and cross-element rules checked again in Swift — and expanded into devices,
/// links and routing rules.
public enum TopologyLoader {
    /// Reads and loads the topology at `path`.
    ///
    /// - Throws: `DiagnosticError` with every problem, each rendered as
    ///   `path:line: error: rule` and `help: fix`; a missing file is `path: error: …`.
    public static func load(path: String) throws(DiagnosticError) -> Cluster {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DiagnosticError(Diagnostic(
                file: path, "no such file",
                help: "check the path; the shipped topologies are in topologies/, for example topologies/dgx-h100.xml"
            ))
        }
        guard !isDirectory.boolValue, let data = FileManager.default.contents(atPath: path) else {
            throw DiagnosticError(Diagnostic(
                file: path, isDirectory.boolValue ? "is a directory, not a topology file" : "cannot be read",
                help: "give the path of a topology XML file that you can read"
            ))
        }
        return try load(bytes: Array(data), path: path)
    }

    /// Loads a topology from text, naming `path` in diagnostics. For tests and for callers
    /// that hold the XML already.
    public static func load(xml: String, path: String) throws(DiagnosticError) -> Cluster {
        try load(bytes: Array(xml.utf8), path: path)
    }

    /// The bundled schema. SwiftPM copies `Schema/topology-v1.xsd` into the target's resource
    /// bundle, which `Bundle.module` finds next to the executable on Linux and macOS alike.
    static var schemaPath: String {
        guard let url = Bundle.module.url(forResource: "topology-v1", withExtension: "xsd") else {
            fatalError("the StrataTopology resource bundle has no topology-v1.xsd; the package is built incorrectly")
        }
        return url.path
    }

    private static func load(bytes: [UInt8], path: String) throws(DiagnosticError) -> Cluster {
        guard bytes.contains(where: { !" \t\r\n".utf8.contains($0) }) else {
            throw DiagnosticError(Diagnostic(
                file: path, "is empty",
                help: "a topology file starts with <cluster name=\"…\" version=\"1\">; see docs/topology.md"
            ))
        }
        let tree: XMLElementTree
        switch XMLReader.read(bytes: bytes, url: path, schemaPath: schemaPath) {
        case let .success(root):
            tree = root
        case let .failure(failure):
            let diagnostics: [Diagnostic]
            if failure.problems.first?.stage == .parse {
                diagnostics = failure.problems.map {
                    TopologyDiagnostics.malformed($0.message, at: SourceLocation(file: path, line: max($0.line, 1)))
                }
            } else {
                diagnostics = TopologyDiagnostics.schemaViolations(failure.problems, file: path)
            }
            throw DiagnosticError(diagnostics)
        }
        var decoder = TopologyDecoder(file: path)
        guard let description = decoder.decode(tree) else {
            throw DiagnosticError(decoder.diagnostics.isEmpty
                ? [Diagnostic(file: path, "could not be read as a topology", help: TopologyDiagnostics.schemaHelp)]
                : decoder.diagnostics)
        }
        return ClusterBuilder.build(description)
    }
}

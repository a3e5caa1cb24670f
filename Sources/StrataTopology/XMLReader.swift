import CLibXML2
import Foundation
import StrataCore

/// Reads an XML document with libxml2, validates it against an XML Schema, and copies it
/// into an `XMLElementTree`. This file is the only place that holds libxml2 pointers.
enum XMLReader {
    /// One problem libxml2 reported, before it is turned into a `Diagnostic`.
    struct Problem: Hashable, Sendable {
        enum Stage: Sendable { case parse, validate }
        var stage: Stage
        var line: Int
        /// libxml2's message without its trailing newline.
        var message: String
    }

    /// The problems that stopped a read: those of the first stage (parse or validate) that failed.
    struct Failure: Error, Sendable {
        var problems: [Problem]
    }

    /// Collects libxml2's structured errors. It crosses into C as the `userData` pointer of
    /// the error callbacks, retained by `Unmanaged` only for the duration of one read.
    private final class ProblemCollector {
        var stage: Problem.Stage = .parse
        var problems: [Problem] = []
    }

    /// The callback libxml2 calls for every error and warning, with the collector as `userData`.
    private static let collect: xmlStructuredErrorFunc = { userData, error in
        guard let userData, let error else { return }
        let collector = Unmanaged<ProblemCollector>.fromOpaque(userData).takeUnretainedValue()
        let raw = error.pointee.message.map { String(cString: $0) } ?? "unknown libxml2 error"
        let message = raw.trimmingWhitespace()
        collector.problems.append(Problem(stage: collector.stage, line: Int(error.pointee.line), message: message))
    }

    /// libxml2's global initialisation, done once. Swift runs a static initializer exactly
    /// once even when several threads load topologies at the same time.
    /// libxml2's global set-up, done once before any thread parses: `xmlInitParser` and the
    /// schema module's built-in types are initialised lazily and without a lock in libxml2
    /// 2.9, so two sweep workers loading topologies at once could race on them.
    private static let initialized: Void = {
        xmlInitParser()
        _ = xmlSchemaInitTypes()
    }()

    /// Parses `bytes` (XML in the encoding it declares, UTF-8 by default) and validates it
    /// against the schema at `schemaPath`; `url` names the document in libxml2's errors.
    ///
    /// Nothing is read from the document unless it is well formed and valid, so later stages
    /// can rely on the schema's guarantees. All problems of the failing stage are returned.
    /// The parser never touches the network (`XML_PARSE_NONET`) and never substitutes
    /// entities, so a topology file cannot pull in other files or URLs.
    static func read(bytes: [UInt8], url: String, schemaPath: String) -> Result<XMLElementTree, Failure> {
        _ = initialized
        let collector = ProblemCollector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }
        let userData = context.toOpaque()

        // Parser errors go through the thread's structured error handler; restore the
        // default afterwards so later libxml2 users on this thread see no stale pointer.
        xmlSetStructuredErrorFunc(userData, collect)
        defer { xmlSetStructuredErrorFunc(nil, nil) }

        let options = Int32(XML_PARSE_NONET.rawValue)
        let parsed: xmlDocPtr? = bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { characters in
                xmlReadMemory(characters.baseAddress, Int32(characters.count), url, nil, options)
            }
        }
        guard let document = parsed, collector.problems.isEmpty else {
            if let parsed { xmlFreeDoc(parsed) }
            return .failure(Failure(problems: collector.problems.isEmpty
                ? [Problem(stage: .parse, line: 1, message: "the document is empty or unreadable")]
                : collector.problems))
        }
        defer { xmlFreeDoc(document) }

        collector.stage = .validate
        guard let schemaParser = xmlSchemaNewParserCtxt(schemaPath) else {
            fatalError("libxml2 could not open the bundled topology schema at \(schemaPath)")
        }
        defer { xmlSchemaFreeParserCtxt(schemaParser) }
        guard let schema = xmlSchemaParse(schemaParser) else {
            fatalError("the bundled topology schema at \(schemaPath) does not parse: \(collector.problems)")
        }
        defer { xmlSchemaFree(schema) }
        guard let validator = xmlSchemaNewValidCtxt(schema) else {
            fatalError("libxml2 could not allocate a schema validation context")
        }
        defer { xmlSchemaFreeValidCtxt(validator) }
        xmlSchemaSetValidStructuredErrors(validator, collect, userData)

        let outcome = xmlSchemaValidateDoc(validator, document)
        guard outcome == 0, collector.problems.isEmpty else {
            return .failure(Failure(problems: collector.problems.isEmpty
                ? [Problem(stage: .validate, line: 1, message: "the document does not follow the topology schema")]
                : collector.problems))
        }
        guard let root = xmlDocGetRootElement(document) else {
            return .failure(Failure(problems: [Problem(stage: .parse, line: 1, message: "the document has no root element")]))
        }
        return .success(tree(of: root))
    }

    /// Copies an element, its attributes and its element children into Swift values.
    private static func tree(of element: xmlNodePtr) -> XMLElementTree {
        var attributes: [String: String] = [:]
        var attribute = element.pointee.properties
        while let current = attribute {
            let name = String(cString: current.pointee.name)
            // An attribute's value is its list of text children; reading them directly
            // needs no allocation that would have to go back through xmlFree.
            var value = ""
            var text = current.pointee.children
            while let node = text {
                if let content = node.pointee.content { value += String(cString: content) }
                text = node.pointee.next
            }
            attributes[name] = value
            attribute = current.pointee.next
        }
        var children: [XMLElementTree] = []
        var child = element.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                children.append(tree(of: current))
            }
            child = current.pointee.next
        }
        return XMLElementTree(
            name: String(cString: element.pointee.name),
            line: Int(xmlGetLineNo(element)),
            attributes: attributes,
            children: children
        )
    }
}

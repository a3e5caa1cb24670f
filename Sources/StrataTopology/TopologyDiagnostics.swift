import StrataCore

/// Turns what went wrong in a topology file into diagnostics that name the rule and the fix.
///
/// libxml2's messages are accurate but speak XML Schema ("is not a valid value of the atomic
/// type 'bandwidthType'"); the common ones are rewritten here in the user's terms, and a bad
/// quantity gets exactly the message `UnitParser` gives everywhere else in Strata, whether
/// the schema or the loader's own check caught it.
enum TopologyDiagnostics {
    /// A quantity attribute whose value `UnitParser` rejects.
    static func quantity(
        _ error: QuantityError, attribute: String, element: String, at location: SourceLocation
    ) -> Diagnostic {
        // QuantityError.message reads "rule; fix": split it into the diagnostic's two parts.
        let (rule, fix) = splitRuleAndFix(error.message)
        return Diagnostic(at: location, "attribute '\(attribute)' of <\(element)>: \(rule)", help: fix)
    }

    /// A well-formedness error from libxml2's parser.
    static func malformed(_ message: String, at location: SourceLocation) -> Diagnostic {
        Diagnostic(
            at: location, "malformed XML: \(lowercasingFirst(stripPeriod(message)))",
            help: "fix the XML syntax here; every tag needs a matching end tag or must close with '/>'"
        )
    }

    /// Rewrites the schema violations of one document. libxml2 2.9 reports a rejected
    /// attribute value once, as the facet it broke ("[facet 'pattern'] The value '400' is not
    /// accepted by the pattern …"); later versions may add "is not a valid value of the
    /// atomic type 'bandwidthType'". Both shapes are understood, and a facet message followed
    /// by the type message for the same attribute becomes one diagnostic.
    static func schemaViolations(_ problems: [XMLReader.Problem], file: String) -> [Diagnostic] {
        var diagnostics: [Diagnostic] = []
        var index = 0
        while index < problems.count {
            let problem = problems[index]
            let location = SourceLocation(file: file, line: max(problem.line, 1))
            let parsed = SchemaMessage(problem.message)
            if parsed.isValueProblem {
                var facet: SchemaMessage? = parsed.body.hasPrefix("[facet ") ? parsed : nil
                var typeMessage: SchemaMessage? = facet == nil ? parsed : nil
                if facet != nil, index + 1 < problems.count {
                    let next = SchemaMessage(problems[index + 1].message)
                    if next.element == parsed.element, next.attribute == parsed.attribute,
                       problems[index + 1].line == problem.line, next.isValueProblem, !next.body.hasPrefix("[facet ") {
                        typeMessage = next
                        index += 1
                    }
                }
                if facet == nil, typeMessage == nil { facet = parsed }
                diagnostics.append(invalidValue(parsed, facet: facet, type: typeMessage, at: location))
            } else {
                diagnostics.append(structural(parsed, at: location))
            }
            index += 1
        }
        return diagnostics
    }

    // MARK: Schema message rewriting

    /// A libxml2 schema message split into its parts:
    /// `Element 'nics', attribute 'bandwidth': <body>`.
    struct SchemaMessage {
        var element: String?
        var attribute: String?
        var body: String

        init(_ message: String) {
            var rest = Substring(message)
            if rest.hasPrefix("Element '"), let end = rest.dropFirst(9).firstIndex(of: "'") {
                element = String(rest[rest.index(rest.startIndex, offsetBy: 9)..<end])
                rest = rest[rest.index(after: end)...]
                if rest.hasPrefix(", attribute '"), let attributeEnd = rest.dropFirst(13).firstIndex(of: "'") {
                    attribute = String(rest[rest.index(rest.startIndex, offsetBy: 13)..<attributeEnd])
                    rest = rest[rest.index(after: attributeEnd)...]
                }
                if rest.hasPrefix(": ") { rest = rest.dropFirst(2) }
            }
            body = String(rest)
        }

        /// Whether libxml2 rejected an attribute's value (rather than the document's shape).
        var isValueProblem: Bool {
            attribute != nil && (body.hasPrefix("[facet ") || body.contains("is not a valid value of"))
        }

        /// `attribute 'bandwidth' of <nics>` or `<nics>`: what the diagnostic is about.
        var subject: String {
            switch (element, attribute) {
            case let (element?, attribute?): "attribute '\(attribute)' of <\(element)>"
            case let (element?, nil): "<\(element)>"
            default: "the document"
            }
        }
    }

    /// The quantity kind each of the schema's quantity types stands for.
    static let quantityTypes: [String: QuantityKind] = [
        "bandwidthType": .bandwidth, "timeType": .time, "bytesType": .bytes, "flopRateType": .flopRate,
    ]

    /// The attributes each element takes, in schema order, with the quantity kind of those
    /// that hold quantities. Used for "did you mean" on a misspelled attribute and to know
    /// which unit a rejected value needed, since libxml2's facet messages do not name the
    /// type. Mirrors Schema/topology-v1.xsd (a test checks the two agree).
    static let attributesByElement: [String: KeyValuePairs<String, QuantityKind?>] = [
        "cluster": ["name": nil, "version": nil],
        "gpu-type": ["id": nil, "name": nil],
        "peak": ["precision": nil, "dense": .flopRate],
        "memory": ["capacity": .bytes, "bandwidth": .bandwidth],
        "node-type": ["id": nil],
        "gpus": ["type": nil, "count": nil],
        "nvswitch": ["links-per-gpu": nil, "link-bandwidth": .bandwidth, "latency": .time],
        "pcie": ["bandwidth": .bandwidth, "latency": .time],
        "nics": ["count": nil, "bandwidth": .bandwidth, "latency": .time, "nic-of-gpu": nil],
        "nodes": ["type": nil, "count": nil],
        "fabric": ["topology": nil, "nodes-per-unit": nil],
        "spine": ["count": nil, "cables-per-leaf": nil, "bandwidth": .bandwidth, "latency": .time],
    ]

    /// The quantity kind of `attribute` on `element`, if it holds a quantity.
    static func quantityKind(element: String?, attribute: String?) -> QuantityKind? {
        guard let element, let attribute, let attributes = attributesByElement[element] else { return nil }
        return attributes.first { $0.key == attribute }?.value ?? nil
    }

    static let schemaHelp = "docs/topology.md describes every element and attribute (schema: topologies/topology-v1.xsd)"

    /// A value the schema rejected: a quantity without a unit, a count of zero, a word not
    /// in an enumeration, a malformed id.
    private static func invalidValue(
        _ message: SchemaMessage, facet: SchemaMessage?, type: SchemaMessage?, at location: SourceLocation
    ) -> Diagnostic {
        let value = quoted(in: (facet ?? type ?? message).body.dropFacetName()) ?? ""
        let typeName = type.flatMap { $0.body.components(separatedBy: "atomic type '").dropFirst().first }
            .map { String($0.prefix { $0 != "'" }) }
        let kind = typeName.flatMap { quantityTypes[$0] } ?? quantityKind(element: message.element, attribute: message.attribute)
        if let kind {
            do {
                _ = try UnitParser.parse(value, as: kind)
            } catch {
                return quantity(error, attribute: message.attribute ?? "?", element: message.element ?? "?", at: location)
            }
            // The schema's pattern is stricter than UnitParser in one way: it wants the unit
            // right after the number, with nothing around them.
            return Diagnostic(
                at: location, "\(message.subject): '\(value)' must be a number directly followed by its unit",
                help: "remove spaces and signs, for example \(kind.example)"
            )
        }
        if message.element == "cluster", message.attribute == "version" {
            return Diagnostic(at: location, "\(message.subject): '\(value)' is not a topology format version this Strata reads",
                              help: "write version=\"1\"; docs/topology.md describes version 1")
        }
        if let facet, facet.body.hasPrefix("[facet 'enumeration']"),
           let open = facet.body.firstIndex(of: "{"), let close = facet.body.lastIndex(of: "}") {
            let choices = facet.body[facet.body.index(after: open)..<close]
                .split(separator: ",").map { $0.trimmingWhitespace().trimmingCharacters(in: "'") }
            let hint = Spelling.closest(to: value, among: choices).map { "did you mean '\($0)'? " } ?? ""
            return Diagnostic(
                at: location, "\(message.subject): '\(value)' is not one of the allowed values",
                help: "\(hint)allowed: \(choices.joined(separator: ", "))"
            )
        }
        if let facet, facet.body.hasPrefix("[facet 'pattern']"),
           message.attribute == "id" || message.attribute == "type" {
            return Diagnostic(at: location, "\(message.subject): '\(value)' is not a valid id",
                              help: "start with a letter or digit and use only letters, digits, '.', '_' and '-'")
        }
        switch typeName {
        case "xs:positiveInteger":
            return Diagnostic(at: location, "\(message.subject): '\(value)' is not a whole number of at least 1",
                              help: "write a count such as 8")
        case "xs:nonNegativeInteger", "indexListType":
            return Diagnostic(at: location, "\(message.subject): '\(value)' is not a list of whole numbers",
                              help: "write indices separated by spaces, such as \"0 1 2 3\"")
        default:
            return Diagnostic(at: location, "\(message.subject): '\(value)' is not a valid value", help: schemaHelp)
        }
    }

    /// Missing, unexpected or misspelled elements and attributes, and duplicate ids.
    private static func structural(_ message: SchemaMessage, at location: SourceLocation) -> Diagnostic {
        let element = message.element ?? "?"
        let body = message.body
        if body.hasPrefix("The attribute '"), body.hasSuffix("' is required but missing."), let attribute = quoted(in: body) {
            return Diagnostic(at: location, "<\(element)> is missing the required attribute '\(attribute)'",
                              help: "add \(attribute)=\"…\" to <\(element)>; \(schemaHelp)")
        }
        if body.hasPrefix("The attribute '"), body.hasSuffix("' is not allowed."), let attribute = quoted(in: body) {
            let known = (attributesByElement[element] ?? [:]).map(\.key)
            let hint = Spelling.closest(to: attribute, among: known).map { "did you mean '\($0)'? " } ?? ""
            return Diagnostic(at: location, "<\(element)> does not take the attribute '\(attribute)'",
                              help: "\(hint)<\(element)> takes \(known.map { "'\($0)'" }.joined(separator: ", "))")
        }
        if body.hasPrefix("Missing child element(s).") {
            let expected = expectedElements(in: body)
            return Diagnostic(at: location, "<\(element)> is missing the child element \(expected.map { "<\($0)>" }.joined(separator: " or "))",
                              help: "add it inside <\(element)>; \(schemaHelp)")
        }
        if body.hasPrefix("This element is not expected.") {
            let expected = expectedElements(in: body)
            guard !expected.isEmpty else {
                return Diagnostic(at: location, "<\(element)> is not allowed here",
                                  help: "remove it or move it; \(schemaHelp)")
            }
            let hint = Spelling.closest(to: element, among: expected).map { "did you mean <\($0)>? " } ?? ""
            return Diagnostic(at: location, "<\(element)> is not allowed here; expected \(expected.map { "<\($0)>" }.joined(separator: " or "))",
                              help: "\(hint)elements must appear in the order docs/topology.md gives")
        }
        if body.hasPrefix("Duplicate key-sequence"), let id = quoted(in: body) {
            return Diagnostic(at: location, "<\(element)> id '\(id)' is defined twice",
                              help: "give every <\(element)> its own id")
        }
        if body.hasPrefix("No matching global declaration") {
            return Diagnostic(at: location, "<\(element)> is not a topology; the root element must be <cluster>",
                              help: "start the file with <cluster name=\"…\" version=\"1\">")
        }
        let subject = message.element == nil ? "" : "\(message.subject): "
        return Diagnostic(at: location, subject + lowercasingFirst(stripPeriod(body)), help: schemaHelp)
    }

    // MARK: Text helpers

    /// The element names in libxml2's "Expected is ( a )" or "Expected is one of ( a, b )".
    private static func expectedElements(in body: String) -> [String] {
        guard let open = body.range(of: "( "), let close = body.range(of: " )", range: open.upperBound..<body.endIndex) else {
            return []
        }
        return body[open.upperBound..<close.lowerBound].split(separator: ",").map { $0.trimmingWhitespace() }
    }

    /// The text between the first pair of single quotes.
    private static func quoted(in text: String) -> String? {
        guard let open = text.firstIndex(of: "'") else { return nil }
        let rest = text[text.index(after: open)...]
        guard let close = rest.firstIndex(of: "'") else { return nil }
        return String(rest[..<close])
    }

    static func splitRuleAndFix(_ message: String) -> (rule: String, fix: String?) {
        guard let separator = message.range(of: "; ") else { return (message, nil) }
        return (String(message[..<separator.lowerBound]), String(message[separator.upperBound...]))
    }

    private static func stripPeriod(_ text: String) -> String {
        text.hasSuffix(".") ? String(text.dropLast()) : text
    }

    private static func lowercasingFirst(_ text: String) -> String {
        guard let first = text.first, first.isUppercase else { return text }
        // Keep acronyms such as "XML" as they are.
        if text.dropFirst().first?.isUppercase == true { return text }
        return first.lowercased() + text.dropFirst()
    }
}

extension String {
    /// The string without `character` at either end.
    fileprivate func trimmingCharacters(in character: Character) -> String {
        var result = Substring(self)
        while result.first == character { result = result.dropFirst() }
        while result.last == character { result = result.dropLast() }
        return String(result)
    }
}

extension String {
    /// Drops a leading "[facet name] " so the first quoted text is the value.
    fileprivate func dropFacetName() -> String {
        guard hasPrefix("[facet "), let close = firstIndex(of: "]") else { return self }
        return String(self[index(after: close)...])
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> String { String(self).trimmingWhitespace() }
}

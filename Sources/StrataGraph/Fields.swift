import StrataCore
import StrataDSL

/// Reads the settings of one block with their types, collecting every problem.
///
/// Each accessor names the key it reads; `finish()` then reports the keys nobody asked
/// for, with the closest allowed key as a suggestion, so a misspelled setting is never
/// silently ignored.
struct Fields {
    let context: String
    let location: SourceLocation
    private var assignments: [String: Assignment] = [:]
    private var order: [String] = []
    private(set) var blocks: [Block] = []
    private var allowed: [String] = []
    private let evaluator: Evaluator
    var diagnostics: [Diagnostic] = []
    /// Required keys that are absent, reported by `finish()` unless a misspelling of the
    /// key explains the absence better.
    private var missing: [String: Diagnostic] = [:]

    init(_ items: [Item], context: String, location: SourceLocation, evaluator: Evaluator) {
        self.context = context
        self.location = location
        self.evaluator = evaluator
        for item in items {
            switch item {
            case let .assignment(assignment):
                if let earlier = assignments[assignment.key] {
                    let other = earlier.location.line == assignment.location.line
                        ? "the earlier one on this line" : "the one at line \(earlier.location.line)"
                    diagnostics.append(Diagnostic(at: assignment.location, "'\(assignment.key)' is set twice in \(context)",
                                                  help: "remove this one or \(other)"))
                } else {
                    assignments[assignment.key] = assignment
                    order.append(assignment.key)
                }
            case let .block(block):
                blocks.append(block)
            case let .importFile(file):
                diagnostics.append(Diagnostic(at: file.location, "'import' is allowed only at the top of the file",
                                              help: "move 'import \"\(file.path)\"' out of \(context)"))
            case let .parameter(parameter):
                diagnostics.append(Diagnostic(at: parameter.location, "'let' is allowed only at the top of the file",
                                              help: "move 'let \(parameter.name) = …' out of \(context)"))
            }
        }
    }

    /// The location of `key`'s assignment, or of the block when it is absent.
    func location(of key: String) -> SourceLocation { assignments[key]?.location ?? location }

    func has(_ key: String) -> Bool { assignments[key] != nil }

    private mutating func value(_ key: String, required: Bool, example: String) -> (Value, SourceLocation)? {
        allowed.append(key)
        guard let assignment = assignments[key] else {
            if required {
                missing[key] = Diagnostic(at: location, "\(context) is missing '\(key)'", help: "add '\(key) = \(example)'")
            }
            return nil
        }
        do {
            return (try evaluator.evaluate(assignment.value), assignment.value.location)
        } catch {
            diagnostics.append(error)
            return nil
        }
    }

    /// A positive integer setting.
    mutating func positiveInteger(_ key: String, required: Bool = true, example: String = "8") -> Int? {
        guard let (value, location) = value(key, required: required, example: example) else { return nil }
        guard case let .integer(number) = value, number > 0 else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be a positive integer, found \(value.quoted)",
                                          help: "write '\(key) = \(example)'"))
            return nil
        }
        return number
    }

    /// A whole number of zero or more.
    mutating func nonNegativeInteger(_ key: String, default fallback: Int) -> Int {
        guard let (value, location) = value(key, required: false, example: "1") else { return fallback }
        guard case let .integer(number) = value, number >= 0 else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be a whole number of zero or more, found \(value)",
                                          help: "write '\(key) = 1'"))
            return fallback
        }
        return number
    }

    /// A positive number, integer or not.
    mutating func positiveNumber(_ key: String, default fallback: Double) -> Double {
        guard let (value, location) = value(key, required: false, example: "1.2") else { return fallback }
        guard let number = value.number, number > 0 else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be a positive number, found \(value)",
                                          help: "write '\(key) = 1.2'"))
            return fallback
        }
        return number
    }

    /// A size in bytes with its unit, such as `25MiB`.
    mutating func bytes(_ key: String, default fallback: Int64) -> Int64 {
        guard let (value, location) = value(key, required: false, example: "25MiB") else { return fallback }
        guard case let .quantity(text) = value else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be a size with its unit, found \(value)",
                                          help: "write '\(key) = 25MiB' (units: B, KB, MB, GB, KiB, MiB, GiB)"))
            return fallback
        }
        do {
            return Int64(try UnitParser.parse(text, as: .bytes))
        } catch {
            diagnostics.append(Diagnostic(at: location, error.message, help: "write '\(key) = 25MiB'"))
            return fallback
        }
    }

    /// Any value, for settings whose shape varies (`stages = even` or a list).
    mutating func raw(_ key: String, required: Bool = false, example: String) -> (Value, SourceLocation)? {
        value(key, required: required, example: example)
    }

    mutating func string(_ key: String, required: Bool = true, example: String) -> (String, SourceLocation)? {
        guard let (value, location) = value(key, required: required, example: example) else { return nil }
        guard case let .string(text) = value else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be a string in double quotes, found \(value.quoted)",
                                          help: "write '\(key) = \(example)'"))
            return nil
        }
        return (text, location)
    }

    mutating func boolean(_ key: String, default fallback: Bool) -> Bool {
        guard let (value, location) = value(key, required: false, example: "true") else { return fallback }
        guard case let .boolean(flag) = value else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be true or false, found \(value.quoted)",
                                          help: "write '\(key) = true' or '\(key) = false'"))
            return fallback
        }
        return flag
    }

    /// A keyword from a closed set, such as `precision = bf16`.
    mutating func choice<T: RawRepresentable>(_ key: String, among choices: [T], default fallback: T?, required: Bool? = nil)
        -> (T, SourceLocation)? where T.RawValue == String {
        let names = choices.map(\.rawValue)
        guard let (value, location) = value(key, required: required ?? (fallback == nil), example: names[0]) else {
            return fallback.map { ($0, self.location) }
        }
        let text = value.keyword
        guard let text, let chosen = choices.first(where: { $0.rawValue == text }) else {
            let help = text.flatMap { Spelling.closest(to: $0, among: names) }.map { "did you mean '\($0)'?" } ?? "write '\(key) = \(names[0])'"
            diagnostics.append(Diagnostic(at: location, "'\(key)' must be one of \(names.joined(separator: ", ")), found \(text.map { "'\($0)'" } ?? value.kindName)",
                                          help: help))
            return fallback.map { ($0, location) }
        }
        return (chosen, location)
    }

    /// A bare name, such as a mesh axis in `data_parallel = data`.
    mutating func name(_ key: String, required: Bool = true, example: String) -> (String, SourceLocation)? {
        guard let (value, location) = value(key, required: required, example: example) else { return nil }
        guard case let .symbol(name) = value else {
            diagnostics.append(Diagnostic(at: location, "'\(key)' must name a mesh axis, found \(value.quoted)",
                                          help: "write '\(key) = \(example)' with an axis declared in 'mesh { … }'"))
            return nil
        }
        return (name, location)
    }

    /// Every assignment in declaration order, for blocks whose keys are user-chosen (mesh axes).
    mutating func all() -> [(key: String, value: Value, location: SourceLocation)] {
        var result: [(String, Value, SourceLocation)] = []
        for key in order {
            allowed.append(key)
            let assignment = assignments[key]!
            do {
                result.append((key, try evaluator.evaluate(assignment.value), assignment.location))
            } catch {
                diagnostics.append(error)
            }
        }
        return result
    }

    /// Reports every setting that no accessor read, and returns all diagnostics.
    mutating func finish(allowingBlocks allowedBlocks: [String] = []) -> [Diagnostic] {
        for key in order where !allowed.contains(key) {
            let closest = Spelling.closest(to: key, among: allowed)
            if let closest { missing[closest] = nil }
            let suggestion = closest.map { "did you mean '\($0)'? " } ?? ""
            diagnostics.append(Diagnostic(at: assignments[key]!.location, "unknown setting '\(key)' in \(context)",
                                          help: "\(suggestion)settings here are \(allowed.joined(separator: ", "))"))
        }
        for block in blocks where !allowedBlocks.contains(block.name) {
            let help = allowedBlocks.isEmpty
                ? "\(context) holds settings only, such as '\(allowed.first ?? "key") = …'"
                : "blocks here are \(allowedBlocks.joined(separator: ", "))"
            diagnostics.append(Diagnostic(at: block.location, "unexpected block '\(block.name)' in \(context)", help: help))
        }
        return diagnostics + allowed.compactMap { missing[$0] }
    }
}

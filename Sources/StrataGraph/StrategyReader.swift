import StrataCore
import StrataDSL
import StrataModel

/// What the strategy block says, before inheritance: the mesh, the top-level settings,
/// and the attributes written on each module.
struct StrategyDeclarations {
    var mesh: [MeshAxis]
    var meshLocation: SourceLocation
    var pipeline: PipelineDeclaration?
    var gradientSync: GradientSyncSettings
    var fsdp: (settings: FSDPSettings, location: SourceLocation)?
    /// Per module (indexed like `ModuleTree.nodes`): attribute → setting and where it was written.
    var explicit: [[String: (setting: NodeSetting, location: SourceLocation)]]
}

/// The pipeline block as written; stages are checked against the model later.
struct PipelineDeclaration {
    var axis: String
    var axisLocation: SourceLocation
    var schedule: PipelineSchedule
    var scheduleLocation: SourceLocation
    var virtualStages: Int
    var virtualStagesLocation: SourceLocation
    /// Layers per model chunk, or `nil` for even division.
    var layersPerChunk: [Int]?
    var stagesLocation: SourceLocation
    var location: SourceLocation
}

/// Reads the strategy block: top-level blocks, then module selectors and attributes in
/// file order, so a later setting on a module overrides an earlier one.
struct StrategyReader {
    let modules: ModuleTree
    let evaluator: Evaluator
    /// False when the model block could not be read: the strategy is then still checked
    /// for its own mistakes, but module selectors, which need the model, are not.
    let selectorsChecked: Bool
    private(set) var diagnostics: [Diagnostic] = []
    /// Every axis the mesh names, including any whose size is wrong (already reported).
    private var axes: [String] = []
    /// False without a mesh block: axis names are then not checked, since "the mesh does
    /// not declare 'data'" would only repeat "the strategy has no mesh".
    private var axesKnown = true
    private var explicit: [[String: (setting: NodeSetting, location: SourceLocation)]]

    init(modules: ModuleTree, evaluator: Evaluator, selectorsChecked: Bool = true) {
        self.modules = modules
        self.evaluator = evaluator
        self.selectorsChecked = selectorsChecked
        self.explicit = Array(repeating: [:], count: modules.nodes.count)
    }

    mutating func read(_ block: Block) -> StrategyDeclarations? {
        if let label = block.label {
            diagnostics.append(Diagnostic(at: block.location, "the strategy block takes no label, found '\(label)'",
                                          help: "write 'strategy { … }'"))
        }
        let blocks = block.members.compactMap { item -> Block? in if case let .block(b) = item { b } else { nil } }
        func single(_ name: StrategyBlock) -> Block? {
            let found = blocks.filter { $0.path.count == 1 && $0.name == name.rawValue }
            for extra in found.dropFirst() {
                diagnostics.append(Diagnostic(at: extra.location, "the strategy has more than one '\(name.rawValue)' block",
                                              help: "merge it into the one at line \(found[0].location.line)"))
            }
            return found.first
        }

        var mesh: [MeshAxis] = []
        let meshBlock = single(.mesh)
        if let meshBlock {
            (mesh, axes) = readMesh(meshBlock)
        } else {
            axesKnown = false
            diagnostics.append(Diagnostic(at: block.location, "the strategy has no mesh",
                                          help: "add 'mesh { data = 8 }' naming the axes laid onto the GPUs, outermost first"))
        }
        let pipeline = single(.pipeline).flatMap { readPipeline($0) }
        let gradientSync = single(.gradientSync).map { readGradientSync($0) }
            ?? GradientSyncSettings(bucketBytes: 25 * 1_048_576, overlap: true, afterLastMicroBatch: true)
        let fsdp = single(.fsdp).map { (readFSDP($0), $0.location) }

        readMembers(block.members, at: [ModuleTree.rootIndex], context: "the strategy block", written: "")
        guard meshBlock != nil, !mesh.isEmpty else { return nil }
        return StrategyDeclarations(mesh: mesh, meshLocation: meshBlock!.location, pipeline: pipeline,
                                    gradientSync: gradientSync, fsdp: fsdp, explicit: explicit)
    }

    // MARK: Top-level blocks

    /// The valid axes, and the names of all axes written (for checking axis references).
    private mutating func readMesh(_ block: Block) -> (mesh: [MeshAxis], names: [String]) {
        var fields = Fields(block.members, context: "the mesh", location: block.location, evaluator: evaluator)
        var mesh: [MeshAxis] = []
        var names: [String] = []
        for (name, value, location) in fields.all() {
            names.append(name)
            guard case let .integer(size) = value, size > 0 else {
                fields.diagnostics.append(Diagnostic(at: location, "mesh axis '\(name)' must have a positive integer size, found \(value)",
                                                     help: "write '\(name) = 4'"))
                continue
            }
            mesh.append(MeshAxis(name: name, size: size))
        }
        if mesh.isEmpty, fields.diagnostics.isEmpty {
            fields.diagnostics.append(Diagnostic(at: block.location, "the mesh declares no axes",
                                                 help: "name at least one axis, such as 'mesh { data = 8 }'"))
        }
        diagnostics += fields.finish()
        return (mesh, names)
    }

    private mutating func readPipeline(_ block: Block) -> PipelineDeclaration? {
        var fields = Fields(block.members, context: "the pipeline block", location: block.location, evaluator: evaluator)
        let axis = fields.name("axis", example: "pipe")
        let schedule = fields.choice("schedule", among: PipelineSchedule.allCases, default: .oneFOneB)
        let virtual = fields.positiveInteger("virtual_stages", required: false, example: "2")
        var layersPerChunk: [Int]?
        let stagesLocation = fields.location(of: "stages")
        if let (value, location) = fields.raw("stages", example: "even") {
            switch value {
            case .symbol("even"):
                break
            case let .list(values):
                let counts = values.compactMap { if case let .integer(n) = $0 { n } else { nil } }
                if counts.count != values.count || counts.contains(where: { $0 < 0 }) {
                    fields.diagnostics.append(Diagnostic(at: location, "'stages' must list the number of layers in each stage",
                                                         help: "write 'stages = even' or a list such as [3, 4, 4, 5]"))
                } else {
                    layersPerChunk = counts
                }
            default:
                fields.diagnostics.append(Diagnostic(at: location, "'stages' must be 'even' or a list of layer counts, found \(value)",
                                                     help: "write 'stages = even' or a list such as [3, 4, 4, 5]"))
            }
        }
        let axisLocation = fields.location(of: "axis")
        let scheduleLocation = fields.location(of: "schedule")
        let virtualLocation = fields.location(of: "virtual_stages")
        diagnostics += fields.finish()
        guard let axis, let schedule else { return nil }
        if !declares(axis.0) { diagnostics.append(unknownAxis(axis.0, at: axis.1, key: "the pipeline")) }
        return PipelineDeclaration(axis: axis.0, axisLocation: axisLocation, schedule: schedule.0, scheduleLocation: scheduleLocation,
                                   virtualStages: virtual ?? (schedule.0 == .interleaved ? 2 : 1),
                                   virtualStagesLocation: virtualLocation, layersPerChunk: layersPerChunk,
                                   stagesLocation: stagesLocation, location: block.location)
    }

    private mutating func readGradientSync(_ block: Block) -> GradientSyncSettings {
        var fields = Fields(block.members, context: "the grad_sync block", location: block.location, evaluator: evaluator)
        let bucket = fields.bytes("bucket", default: 25 * 1_048_576)
        let overlap = fields.boolean("overlap", default: true)
        let afterLast = fields.boolean("after_last_micro_batch", default: true)
        let average = fields.choice("average", among: GradientAverage.allCases, default: .pass)?.0 ?? .pass
        diagnostics += fields.finish()
        return GradientSyncSettings(bucketBytes: bucket, overlap: overlap, afterLastMicroBatch: afterLast, average: average)
    }

    private mutating func readFSDP(_ block: Block) -> FSDPSettings {
        var fields = Fields(block.members, context: "the fsdp block", location: block.location, evaluator: evaluator)
        let unit = fields.choice("unit", among: FSDPSettings.Unit.allCases, default: .layer)?.0 ?? .layer
        let prefetch = fields.nonNegativeInteger("prefetch", default: 1)
        let reshard = fields.boolean("reshard_after_forward", default: true)
        diagnostics += fields.finish()
        return FSDPSettings(unit: unit, prefetch: prefetch, reshardAfterForward: reshard)
    }

    // MARK: Modules and their attributes

    /// Reads `items` as settings on every node of `targets`, and nested blocks as module
    /// selectors below them.
    /// `written` is the module path as the user wrote it down to here (empty at the top of
    /// the strategy), so messages quote their selectors: 'layers[*].mlp', not layers[0].mlp.
    private mutating func readMembers(_ items: [Item], at targets: [Int], context: String, written: String) {
        let topLevel = written.isEmpty
        for item in items {
            switch item {
            case let .assignment(assignment):
                guard let setting = readSetting(assignment, on: targets, context: context) else { continue }
                for node in targets { record(setting, at: node, location: assignment.location) }
            case let .block(block):
                if block.path.count == 1, let strategyBlock = StrategyBlock(rawValue: block.name) {
                    if !topLevel {
                        diagnostics.append(Diagnostic(at: block.location, "'\(strategyBlock.rawValue)' applies to the whole job, not to \(context)",
                                                      help: "move it to the top level of the strategy block"))
                    }
                    continue
                }
                if block.path.count == 1, let attributeBlock = NodeAttributeBlock(rawValue: block.name) {
                    if block.path[0].selector != nil || block.label != nil {
                        diagnostics.append(Diagnostic(at: block.location, "the \(attributeBlock.rawValue) block takes no selector or label",
                                                      help: "write '\(attributeBlock.rawValue) { … }' inside the module it applies to"))
                    }
                    readAttributeBlock(attributeBlock, block, on: targets, context: context)
                    continue
                }
                let name = block.path.map { segment in segment.selector.map { "\(segment.name)[\($0)]" } ?? segment.name }
                    .joined(separator: ".")
                guard let selected = select(block.path, from: targets, under: written) else { continue }
                if let label = block.label {
                    diagnostics.append(Diagnostic(at: block.location, "a module block takes no label, found '\(label)'",
                                                  help: "write '\(name) { … }'"))
                }
                let full = written.isEmpty ? name : written + "." + name
                readMembers(block.members, at: selected, context: "'\(full)'", written: full)
            case let .parameter(parameter):
                diagnostics.append(Diagnostic(at: parameter.location, "'let' is allowed only at the top of the file",
                                              help: "move 'let \(parameter.name) = …' out of \(context)"))
            case let .importFile(file):
                diagnostics.append(Diagnostic(at: file.location, "'import' is allowed only at the top of the file",
                                              help: "move 'import \"\(file.path)\"' out of \(context)"))
            }
        }
    }

    private mutating func record(_ setting: NodeSetting, at node: Int, location: SourceLocation) {
        let key = setting.key
        // Partial precisions and splits merge with what an earlier line set on the same module.
        switch (setting, explicit[node][key]?.setting) {
        case let (.precision(w, a, g), .precision(w0, a0, g0)?):
            explicit[node][key] = (.precision(weights: w ?? w0, activations: a ?? a0, gradients: g ?? g0), location)
        case let (.split(new), .split(old)?):
            explicit[node][key] = (.split(old.merging(new) { $1 }), location)
        default:
            explicit[node][key] = (setting, location)
        }
    }

    private mutating func readSetting(_ assignment: Assignment, on targets: [Int], context: String) -> NodeSetting? {
        guard let key = NodeAttributeKey(rawValue: assignment.key) else {
            let known = NodeAttributeKey.allCases.map(\.rawValue)
            let suggestion = Spelling.closest(to: assignment.key, among: known + StrategyBlock.allCases.map(\.rawValue))
                .map { "did you mean '\($0)'? " } ?? ""
            diagnostics.append(Diagnostic(at: assignment.location, "unknown attribute '\(assignment.key)' in \(context)",
                                          help: "\(suggestion)attributes are \(known.joined(separator: ", "))"))
            return nil
        }
        let value: Value
        do {
            value = try evaluator.evaluate(assignment.value)
        } catch {
            diagnostics.append(error)
            return nil
        }
        let location = assignment.value.location
        func wrong() -> NodeSetting? {
            diagnostics.append(Diagnostic(at: location, "'\(key.rawValue)' must be \(key.expected), found \(value.quoted)",
                                          help: "write '\(key.rawValue) = \(key.example)'"))
            return nil
        }
        switch key {
        case .dataParallel:
            switch value {
            case .symbol("none"): return .dataParallel([])
            case let .symbol(axis): return checkAxes([axis], at: location, key: key) ? .dataParallel([axis]) : nil
            case let .list(values):
                let names = values.compactMap { if case let .symbol(name) = $0 { name } else { nil } }
                guard names.count == values.count else { return wrong() }
                var seen: Set<String> = []
                if let repeated = names.first(where: { !seen.insert($0).inserted }) {
                    let unique = names.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                    diagnostics.append(Diagnostic(at: location, "data_parallel lists the axis '\(repeated)' twice",
                                                  help: "list each axis once: 'data_parallel = \(unique.count == 1 ? unique[0] : "[" + unique.joined(separator: ", ") + "]")'"))
                    return nil
                }
                return checkAxes(names, at: location, key: key) ? .dataParallel(names) : nil
            default: return wrong()
            }
        case .tensorParallel, .contextParallel, .expertParallel:
            guard case let .symbol(axis) = value else { return wrong() }
            let chosen: String? = axis == "none" ? nil : axis
            if let chosen, !checkAxes([chosen], at: location, key: key) { return nil }
            switch key {
            case .tensorParallel: return .tensorParallel(chosen)
            case .contextParallel: return .contextParallel(chosen)
            default: return .expertParallel(chosen)
            }
        case .zero:
            guard case let .integer(stage) = value, (0...3).contains(stage) else { return wrong() }
            return .zero(stage)
        case .sequenceParallel:
            guard case let .boolean(flag) = value else { return wrong() }
            return .sequenceParallel(flag)
        case .recompute:
            guard let name = value.keyword, let choice = Recompute(rawValue: name) else { return wrongChoice(value, key, Recompute.allCases.map(\.rawValue), at: location) }
            return .recompute(choice)
        case .offload:
            let names: [String]? = switch value {
            case .symbol("none"): []
            case let .symbol(name): [name]
            case let .list(values): values.compactMap(\.keyword).count == values.count ? values.compactMap(\.keyword) : nil
            default: nil
            }
            guard let names else { return wrong() }
            var targets: [OffloadTarget] = []
            for name in names {
                guard let target = OffloadTarget(rawValue: name) else {
                    return wrongChoice(.symbol(name), key, OffloadTarget.allCases.map(\.rawValue) + ["none"], at: location)
                }
                targets.append(target)
            }
            return .offload(targets)
        case .precision:
            guard let name = value.keyword, let precision = Precision(rawValue: name) else {
                return wrongChoice(value, key, Precision.allCases.map(\.rawValue), at: location)
            }
            return .precision(weights: precision, activations: precision.isFloatingPoint ? precision : nil, gradients: nil)
        case .quant:
            guard let name = value.keyword, let (weights, activations) = Self.quantization(name) else {
                return wrongChoice(value, key, ["w4a16", "w8a16", "w8a8", "w4a8", "w4a4"], at: location)
            }
            return .precision(weights: weights, activations: activations, gradients: nil)
        case .kernel:
            guard case let .string(name) = value, !name.isEmpty else { return wrong() }
            return .kernel(name)
        case .tensorParallelStyle:
            guard let name = value.keyword, let style = TensorParallelStyle(rawValue: name) else {
                return wrongChoice(value, key, TensorParallelStyle.allCases.map(\.rawValue), at: location)
            }
            if style != .replicated, let container = targets.first(where: { !modules.nodes[$0].kind.isOp }) {
                diagnostics.append(Diagnostic(at: assignment.location,
                                              "tp_style = \(style.rawValue) applies to one op, but \(describe(container, context: context)) is a group of ops",
                                              help: "set it inside one of its ops (\(childNames(of: container))), or use tp_style = replicated for the whole group"))
                return nil
            }
            return .tensorParallelStyle(style)
        }
    }

    /// `w4a16` → (int4, nil: the training precision); `w8a8` → (int8, int8).
    static func quantization(_ name: String) -> (Precision, Precision?)? {
        let table: [String: (Precision, Precision?)] = [
            "w4a16": (.int4, nil), "w8a16": (.int8, nil), "w8a8": (.int8, .int8), "w4a8": (.int4, .int8), "w4a4": (.int4, .int4),
        ]
        return table[name]
    }

    private mutating func wrongChoice(_ value: Value, _ key: NodeAttributeKey, _ choices: [String], at location: SourceLocation) -> NodeSetting? {
        let text = value.keyword
        let help = text.flatMap { Spelling.closest(to: $0, among: choices) }.map { "did you mean '\($0)'?" }
            ?? "write '\(key.rawValue) = \(choices[0])'"
        diagnostics.append(Diagnostic(at: location, "'\(key.rawValue)' must be one of \(choices.joined(separator: ", ")), found \(text.map { "'\($0)'" } ?? value.kindName)",
                                      help: help))
        return nil
    }

    /// How a message names a target module: the path as written when there is one, so
    /// 'layers[*].attention' rather than the first of the modules it selects.
    private func describe(_ node: Int, context: String) -> String {
        context.hasPrefix("'") ? context : modules.path(of: node)
    }

    /// The distinct names of a module's children, for "set it on one of …" hints.
    private func childNames(of node: Int) -> String {
        var names: [String] = []
        for child in modules.nodes[node].children where !names.contains(modules.nodes[child].name) {
            names.append(modules.nodes[child].name)
        }
        return names.joined(separator: ", ")
    }

    private mutating func checkAxes(_ names: [String], at location: SourceLocation, key: NodeAttributeKey) -> Bool {
        var ok = true
        for name in names where !declares(name) {
            diagnostics.append(unknownAxis(name, at: location, key: key.rawValue))
            ok = false
        }
        return ok
    }

    /// Whether `name` is a mesh axis, or cannot be checked because the mesh is missing.
    private func declares(_ name: String) -> Bool { !axesKnown || axes.contains(name) }

    private func unknownAxis(_ name: String, at location: SourceLocation, key: String) -> Diagnostic {
        let suggestion = Spelling.closest(to: name, among: axes).map { "did you mean '\($0)'? " } ?? ""
        let declared = axes.isEmpty ? "the mesh declares none" : "the mesh's axes are \(axes.joined(separator: ", "))"
        return Diagnostic(at: location, "\(key) names the axis '\(name)', which the mesh does not declare",
                          help: "\(suggestion)\(declared)")
    }

    private mutating func readAttributeBlock(_ kind: NodeAttributeBlock, _ block: Block, on targets: [Int], context: String) {
        var fields = Fields(block.members, context: "the \(kind.rawValue) block", location: block.location, evaluator: evaluator)
        switch kind {
        case .precision:
            let floating = Precision.allCases
            let weights = fields.choice("weights", among: floating, default: nil, required: false)
            let activations = fields.choice("activations", among: floating, default: nil, required: false)
            let gradients = fields.choice("gradients", among: floating.filter(\.isFloatingPoint), default: nil, required: false)
            diagnostics += fields.finish()
            let setting = NodeSetting.precision(weights: weights?.0, activations: activations?.0, gradients: gradients?.0)
            for node in targets { record(setting, at: node, location: block.location) }
        case .split:
            var splits: [String: [String]] = [:]
            var reportedGroupSplit = false
            for (dimension, value, location) in fields.all() {
                guard let names = value.axisNames else {
                    fields.diagnostics.append(Diagnostic(at: location, "split '\(dimension)' must name mesh axes, found \(value)",
                                                         help: "write '\(dimension) = tensor', '\(dimension) = [data, context]' or '\(dimension) = none'"))
                    continue
                }
                for name in names where !declares(name) { fields.diagnostics.append(unknownAxis(name, at: location, key: "split \(dimension)")) }
                if let group = targets.first(where: { !modules.nodes[$0].kind.isOp }) {
                    if !reportedGroupSplit {
                        fields.diagnostics.append(Diagnostic(at: block.location, "split applies to one op, but \(describe(group, context: context)) is a group of ops",
                                                             help: "write the split block inside one of its ops (\(childNames(of: group)))"))
                        reportedGroupSplit = true
                    }
                } else if let node = targets.first(where: { !Layouts.dimensions(of: modules.nodes[$0].kind).contains(dimension) }) {
                    let dimensions = Layouts.dimensions(of: modules.nodes[node].kind)
                    let suggestion = Spelling.closest(to: dimension, among: dimensions).map { "did you mean '\($0)'? " } ?? ""
                    fields.diagnostics.append(Diagnostic(at: location, "'\(dimension)' is not a dimension of \(describe(node, context: context))",
                                                         help: "\(suggestion)its dimensions are \(dimensions.joined(separator: ", "))"))
                }
                splits[dimension] = names
            }
            diagnostics += fields.finish()
            for node in targets { record(.split(splits), at: node, location: block.location) }
        case .place:
            var weights: [String]?
            if let (value, location) = fields.raw("weights", example: "[tensor]") {
                if let names = value.axisNames {
                    for name in names where !declares(name) { fields.diagnostics.append(unknownAxis(name, at: location, key: "place weights")) }
                    weights = names
                } else {
                    fields.diagnostics.append(Diagnostic(at: location, "'weights' must name the mesh axes the weights are split over",
                                                         help: "write 'weights = [tensor]' or 'weights = none'"))
                }
            }
            diagnostics += fields.finish()
            if let weights {
                for node in targets { record(.placeWeights(weights), at: node, location: block.location) }
            }
        }
    }

    // MARK: Selectors

    /// The nodes `path` selects below each node of `targets`, or nil after a diagnostic.
    /// `outer` is the path written by the enclosing module blocks, for messages.
    private mutating func select(_ path: [PathSegment], from targets: [Int], under outer: String) -> [Int]? {
        guard selectorsChecked else { return [] }
        var current = targets
        var written = outer
        for segment in path {
            var next: [Int] = []
            let parentName = written.isEmpty ? "the model" : "'\(written)'"
            let children = current.flatMap { modules.nodes[$0].children }
            let named = children.filter { modules.nodes[$0].name == segment.name }
            let display = segment.selector.map { "\(segment.name)[\($0)]" } ?? segment.name
            guard !named.isEmpty else {
                var names: [String] = []
                for child in children where !names.contains(modules.nodes[child].name) { names.append(modules.nodes[child].name) }
                let suggestion = Spelling.closest(to: segment.name, among: names).map { "did you mean '\($0)'? " } ?? ""
                let available = names.isEmpty ? "it is a single op and has no modules" : "modules there are \(names.joined(separator: ", "))"
                diagnostics.append(Diagnostic(at: segment.location, "no module '\(segment.name)' under \(parentName)",
                                              help: "\(suggestion)\(available)"))
                return nil
            }
            let repeated = named.allSatisfy { modules.nodes[$0].index != nil }
            if let selector = segment.selector {
                guard repeated else {
                    diagnostics.append(Diagnostic(at: segment.location, "'\(segment.name)' is a single module and takes no selector",
                                                  help: "write '\(segment.name)' without '[…]'"))
                    return nil
                }
                let indices = Set(named.compactMap { modules.nodes[$0].index })
                let count = (indices.max() ?? -1) + 1
                let wanted: [Int] = switch selector {
                case .all: Array(0..<count)
                case let .index(i): [i]
                case let .range(low, high): Array(low...high)
                }
                if let outside = wanted.first(where: { !indices.contains($0) }) {
                    let valid = Self.describe(indices: indices.sorted())
                    diagnostics.append(Diagnostic(at: segment.location, "\(display) selects \(segment.name)[\(outside)], which does not exist",
                                                  help: "\(segment.name) has the indices \(valid)"))
                    return nil
                }
                let wantedSet = Set(wanted)
                next = named.filter { wantedSet.contains(modules.nodes[$0].index!) }
            } else {
                next = named
            }
            current = next
            written = written.isEmpty ? display : written + "." + display
        }
        return current
    }

    /// `0..95`, or `0..2, 4, 7..9` for gaps (MoE layers every other layer).
    static func describe(indices: [Int]) -> String {
        var parts: [String] = []
        var start = indices.first, previous = indices.first
        for index in indices.dropFirst() + [Int.min] {
            if let p = previous, index == p + 1 {
                previous = index
                continue
            }
            if let s = start, let p = previous { parts.append(s == p ? "\(s)" : "\(s)..\(p)") }
            start = index
            previous = index
        }
        return parts.joined(separator: ", ")
    }
}

extension Value {
    /// Mesh axes as written: `none` (no axes), one name, or a list of names; `nil` for
    /// anything else. A list holding something other than names gives only its names, so
    /// the caller's unknown-axis check reports them.
    var axisNames: [String]? {
        switch self {
        case .symbol("none"): []
        case let .symbol(axis): [axis]
        case let .list(values): values.compactMap { if case let .symbol(name) = $0 { name } else { nil } }
        default: nil
        }
    }

    /// The text of a keyword-like value: a bare name, a string, or `1f1b`-style quantities.
    var keyword: String? {
        switch self {
        case let .symbol(name), let .string(name), let .quantity(name): name
        case let .integer(value): String(value)
        default: nil
        }
    }
}

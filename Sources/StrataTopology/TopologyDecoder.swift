import StrataCore

/// Reads a schema-valid topology tree into a `TopologyDescription`, checking what the schema
/// cannot: units (again, as defence in depth), references between elements with "did you
/// mean", required GPU figures, and counts that must agree.
///
/// It collects every problem it finds rather than stopping at the first, so one run of the
/// loader shows the user everything to fix.
struct TopologyDecoder {
    /// The path diagnostics name.
    let file: String
    private(set) var diagnostics: [Diagnostic] = []

    init(file: String) { self.file = file }

    /// The precisions every GPU type must give a dense peak for: what the cost models assume
    /// any training GPU has. fp32, fp8, int8 and int4 are optional (an A100 has no fp8).
    static let requiredPrecisions: [Precision] = [.bf16, .fp16, .tf32]

    /// Decodes the `<cluster>` element; `nil` when anything was wrong (see `diagnostics`).
    mutating func decode(_ cluster: XMLElementTree) -> TopologyDescription? {
        let name = text(cluster, "name")
        let gpuTypes = cluster.children(named: "gpu-type").compactMap { gpuType($0) }
        let gpuTypeIDs = cluster.children(named: "gpu-type").map { text($0, "id") }
        var nodeTypes: [String: NodeTypeDescription] = [:]
        for element in cluster.children(named: "node-type") {
            if let nodeType = nodeType(element, gpuTypes: gpuTypes, gpuTypeIDs: gpuTypeIDs) {
                nodeTypes[nodeType.id] = nodeType
            }
        }
        guard let nodes = cluster.child(named: "nodes") else { return nil }
        let nodeCount = count(nodes, "count")
        let nodeTypeIDs = cluster.children(named: "node-type").map { text($0, "id") }
        let nodeTypeID = text(nodes, "type")
        if !nodeTypeIDs.contains(nodeTypeID) {
            unknownReference(nodeTypeID, kind: "node type", from: nodes, attribute: "type", known: nodeTypeIDs, definer: "node-type")
        }
        var fabric: FabricDescription?
        if let element = cluster.child(named: "fabric") { fabric = self.fabric(element) }
        guard diagnostics.isEmpty, let nodeType = nodeTypes[nodeTypeID] else { return nil }

        checkFabric(fabric, element: cluster.child(named: "fabric"), nodes: nodes, nodeCount: nodeCount, nodeType: nodeType)
        guard diagnostics.isEmpty else { return nil }
        return TopologyDescription(name: name, gpuTypes: gpuTypes, nodeType: nodeType, nodeCount: nodeCount, fabric: fabric)
    }

    // MARK: Elements

    private mutating func gpuType(_ element: XMLElementTree) -> GPUSpec? {
        let id = text(element, "id")
        var peak: [Precision: FlopRate] = [:]
        // A peak whose value was already reported is not also reported as missing.
        var unreadable = false
        for peakElement in element.children(named: "peak") {
            guard let precision = Precision(rawValue: text(peakElement, "precision")),
                  let rate = quantity(peakElement, "dense", .flopRate, positive: true) else {
                unreadable = true
                continue
            }
            if peak[precision] != nil {
                report(peakElement, "GPU type '\(id)' gives its \(precision.rawValue) peak twice",
                       help: "keep one <peak precision=\"\(precision.rawValue)\"> per precision")
            }
            peak[precision] = FlopRate(flopsPerSecond: rate)
        }
        let missing = Self.requiredPrecisions.filter { peak[$0] == nil }
        if !missing.isEmpty, !unreadable {
            let names = missing.map(\.rawValue).joined(separator: ", ")
            let first = missing[0].rawValue
            report(element, "GPU type '\(id)' lacks the required dense peak for \(names)",
                   help: "add <peak precision=\"\(first)\" dense=\"…TFLOPS\"/> for each from the GPU's datasheet (dense, not sparse); bf16, fp16 and tf32 are required, fp32, fp8, int8 and int4 optional")
        }
        guard let memory = element.child(named: "memory") else { return nil }
        let capacity = quantity(memory, "capacity", .bytes, positive: true)
        let bandwidth = quantity(memory, "bandwidth", .bandwidth, positive: true)
        guard missing.isEmpty, let capacity, let bandwidth else { return nil }
        return GPUSpec(
            id: id, name: text(element, "name"), peak: peak,
            memoryCapacity: ByteCount(Int64(capacity.rounded())),
            memoryBandwidth: Bandwidth(bytesPerSecond: bandwidth)
        )
    }

    private mutating func nodeType(_ element: XMLElementTree, gpuTypes: [GPUSpec], gpuTypeIDs: [String]) -> NodeTypeDescription? {
        guard let gpus = element.child(named: "gpus"), let nvswitch = element.child(named: "nvswitch") else { return nil }
        let gpuTypeID = text(gpus, "type")
        let gpu = gpuTypes.first { $0.id == gpuTypeID }
        if gpu == nil, !gpuTypeIDs.contains(gpuTypeID) {
            unknownReference(gpuTypeID, kind: "GPU type", from: gpus, attribute: "type", known: gpuTypeIDs, definer: "gpu-type")
        }
        let gpuCount = count(gpus, "count")
        let linksPerGPU = count(nvswitch, "links-per-gpu")
        let linkBandwidth = quantity(nvswitch, "link-bandwidth", .bandwidth, positive: true)
        let nvlinkLatency = quantity(nvswitch, "latency", .time, positive: false)

        var network: NodeNetworkDescription?
        if let pcie = element.child(named: "pcie"), let nics = element.child(named: "nics") {
            network = nodeNetwork(pcie: pcie, nics: nics, gpuCount: gpuCount)
            if network == nil { return nil }
        }
        guard let gpu, let linkBandwidth, let nvlinkLatency else { return nil }
        return NodeTypeDescription(
            id: text(element, "id"), gpu: gpu, gpuCount: gpuCount,
            nvlinkBandwidth: Bandwidth(bytesPerSecond: Double(linksPerGPU) * linkBandwidth),
            nvlinkLatency: SimTime(seconds: nvlinkLatency), network: network
        )
    }

    private mutating func nodeNetwork(pcie: XMLElementTree, nics: XMLElementTree, gpuCount: Int) -> NodeNetworkDescription? {
        let pcieBandwidth = quantity(pcie, "bandwidth", .bandwidth, positive: true)
        let pcieLatency = quantity(pcie, "latency", .time, positive: false)
        let nicCount = count(nics, "count")
        let nicBandwidth = quantity(nics, "bandwidth", .bandwidth, positive: true)
        let nicLatency = quantity(nics, "latency", .time, positive: false)

        // By default NICs are shared out evenly in order: with as many NICs as GPUs, GPU i
        // uses NIC i; with half as many, GPUs 0 and 1 share NIC 0, and so on.
        var nicOfGPU = (0..<gpuCount).map { $0 * nicCount / gpuCount }
        if let list = nics.attributes["nic-of-gpu"] {
            let entries = list.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).compactMap { Int($0) }
            if entries.count != gpuCount {
                report(nics, "attribute 'nic-of-gpu' of <nics> lists \(entries.count) NICs for \(gpuCount) GPUs",
                       help: "give one NIC index per GPU of the node, in GPU order")
                return nil
            }
            if let bad = entries.first(where: { $0 >= nicCount }) {
                report(nics, "attribute 'nic-of-gpu' of <nics> names NIC \(bad), but the node has \(nicCount) NICs",
                       help: "use NIC indices 0 to \(nicCount - 1)")
                return nil
            }
            nicOfGPU = entries
        }
        guard let pcieBandwidth, let pcieLatency, let nicBandwidth, let nicLatency else { return nil }
        return NodeNetworkDescription(
            pcieBandwidth: Bandwidth(bytesPerSecond: pcieBandwidth), pcieLatency: SimTime(seconds: pcieLatency),
            nicCount: nicCount, nicBandwidth: Bandwidth(bytesPerSecond: nicBandwidth),
            nicLatency: SimTime(seconds: nicLatency), nicOfGPU: nicOfGPU
        )
    }

    private mutating func fabric(_ element: XMLElementTree) -> FabricDescription? {
        guard let topology = FabricTopology(rawValue: text(element, "topology")) else { return nil }
        var spine: SpineDescription?
        if let spineElement = element.child(named: "spine") {
            let bandwidth = quantity(spineElement, "bandwidth", .bandwidth, positive: true)
            let latency = quantity(spineElement, "latency", .time, positive: false)
            guard let bandwidth, let latency else { return nil }
            spine = SpineDescription(
                count: count(spineElement, "count"), cablesPerLeaf: count(spineElement, "cables-per-leaf"),
                bandwidth: Bandwidth(bytesPerSecond: bandwidth), latency: SimTime(seconds: latency)
            )
        }
        return FabricDescription(topology: topology, nodesPerUnit: count(element, "nodes-per-unit"), spine: spine)
    }

    /// The rules that span elements: nodes need a fabric to meet, a fabric needs NICs to
    /// plug into, and several scalable units need a spine above their leaves.
    private mutating func checkFabric(
        _ fabric: FabricDescription?, element: XMLElementTree?, nodes: XMLElementTree, nodeCount: Int, nodeType: NodeTypeDescription
    ) {
        guard let fabric, let element else {
            if nodeCount > 1 {
                report(nodes, "a cluster of \(nodeCount) nodes needs a <fabric> to connect them",
                       help: "add <fabric topology=\"rail-optimized-fat-tree\" nodes-per-unit=\"…\"> after <nodes>, or set count=\"1\"")
            }
            return
        }
        if nodeType.network == nil {
            report(element, "the fabric connects NICs, but node type '\(nodeType.id)' has none",
                   help: "add <pcie …/> and <nics …/> to <node-type id=\"\(nodeType.id)\">")
        }
        let units = (nodeCount + fabric.nodesPerUnit - 1) / fabric.nodesPerUnit
        if units > 1, fabric.spine == nil {
            report(element, "\(nodeCount) nodes in units of \(fabric.nodesPerUnit) make \(units) scalable units, which need a spine tier to reach each other",
                   help: "add <spine count=\"…\" cables-per-leaf=\"…\" bandwidth=\"…\" latency=\"…\"/> inside <fabric>")
        }
    }

    // MARK: Attribute readers

    /// A required attribute as written. The schema guarantees presence, so a miss here is
    /// reported rather than trapped, in case the two ever disagree.
    private mutating func text(_ element: XMLElementTree, _ attribute: String) -> String {
        if let value = element.attributes[attribute] { return value }
        report(element, "<\(element.name)> is missing the required attribute '\(attribute)'",
               help: "add \(attribute)=\"…\" to <\(element.name)>; \(TopologyDiagnostics.schemaHelp)")
        return ""
    }

    private mutating func count(_ element: XMLElementTree, _ attribute: String) -> Int {
        let value = text(element, attribute)
        guard let number = Int(value.trimmingWhitespace()), number > 0 else {
            report(element, "attribute '\(attribute)' of <\(element.name)>: '\(value)' is not a whole number of at least 1",
                   help: "write a count such as 8")
            return 1
        }
        return number
    }

    /// A quantity in its kind's base unit, checked with `UnitParser` (the schema only checks
    /// "number then letters"). `positive` rejects zero where zero would mean a broken link or
    /// a GPU that cannot compute.
    private mutating func quantity(_ element: XMLElementTree, _ attribute: String, _ kind: QuantityKind, positive: Bool) -> Double? {
        let value = text(element, attribute)
        let location = SourceLocation(file: file, line: element.line)
        do {
            let number = try UnitParser.parse(value, as: kind)
            if positive, number == 0 {
                report(element, "attribute '\(attribute)' of <\(element.name)>: '\(value)' is zero; a \(kind.rawValue) here must be more than zero",
                       help: "use the datasheet figure, for example \(kind.example)")
                return nil
            }
            return number
        } catch {
            diagnostics.append(TopologyDiagnostics.quantity(error, attribute: attribute, element: element.name, at: location))
            return nil
        }
    }

    private mutating func unknownReference(
        _ id: String, kind: String, from element: XMLElementTree, attribute: String, known: [String], definer: String
    ) {
        let hint = Spelling.closest(to: id, among: known).map { "did you mean '\($0)'? " } ?? ""
        let list = known.isEmpty ? "none are defined" : "defined: \(known.joined(separator: ", "))"
        report(element, "<\(element.name)> refers to \(kind) '\(id)', which is not defined",
               help: "\(hint)\(list); define it with <\(definer) id=\"\(id)\"> or fix attribute '\(attribute)'")
    }

    private mutating func report(_ element: XMLElementTree, _ message: String, help: String) {
        diagnostics.append(Diagnostic(at: SourceLocation(file: file, line: element.line), message, help: help))
    }
}

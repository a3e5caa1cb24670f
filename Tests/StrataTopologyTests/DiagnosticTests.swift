import Testing
import StrataCore
@testable import StrataTopology

/// Golden text for everything a user sees when a topology file is wrong. Each input is the
/// small valid cluster of `Fixtures.smallCluster()` with one fault put in; the path is a
/// fixed fake one so the text is the same on every machine.
@Suite struct DiagnosticTests {
    static let path = "topologies/bad.xml"

    /// The rendered diagnostics for `xml`, or a note that it loaded.
    static func diagnostics(_ xml: String) -> String {
        do {
            _ = try TopologyLoader.load(xml: xml, path: path)
            return "(loaded without errors)"
        } catch {
            return error.description
        }
    }

    /// `Fixtures.smallCluster()` with `original` replaced by `replacement`; fails the test
    /// if `original` is not there, so a changed fixture cannot make a test vacuous.
    static func small(replacing original: String, with replacement: String) -> String {
        let base = Fixtures.smallCluster()
        #expect(base.contains(original), "fixture lacks \(original)")
        return base.replacingOccurrences(of: original, with: replacement)
    }

    @Test func theFixtureIsValid() {
        #expect(Self.diagnostics(Fixtures.smallCluster()) == "(loaded without errors)")
    }

    @Test func malformedXML() {
        let xml = Self.small(replacing: #"<nodes type="n" count="4"/>"#, with: #"<nodes type="n" count="4">"#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:19: error: malformed XML: opening and ending tag mismatch: nodes line 15 and cluster
              help: fix the XML syntax here; every tag needs a matching end tag or must close with '/>'
            topologies/bad.xml:19: error: malformed XML: premature end of data in tag cluster line 2
              help: fix the XML syntax here; every tag needs a matching end tag or must close with '/>'
            """)
    }

    @Test func missingRequiredAttribute() {
        let xml = Self.small(replacing: #"link-bandwidth="25GBps" latency="0.5us"/>"#, with: #"link-bandwidth="25GBps"/>"#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:11: error: <nvswitch> is missing the required attribute 'latency'
              help: add latency="…" to <nvswitch>; docs/topology.md describes every element and attribute (schema: topologies/topology-v1.xsd)
            """)
    }

    @Test func missingRequiredElement() {
        let xml = Self.small(replacing: #"    <nvswitch links-per-gpu="2" link-bandwidth="25GBps" latency="0.5us"/>"# + "\n", with: "")
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:11: error: <pcie> is not allowed here; expected <nvswitch>
              help: elements must appear in the order docs/topology.md gives
            """)
    }

    @Test func misspelledElementAndAttribute() {
        let xml = Self.small(replacing: #"<nvswitch links-per-gpu"#, with: #"<nvswitch link-per-gpu"#)
            .replacingOccurrences(of: "<nodes ", with: "<node ")
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:11: error: <nvswitch> does not take the attribute 'link-per-gpu'
              help: did you mean 'links-per-gpu'? <nvswitch> takes 'links-per-gpu', 'link-bandwidth', 'latency'
            topologies/bad.xml:11: error: <nvswitch> is missing the required attribute 'links-per-gpu'
              help: add links-per-gpu="…" to <nvswitch>; docs/topology.md describes every element and attribute (schema: topologies/topology-v1.xsd)
            topologies/bad.xml:15: error: <node> is not allowed here; expected <node-type> or <nodes>
              help: did you mean <nodes>? elements must appear in the order docs/topology.md gives
            """)
    }

    /// The schema catches `400` (no letters); the message is UnitParser's, not libxml2's.
    @Test func unitlessValue() {
        let xml = Self.small(replacing: #"bandwidth="200Gbps" latency="1us""#, with: #"bandwidth="400" latency="1us""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:13: error: attribute 'bandwidth' of <nics>: '400' has no unit
              help: a bandwidth must carry one, for example 400Gbps or 450GBps (units: Bps KBps MBps GBps TBps GiBps bps Kbps Mbps Gbps Tbps)
            """)
    }

    /// `400Gbs` has the schema's shape, so the loader's own unit check catches it.
    @Test func unknownUnit() {
        let xml = Self.small(replacing: #"bandwidth="200Gbps" latency="1us""#, with: #"bandwidth="400Gbs" latency="1us""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:13: error: attribute 'bandwidth' of <nics>: '400Gbs' has the unknown bandwidth unit 'Gbs'
              help: did you mean 'Gbps'? units are Bps KBps MBps GBps TBps GiBps bps Kbps Mbps Gbps Tbps
            """)
    }

    /// Whatever UnitParser says about a unit, the loader says the same, split into rule and fix.
    @Test(arguments: ["400Gbit", "400gbps", "12 furlongs", "1.2.3GBps"])
    func unitMessagesAreUnitParsers(value: String) throws {
        let xml = Self.small(replacing: #"bandwidth="200Gbps" latency="1us""#, with: #"bandwidth="\#(value)" latency="1us""#)
        var expected = ""
        do { _ = try UnitParser.parse(value, as: .bandwidth) } catch { expected = error.message }
        let (rule, fix) = TopologyDiagnostics.splitRuleAndFix(expected)
        if value.contains(" ") || value.filter({ $0 == "." }).count > 1 {
            // The schema's "number then letters" pattern rejects these before the loader reads them.
            #expect(Self.diagnostics(xml).hasPrefix("topologies/bad.xml:13: error: attribute 'bandwidth' of <nics>: "))
        } else {
            #expect(Self.diagnostics(xml) == "topologies/bad.xml:13: error: attribute 'bandwidth' of <nics>: \(rule)\n  help: \(fix ?? "")")
        }
    }

    @Test func everyProblemIsReported() {
        let xml = Self.small(replacing: #"<pcie bandwidth="32GBps" latency="1us"/>"#, with: #"<pcie bandwidth="32" latency="1"/>"#)
            .replacingOccurrences(of: #"<memory capacity="16GiB""#, with: #"<memory capacity="16""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:7: error: attribute 'capacity' of <memory>: '16' has no unit
              help: a bytes must carry one, for example 80GiB (units: B KB MB GB TB KiB MiB GiB TiB)
            topologies/bad.xml:12: error: attribute 'bandwidth' of <pcie>: '32' has no unit
              help: a bandwidth must carry one, for example 400Gbps or 450GBps (units: Bps KBps MBps GBps TBps GiBps bps Kbps Mbps Gbps Tbps)
            topologies/bad.xml:12: error: attribute 'latency' of <pcie>: '1' has no unit
              help: a time must carry one, for example 1.2us (units: s ms us ns ps)
            """)
    }

    @Test func unknownGPUTypeReference() {
        let xml = Self.small(replacing: #"<gpus type="g""#, with: #"<gpus type="gg""#)
            .replacingOccurrences(of: #"<gpu-type id="g""#, with: #"<gpu-type id="h100-sxm""#)
            .replacingOccurrences(of: #"<gpus type="gg""#, with: #"<gpus type="h100-sxn""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:10: error: <gpus> refers to GPU type 'h100-sxn', which is not defined
              help: did you mean 'h100-sxm'? defined: h100-sxm; define it with <gpu-type id="h100-sxn"> or fix attribute 'type'
            """)
    }

    @Test func unknownNodeTypeReference() {
        let xml = Self.small(replacing: #"<nodes type="n""#, with: #"<nodes type="dgx""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:15: error: <nodes> refers to node type 'dgx', which is not defined
              help: defined: n; define it with <node-type id="dgx"> or fix attribute 'type'
            """)
    }

    @Test func gpuTypeWithoutItsFigures() {
        let xml = Self.small(replacing: #"<peak precision="tf32" dense="50TFLOPS"/>"#, with: "")
            .replacingOccurrences(of: #"<peak precision="fp16""#, with: #"<peak precision="fp8""#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:3: error: GPU type 'g' lacks the required dense peak for fp16, tf32
              help: add <peak precision="fp16" dense="…TFLOPS"/> for each from the GPU's datasheet (dense, not sparse); bf16, fp16 and tf32 are required, fp32, fp8, int8 and int4 optional
            """)
    }

    @Test func gpuTypeWithoutMemory() {
        let xml = Self.small(replacing: #"<memory capacity="16GiB" bandwidth="1TBps"/>"#, with: "")
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:3: error: <gpu-type> is missing the child element <peak> or <memory>
              help: add it inside <gpu-type>; docs/topology.md describes every element and attribute (schema: topologies/topology-v1.xsd)
            """)
    }

    @Test func valuesOutsideTheirSets() {
        let xml = Self.small(replacing: #"precision="tf32""#, with: #"precision="tf31""#)
            .replacingOccurrences(of: #"version="1""#, with: #"version="2""#)
            .replacingOccurrences(of: #"<nodes type="n" count="4"/>"#, with: #"<nodes type="n" count="0"/>"#)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:2: error: attribute 'version' of <cluster>: '2' is not a topology format version this Strata reads
              help: write version="1"; docs/topology.md describes version 1
            topologies/bad.xml:6: error: attribute 'precision' of <peak>: 'tf31' is not one of the allowed values
              help: did you mean 'tf32'? allowed: fp32, tf32, bf16, fp16, fp8, int8, int4
            topologies/bad.xml:15: error: attribute 'count' of <nodes>: '0' is not a whole number of at least 1
              help: write a count such as 8
            """)
    }

    @Test func crossElementRules() {
        let noSpine = Self.small(
            replacing: #"    <spine count="2" cables-per-leaf="1" bandwidth="200Gbps" latency="0.5us"/>"# + "\n", with: "")
        #expect(Self.diagnostics(noSpine) == """
            topologies/bad.xml:16: error: 4 nodes in units of 2 make 2 scalable units, which need a spine tier to reach each other
              help: add <spine count="…" cables-per-leaf="…" bandwidth="…" latency="…"/> inside <fabric>
            """)
        let badMap = Self.small(replacing: #"nic-of-gpu="0 1""#, with: #"nic-of-gpu="0 2""#)
        #expect(Self.diagnostics(badMap) == """
            topologies/bad.xml:13: error: attribute 'nic-of-gpu' of <nics> names NIC 2, but the node has 2 NICs
              help: use NIC indices 0 to 1
            """)
        let duplicate = Self.small(replacing: #"<node-type id="n">"#, with: """
            <gpu-type id="g" name="Again"><peak precision="bf16" dense="1TFLOPS"/><memory capacity="1GB" bandwidth="1GBps"/></gpu-type>
              <node-type id="n">
            """)
        #expect(Self.diagnostics(duplicate) == """
            topologies/bad.xml:9: error: <gpu-type> id 'g' is defined twice
              help: give every <gpu-type> its own id
            """)
    }

    @Test func noFabricBetweenNodes() {
        let start = Fixtures.smallCluster().range(of: "  <fabric")!.lowerBound
        let end = Fixtures.smallCluster().range(of: "</fabric>\n")!.upperBound
        var xml = Fixtures.smallCluster()
        xml.removeSubrange(start..<end)
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:15: error: a cluster of 4 nodes needs a <fabric> to connect them
              help: add <fabric topology="rail-optimized-fat-tree" nodes-per-unit="…"> after <nodes>, or set count="1"
            """)
    }

    @Test func notATopology() {
        #expect(Self.diagnostics(#"<platform version="4.1"/>"#) == """
            topologies/bad.xml:1: error: <platform> is not a topology; the root element must be <cluster>
              help: start the file with <cluster name="…" version="1">
            """)
        #expect(Self.diagnostics("  \n") == """
            topologies/bad.xml: error: is empty
              help: a topology file starts with <cluster name="…" version="1">; see docs/topology.md
            """)
    }

    /// External entities are never fetched or expanded into a topology: libxml2 refuses the
    /// reference and the loader reports it like any other syntax error.
    @Test func externalEntitiesAreNotExpanded() {
        let xml = """
            <?xml version="1.0"?>
            <!DOCTYPE cluster [ <!ENTITY secret SYSTEM "file:///etc/hostname"> ]>
            <cluster name="&secret;" version="1"/>
            """
        #expect(Self.diagnostics(xml) == """
            topologies/bad.xml:3: error: malformed XML: attribute references external entity 'secret'
              help: fix the XML syntax here; every tag needs a matching end tag or must close with '/>'
            """)
    }

    @Test func missingFile() {
        #expect(Self.diagnostics(fileAt: "topologies/does-not-exist.xml") == """
            topologies/does-not-exist.xml: error: no such file
              help: check the path; the shipped topologies are in topologies/, for example topologies/dgx-h100.xml
            """)
        #expect(Self.diagnostics(fileAt: "/") == """
            /: error: is a directory, not a topology file
              help: give the path of a topology XML file that you can read
            """)
    }

    static func diagnostics(fileAt path: String) -> String {
        do {
            _ = try TopologyLoader.load(path: path)
            return "(loaded without errors)"
        } catch {
            return error.description
        }
    }
}

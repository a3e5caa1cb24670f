import ArgumentParser
import Foundation
import StrataCore
import StrataCost
import StrataEngine
import StrataGraph
import StrataModel
import StrataTopology

/// `simulate cost`: the predicted time of one op or collective, as a run would price it.
struct CostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cost",
        abstract: "Print the predicted time of one op or collective on a topology's GPU.",
        discussion: """
            Prices the op with the cost model a run on the topology would use: measured tables \
            for its GPU, another GPU's efficiencies transferred, or the roofline. Ops and keys:
              gemm m= n= k= [dtype=] [pass=] [kernel=]
              attention batch= heads= seq= head_dim= [kv_heads=] [causal=true] [pass=] [dtype=] [kernel=]
              layer_norm | rms_norm | gelu | swiglu  tokens= hidden= [pass=] [dtype=]
              cross_entropy tokens= vocab= [pass=] [dtype=]
              embedding tokens= hidden= vocab= [pass=] [dtype=]
              adamw parameters=
              all_reduce | all_gather | reduce_scatter | all_to_all  bytes= gpus=
            dtype defaults to bf16 and kv_heads to heads; pass is forward (the default) or backward, a \
            gemm's also backward-input or backward-weight; kernel names a table under \
            traces/<gpu>/kernels/. Sizes take units (bytes=256MiB); a collective runs on the \
            topology's first `gpus` GPUs.
            """
    )

    @Argument(help: ArgumentHelp("The op or collective, such as gemm or all_reduce.", valueName: "op"))
    var op: String

    @Argument(help: ArgumentHelp("Its shape as key=value pairs, such as m=8192 n=6144 k=2048.", valueName: "key=value"))
    var parameters: [String] = []

    @Option(help: ArgumentHelp("The topology whose GPU (and links) price the op.", valueName: "path"))
    var topology: String

    @Option(help: ArgumentHelp("Measured kernel tables (default: traces/ beside the topology's folder).", valueName: "dir"))
    var traces: String?

    @Flag(help: "Print JSON instead of text.")
    var json = false

    static let computeOps = ["gemm", "attention", "layer_norm", "rms_norm", "gelu", "swiglu", "cross_entropy", "embedding", "adamw"]
    static let collectiveOps = CollectiveKind.allNames

    /// Required and optional keys per op.
    static func keys(of op: String) -> (required: [String], optional: [String]) {
        switch op {
        case "gemm": (["m", "n", "k"], ["dtype", "pass", "kernel"])
        case "attention": (["batch", "heads", "seq", "head_dim"], ["kv_heads", "causal", "pass", "dtype", "kernel"])
        case "layer_norm", "rms_norm", "gelu", "swiglu": (["tokens", "hidden"], ["pass", "dtype"])
        case "cross_entropy": (["tokens", "vocab"], ["pass", "dtype"])
        case "embedding": (["tokens", "hidden", "vocab"], ["pass", "dtype"])
        case "adamw": (["parameters"], [])
        default: (["bytes", "gpus"], [])
        }
    }

    struct Result: Codable {
        var op: String
        var parameters: [String: String]
        var gpu: String
        var topology: String
        var costs: String
        var seconds: Double
        var flops: Double?
        var bytes: Double?
        var rooflineSeconds: Double?
        var algorithmBandwidthGBps: Double?
        var busBandwidthGBps: Double?
    }

    static func error(_ message: String, help: String) -> DiagnosticError {
        DiagnosticError(Diagnostic(file: "simulate cost", message, help: help))
    }

    func run() throws {
        let all = Self.computeOps + Self.collectiveOps
        guard all.contains(op) else {
            let guess = Spelling.closest(to: op, among: all).map { "did you mean '\($0)'? " } ?? ""
            throw Self.error("unknown op '\(op)'", help: "\(guess)ops: \(all.joined(separator: ", "))")
        }
        let (required, optional) = Self.keys(of: op)
        let accepted = "\(op) takes \((required + optional.map { "[\($0)]" }).joined(separator: " "))"
        var values: [String: String] = [:]
        for parameter in parameters {
            guard let equals = parameter.firstIndex(of: "="), equals != parameter.startIndex else {
                throw Self.error("expected key=value, got '\(parameter)'", help: accepted)
            }
            let key = String(parameter[..<equals]), value = String(parameter[parameter.index(after: equals)...])
            guard required.contains(key) || optional.contains(key) else {
                let guess = Spelling.closest(to: key, among: required + optional).map { "did you mean '\($0)'? " } ?? ""
                throw Self.error("\(op) has no key '\(key)'", help: guess + accepted)
            }
            values[key] = value
        }
        let missing = required.filter { values[$0] == nil }
        guard missing.isEmpty else {
            throw Self.error("\(op) needs \(missing.map { "\($0)=" }.joined(separator: ", "))", help: accepted)
        }
        let cluster = try TopologyLoader.load(path: topology)
        let (costs, model) = try Pipeline.costs(for: cluster, topologyPath: topology, traces: traces)
        let gpu = cluster.gpus[0].spec
        var result = Result(op: op, parameters: values, gpu: gpu.id, topology: topology, costs: costs.description, seconds: 0)

        if let kind = CollectiveKind(rawValue: op) {
            let bytes = try Self.quantity(values["bytes"]!, key: "bytes", op: op)
            let gpus = try Self.integer(values["gpus"]!, key: "gpus", op: op)
            guard gpus >= 1, gpus <= cluster.gpus.count else {
                throw Self.error("gpus=\(gpus) is not between 1 and the topology's \(cluster.gpus.count) GPUs", help: accepted)
            }
            result.seconds = CollectiveProbe.seconds(kind, bytes: Int64(bytes), group: Array(0..<gpus), cluster: cluster,
                                                     calibration: costs.network)
            let n = Double(gpus)
            let share = kind == .allReduce ? 2 * (n - 1) / n : (n - 1) / n
            if result.seconds > 0 {
                result.algorithmBandwidthGBps = bytes / result.seconds / 1e9
                result.busBandwidthGBps = bytes / result.seconds * share / 1e9
            }
            result.bytes = bytes
        } else {
            let (family, work, pass, kernel) = try Self.op(op, values, accepted: accepted)
            if let kernel, let model, model.kernels[kernel] == nil {
                let folder = Resolver.normalized((model.folder as NSString).appendingPathComponent("kernels/\(kernel)"))
                let guess = Spelling.closest(to: kernel, among: model.kernelNames).map { "did you mean '\($0)'? " } ?? ""
                throw Self.error("no tables for kernel \"\(kernel)\" in \(folder)/",
                                 help: guess + "kernels with tables: \(model.kernelNames.isEmpty ? "none" : model.kernelNames.joined(separator: ", "))")
            }
            guard gpu.peak[work.precision] != nil else {
                throw Self.error("\(gpu.id) cannot compute in \(work.precision.rawValue)",
                                 help: "use one of: \(Precision.allCases.filter { gpu.peak[$0] != nil }.map { Self.dtypeName($0) }.joined(separator: ", "))")
            }
            result.seconds = costs.compute.seconds(family: family, pass: pass, work: work, gpu: gpu, kernel: kernel)
            result.flops = work.flops
            result.bytes = work.bytes
            result.rooflineSeconds = Roofline.seconds(for: work, on: gpu)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
        } else {
            print(Self.render(result, order: required + optional))
        }
    }

    static func render(_ result: Result, order: [String]) -> String {
        let shape = order.compactMap { key in result.parameters[key].map { "\(key)=\($0)" } }.joined(separator: " ")
        var lines = ["\(result.op) \(shape) on \(result.gpu) (\(result.topology))",
                     "  time      \(Format.duration(result.seconds))"]
        if let flops = result.flops, let bytes = result.bytes, let roofline = result.rooflineSeconds {
            lines.append("  work      \(Format.flops(flops)), \(Format.bytes(bytes)) moved")
            if result.seconds > 0, flops > 0 { lines.append("  rate      \(Format.flopRate(flops / result.seconds))") }
            lines.append("  roofline  \(Format.duration(roofline)) (\(Format.percent(roofline / max(result.seconds, 1e-30))) of it reached)")
        }
        if let algorithm = result.algorithmBandwidthGBps, let bus = result.busBandwidthGBps {
            lines.append("  bandwidth \(Format.fixed(algorithm, 1)) GB/s algorithm, \(Format.fixed(bus, 1)) GB/s bus")
        }
        lines.append("  costs     \(result.costs)")
        return lines.joined(separator: "\n")
    }

    static func integer(_ text: String, key: String, op: String) throws(DiagnosticError) -> Int {
        guard let value = Int(text.replacingOccurrences(of: "_", with: "")), value > 0 else {
            throw error("\(key)=\(text) is not a positive whole number", help: "write it as digits, such as \(key)=4096")
        }
        return value
    }

    static func quantity(_ text: String, key: String, op: String) throws(DiagnosticError) -> Double {
        if let plain = Double(text), plain > 0 { return plain }
        do {
            let value = try UnitParser.parse(text, as: .bytes)
            guard value > 0 else { throw error("\(key)=\(text) is not positive", help: "such as \(key)=256MiB") }
            return value
        } catch let failure as DiagnosticError {
            throw failure
        } catch {
            throw Self.error("\(key)=\(text) is not a size", help: "a number of bytes with a unit, such as \(key)=256MiB (B, KB, MB, GB, KiB, MiB, GiB)")
        }
    }

    static let dtypes: [String: Precision] = ["bf16": .bf16, "fp16": .fp16, "fp8": .fp8, "fp8_e4m3": .fp8, "int8": .int8,
                                              "int4": .int4, "fp32": .fp32, "tf32": .tf32]
    static let passes: [String: KernelPass] = ["forward": .forward, "backward": .backward, "backward-input": .backwardInput,
                                               "backward-weight": .backwardWeight]

    static func dtypeName(_ precision: Precision) -> String { precision.rawValue }

    static func choice<T>(_ values: [String: String], _ key: String, _ table: [String: T], default fallback: T) throws(DiagnosticError) -> T {
        guard let text = values[key] else { return fallback }
        guard let value = table[text] else {
            let names = table.keys.sorted()
            let guess = Spelling.closest(to: text, among: names).map { "did you mean '\($0)'? " } ?? ""
            throw error("\(key)=\(text) is not one of the accepted values", help: "\(guess)\(key) is one of: \(names.joined(separator: ", "))")
        }
        return value
    }

    /// Builds the op with `OpCosts`, as the model builder does, so its work is a run's.
    static func op(_ op: String, _ values: [String: String], accepted: String) throws(DiagnosticError)
        -> (OpFamily, Work, KernelPass, String?) {
        func int(_ key: String) throws(DiagnosticError) -> Int { try integer(values[key]!, key: key, op: op) }
        let precision = try choice(values, "dtype", dtypes, default: .bf16)
        // Only products with weights split their backward (zero-bubble schedules).
        let pass = try choice(values, "pass", op == "gemm" ? passes : passes.filter { !$0.key.hasPrefix("backward-") }, default: .forward)
        let built: Op
        switch op {
        case "gemm":
            built = OpCosts.gemm(op, m: try int("m"), n: try int("n"), k: try int("k"), bias: false, precision: precision)
        case "attention":
            let heads = try int("heads")
            let kvHeads = values["kv_heads"] == nil ? heads : try int("kv_heads")
            let causal = try choice(values, "causal", ["true": true, "false": false], default: true)
            let sequence = try int("seq")
            built = OpCosts.attention(op, batch: try int("batch"), heads: heads, kvHeads: kvHeads, queryLength: sequence,
                                      keyLength: sequence, headDim: try int("head_dim"), maskedFraction: causal ? 0.5 : 1,
                                      precision: precision)
        case "layer_norm", "rms_norm":
            built = OpCosts.norm(op, tokens: try int("tokens"), hidden: try int("hidden"), layerNorm: op == "layer_norm", precision: precision)
        case "gelu":
            built = OpCosts.gelu(op, elements: try int("tokens") * int("hidden"), precision: precision)
        case "swiglu":
            built = OpCosts.swiglu(op, elements: try int("tokens") * int("hidden"), precision: precision)
        case "cross_entropy":
            built = OpCosts.crossEntropy(op, tokens: try int("tokens"), vocabulary: try int("vocab"), precision: precision)
        case "embedding":
            built = OpCosts.embedding(op, tokens: try int("tokens"), hidden: try int("hidden"), vocabularyRows: try int("vocab"),
                                      positionRows: 0, precision: precision)
        default:
            let state = TrainingState(optimizer: .adamw, weightPrecision: .bf16, gradientPrecision: .bf16, masterWeights: true)
            let step = state.step(parameters: Int64(try int("parameters")))
            return (step.family, step.forward, .forward, nil)
        }
        // A split backward is half the whole one's work, as the compiler splits it.
        let work: Work = switch pass {
        case .forward: built.forward
        case .backward: built.backward
        case .backwardInput, .backwardWeight:
            Work(flops: built.backward.flops / 2, bytes: built.backward.bytes / 2, precision: built.backward.precision)
        }
        return (built.family, work, pass, values["kernel"])
    }
}

extension CollectiveKind {
    static var allNames: [String] { ["all_reduce", "all_gather", "reduce_scatter", "all_to_all"] }
}

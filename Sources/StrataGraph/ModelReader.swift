import Foundation
import StrataCore
import StrataDSL
import StrataModel

/// Reads `model <family> { … }`, with an optional `moe { … }` block that makes the MLPs
/// mixtures of experts.
enum ModelReader {
    static func read(_ block: Block, evaluator: Evaluator, diagnostics: inout [Diagnostic]) -> ModelConfig? {
        var fields = Fields(block.members, context: "the model block", location: block.location, evaluator: evaluator)
        let families = ModelFamily.allCases.map(\.rawValue)
        let family = block.label.flatMap(ModelFamily.init(rawValue:))
        if family == nil {
            let found = block.label.map { "'\($0)'" } ?? "none"
            let suggestion = block.label.flatMap { Spelling.closest(to: $0, among: families) }.map { "did you mean '\($0)'? " } ?? ""
            diagnostics.append(Diagnostic(at: block.location, "the model family must be one of \(families.joined(separator: ", ")), found \(found)",
                                          help: "\(suggestion)write 'model llama { … }' or 'model gpt { … }'"))
        }
        let layers = fields.positiveInteger("layers", example: "32")
        let hidden = fields.positiveInteger("hidden", example: "4096")
        let heads = fields.positiveInteger("heads", example: "32")
        let kvHeads = fields.positiveInteger("kv_heads", required: false, example: "8")
        let ffn = fields.positiveInteger("ffn", required: family == .llama, example: "14336")
        let vocab = fields.positiveInteger("vocab", example: "128256")
        let seq = fields.positiveInteger("seq", example: "8192")
        let tied = fields.boolean("tied_embeddings", default: family != .llama)
        if let hidden, let heads, hidden % heads != 0 {
            fields.diagnostics.append(Diagnostic(at: fields.location(of: "heads"), "hidden size \(hidden) is not divisible by \(heads) heads",
                                                 help: "choose heads that divide hidden, such as \(divisors(of: hidden, near: heads))"))
        }
        if let heads, let kvHeads, heads % kvHeads != 0 {
            fields.diagnostics.append(Diagnostic(at: fields.location(of: "kv_heads"), "\(heads) query heads do not divide into groups of \(kvHeads) key/value heads",
                                                 help: "choose kv_heads that divide heads, such as \(divisors(of: heads, near: kvHeads))"))
        }
        var moe: MoEConfig?
        var moeProblem = false
        for extra in fields.blocks.filter({ $0.name == "moe" }).dropFirst() {
            fields.diagnostics.append(Diagnostic(at: extra.location, "the model has more than one moe block", help: "merge them into one"))
        }
        if let moeBlock = fields.blocks.first(where: { $0.name == "moe" }) {
            moe = readMoE(moeBlock, evaluator: evaluator, ffn: ffn ?? (hidden ?? 0) * 4, layers: layers,
                          diagnostics: &diagnostics)
            moeProblem = moe == nil
        }
        diagnostics += fields.finish(allowingBlocks: ["moe"])
        guard let family, let layers, let hidden, let heads, let vocab, let seq, !moeProblem else { return nil }
        return ModelConfig(family: family, layers: layers, hidden: hidden, heads: heads, kvHeads: kvHeads ?? heads,
                           ffnHidden: ffn ?? 4 * hidden, vocabulary: vocab, sequence: seq, tiedEmbeddings: tied, moe: moe)
    }

    private static func readMoE(_ block: Block, evaluator: Evaluator, ffn: Int, layers: Int?,
                                diagnostics: inout [Diagnostic]) -> MoEConfig? {
        var fields = Fields(block.members, context: "the moe block", location: block.location, evaluator: evaluator)
        let experts = fields.positiveInteger("experts", example: "8")
        let topK = fields.positiveInteger("top_k", example: "2")
        let expertFFN = fields.positiveInteger("expert_ffn", required: false, example: "14336") ?? ffn
        let shared = fields.nonNegativeInteger("shared_experts", default: 0)
        var capacity: Double?
        if let (value, location) = fields.raw("capacity_factor", example: "1.25") {
            switch value {
            case .symbol("none"): capacity = nil
            case let .integer(n) where n > 0: capacity = Double(n)
            case let .real(x) where x > 0: capacity = x
            default:
                fields.diagnostics.append(Diagnostic(at: location, "'capacity_factor' must be a positive number or none, found \(value.quoted)",
                                                     help: "write 'capacity_factor = 1.25', or 'none' for dropless routing"))
            }
        }
        let every = fields.positiveInteger("every", required: false, example: "2") ?? 1
        let firstDense = fields.nonNegativeInteger("first_dense", default: 0)
        let kinds = ["uniform", "zipf", "histogram"]
        let routingKind = fields.choice("routing", among: kinds.map { Keyword(rawValue: $0)! }, default: Keyword(rawValue: "uniform")!)
        let alphaLocation = fields.location(of: "alpha")
        let alpha = fields.positiveNumber("alpha", default: 1.0)
        let histogram = fields.string("histogram", required: routingKind?.0.rawValue == "histogram", example: "\"routing.csv\"")
        let seed = fields.nonNegativeInteger("seed", default: 0)

        var routing = RoutingDistribution.uniform
        switch routingKind?.0.rawValue {
        case "zipf":
            routing = .zipf(alpha: alpha)
        case "histogram":
            if let (path, location) = histogram, let experts {
                if let weights = readHistogram(path, experts: experts, at: location, diagnostics: &fields.diagnostics) {
                    routing = .histogram(path: path, weights: weights)
                }
            }
        default:
            if fields.has("alpha") {
                fields.diagnostics.append(Diagnostic(at: alphaLocation, "'alpha' applies only to zipf routing",
                                                     help: "add 'routing = zipf' or remove 'alpha'"))
            }
        }
        if let experts, let topK, topK > experts {
            fields.diagnostics.append(Diagnostic(at: fields.location(of: "top_k"), "top_k \(topK) exceeds the \(experts) experts",
                                                 help: "each token picks at most every expert once: top_k ≤ \(experts)"))
        }
        if let layers, firstDense >= layers {
            fields.diagnostics.append(Diagnostic(at: fields.location(of: "first_dense"), "first_dense \(firstDense) leaves no MoE layer among \(layers)",
                                                 help: "use first_dense < \(layers)"))
        }
        let problems = fields.finish()
        diagnostics += problems
        guard let experts, let topK, problems.isEmpty else { return nil }
        return MoEConfig(experts: experts, topK: topK, expertFFN: expertFFN, sharedExperts: shared, capacityFactor: capacity,
                         every: every, firstDense: firstDense, routing: routing, seed: seed)
    }

    /// Per-expert weights from a file: numbers separated by commas, spaces or newlines;
    /// `#` starts a comment line.
    private static func readHistogram(_ path: String, experts: Int, at location: SourceLocation,
                                      diagnostics: inout [Diagnostic]) -> [Double]? {
        // Relative to the file that sets it, which may be an imported base in another folder.
        let resolved = Resolver.resolvePath(path, relativeTo: location.file)
        guard let data = FileManager.default.contents(atPath: resolved), let text = String(data: data, encoding: .utf8) else {
            diagnostics.append(Diagnostic(at: location, "cannot read the routing histogram '\(resolved)'",
                                          help: "a path is relative to the folder of the file that sets it (\(location.file))"))
            return nil
        }
        var weights: [Double] = []
        for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
            for field in line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }) {
                guard let weight = Double(field), weight >= 0 else {
                    diagnostics.append(Diagnostic(at: location, "'\(field)' in \(resolved) is not a non-negative number",
                                                  help: "list one weight per expert, separated by commas or newlines"))
                    return nil
                }
                weights.append(weight)
            }
        }
        guard weights.count == experts, weights.reduce(0, +) > 0 else {
            diagnostics.append(Diagnostic(at: location, "\(resolved) lists \(weights.count) weights for \(experts) experts",
                                          help: "give exactly one weight per expert, not all zero"))
            return nil
        }
        return weights
    }

    static func divisors(of value: Int, near target: Int) -> String {
        let candidates = (1...max(1, value)).filter { value % $0 == 0 }
        let sorted = candidates.sorted { abs($0 - target) < abs($1 - target) || (abs($0 - target) == abs($1 - target) && $0 < $1) }
        return sorted.prefix(2).sorted().map(String.init).joined(separator: " or ")
    }
}

/// A keyword choice from a list known only at run time.
struct Keyword: RawRepresentable {
    var rawValue: String
    init?(rawValue: String) { self.rawValue = rawValue }
}

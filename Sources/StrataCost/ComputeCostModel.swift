import Foundation
import StrataCore
import StrataModel
import StrataTopology

/// Which part of training a kernel is, as far as its cost is concerned.
public enum KernelPass: Hashable, Sendable {
    case forward
    /// Input and weight gradients together.
    case backward
    case backwardInput
    case backwardWeight
}

/// Prices one kernel on one GPU.
public protocol ComputeCostModel: Sendable {
    /// Seconds `work` of an op of `family` takes in `pass` on `gpu`, run by the kernel
    /// implementation named `kernel` (a strategy's `kernel = "name"`), or the stock one.
    func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec, kernel: String?) -> Double

    /// How many kernels the host launches for the op: what its host-side cost scales with
    /// (`LaunchCosts`). One, except where an implementation runs a loop of kernels.
    func launches(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> Int

    /// Why the op's price is extrapolated beyond measurements, or nil (models without
    /// measurements never say: nothing of theirs was measured to be outside of).
    func outOfRange(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> String?
}

extension ComputeCostModel {
    public func launches(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> Int { 1 }
    public func outOfRange(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> String? { nil }

    /// Seconds with the stock kernels.
    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec) -> Double {
        seconds(family: family, pass: pass, work: work, gpu: gpu, kernel: nil)
    }
}

/// The uncalibrated model: every kernel at the datasheet peak (docs/cost-model.md).
/// Kernel names change nothing: the roofline has no tables to choose from.
public struct RooflineCostModel: ComputeCostModel {
    public init() {}

    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec, kernel: String?) -> Double {
        Roofline.seconds(for: work, on: gpu)
    }
}

/// Kernel times from tables measured on the GPU (docs/cost-model.md, "Calibrated costs").
///
/// - Matrix products take the GPU's kernel floor plus their FLOPs at the throughput the
///   nearest measured shapes reached above that floor, interpolated in log(m), log(n),
///   log(k) by inverse distance over the four nearest shapes of the same precision; a
///   backward is its two products (input and weight gradients), each priced at its own shape.
/// - Flash attention fits the throughput of block-counted score work over the nearest
///   measured cases of the same pass (`attentionSeconds`, `AttentionTiles`).
/// - Memory-bound ops move their bytes at the bandwidth the same op reached on the nearest
///   measured size (interpolated in log bytes); an op without a table uses the device copy's.
/// - Anything else (fp32 and tf32 products, which were not measured) falls back to the roofline.
///
/// Custom kernels (`kernels/<name>/` beside the stock tables) are models of the same kind;
/// an op whose subtree names one is priced from that kernel's tables first, and from the
/// stock tables for whatever the kernel's tables do not cover (another family, another
/// precision). A kernel's `grouped_gemm.csv` prices a grouped product as one kernel, by
/// the same interpolation over (total rows, n, k) of throughput per scheduled FLOP
/// (`GroupedGemmTiling`), where the table says how its rows were routed.
public struct MeasuredCostModel: ComputeCostModel {
    /// One measured product (or grouped product: `logM` is then its total rows).
    struct GemmPoint {
        var logM, logN, logK: Double
        /// Scheduled FLOPs (useful FLOPs over the grouped tiling's efficiency in whole waves,
        /// `GroupedGemmTiling`; the useful FLOPs for a plain product) per second of the time
        /// above the kernel floor.
        var flopsPerSecond: Double
        /// The measured time.
        var seconds: Double
        /// log of the grouped tiling's padding, its efficiency with blocks counted one by one
        /// (0 for a plain product): a fourth coordinate, so that rows of one total but
        /// different routing stay apart even where they fill the same waves.
        var logPadding = 0.0
        /// log of the number of groups (experts with rows; 0 for a plain product): a fifth
        /// coordinate, since a grouped kernel pays per group as well as per tile, so 8,192
        /// rows over 8 experts cost more than over 2 at equal tiling.
        var logGroups = 0.0
        /// The grouped kernel's tile configuration (`GroupedGemmTiling.configuration`;
        /// empty for a plain product): rows of another configuration are not neighbours.
        var configuration = ""
        /// A shape whose throughput is far from what its neighbours predict
        /// (`isolateAnomalies`): reproduced at its own shape, not lent to others.
        var isolated = false
    }

    struct BandwidthCurve {
        /// (log bytes, bytes per second), sorted by size.
        var points: [(logBytes: Double, bytesPerSecond: Double)]
        /// The precision the op was measured in.
        var dtype: String

        /// The bandwidth at `bytes` (`LogBytesInterpolation`); NaN for an empty curve.
        func bandwidth(at bytes: Double) -> Double {
            LogBytesInterpolation.value(at: bytes, count: points.count, logBytes: { points[$0].logBytes },
                                        value: { points[$0].bytesPerSecond }) ?? .nan
        }
    }

    let gemm: [String: [GemmPoint]]
    /// Grouped products timed as one kernel, by precision (kernel tables only: the stock
    /// grouped table's loops are priced as their per-expert products).
    let groupedGemm: [String: [GemmPoint]]
    /// Whether every grouped row said how its tokens were routed, so that its throughput is
    /// per scheduled FLOP and a query's routing is priced (`GroupedGemmTiling`); a table of
    /// totals alone is interpolated per useful FLOP.
    let groupedGemmKnowsRouting: Bool
    /// The grouped kernel this model's `grouped_gemm.csv` times (a kernel's name), which
    /// says how it picks its tile configuration (`GroupedGemmTiling.configuration`).
    let groupedKernel: String?
    /// The shortest time a kernel takes (`LaunchCosts.kernelFloor`): what a product costs
    /// before its work, so that small products are not priced at a large one's throughput.
    let kernelFloor: Double
    let attention: [AttentionPoint]
    /// LayerNorm's and RMSNorm's measured cases, by op and pass (`normSeconds`).
    let norms: [String: [NormPoint]]
    let bandwidth: [String: BandwidthCurve]
    let fallback = RooflineCostModel()
    /// The attention implementation whose rows are used.
    public let attentionImplementation: String
    /// Custom kernels' models, by the name a strategy's `kernel = "name"` gives.
    public let kernels: [String: MeasuredCostModel]
    /// Where the tables came from.
    public let folder: String

    /// The custom kernels that have tables, sorted.
    public var kernelNames: [String] { kernels.keys.sorted() }

    public init(tables: MeasuredTables, attentionImplementation: String = "sdpa-flash") {
        self.init(tables: tables, attentionImplementation: attentionImplementation,
                  kernelFloor: LaunchCosts.fit(tables).kernelFloor, kernel: nil)
    }

    /// `kernelFloor` comes from the stock folder's `launch.csv`: a kernel's folder has none.
    /// `kernel` names the kernel whose tables these are (nil for the stock tables).
    init(tables: MeasuredTables, attentionImplementation: String, kernelFloor: Double, kernel: String?) {
        let isKernel = kernel != nil
        groupedKernel = kernel
        self.attentionImplementation = attentionImplementation
        folder = tables.folder
        // Never above half the fastest measured product, so that every row keeps time above it.
        let fastest = ["gemm", "grouped_gemm"].compactMap { tables.tables[$0] }.flatMap { table in
            table.rows.compactMap { table.number($0, "median_us") }.filter { $0 > 0 }.map { $0 * 1e-6 }
        }.min()
        self.kernelFloor = min(kernelFloor, (fastest ?? .infinity) / 2)
        gemm = Self.gemmPoints(tables.tables["gemm"], rows: "m", floor: self.kernelFloor)
        let grouped = tables.tables["grouped_gemm"]
        groupedGemmKnowsRouting = isKernel && grouped.map { table in
            table.rows.allSatisfy { Self.profiledTokens(table, $0) != nil }
        } ?? false
        groupedGemm = isKernel ? Self.gemmPoints(grouped, rows: "m_total", floor: self.kernelFloor,
                                                 routed: groupedGemmKnowsRouting, kernel: kernel) : [:]
        // A kernel's table is all its own implementation; the stock one mixes backends.
        attention = Self.attentionPoints(tables.tables["attention"], implementation: isKernel ? nil : attentionImplementation)
        var curves: [String: [(Double, Double)]] = [:]
        var dtypes: [String: String] = [:]
        if let table = tables.tables["elementwise"] {
            for row in table.rows {
                guard let op = row["op"], let pass = row["pass"], let bytes = table.number(row, "bytes"),
                      let us = table.number(row, "median_us"), bytes > 0, us > 0 else { continue }
                curves["\(op)/\(pass)", default: []].append((log(bytes), bytes / (us * 1e-6)))
                dtypes["\(op)/\(pass)"] = row["dtype"] ?? "?"
            }
        }
        norms = Self.normPoints(tables.tables["elementwise"])
        bandwidth = Dictionary(uniqueKeysWithValues: curves.map { key, points in
            (key, BandwidthCurve(points: points.sorted { $0.0 < $1.0 }, dtype: dtypes[key]!))
        })
        // Custom kernel folders, and the stock grouped table's own grouped kernels (a folder
        // of the same name wins).
        let kernelTables = isKernel ? [:] : tables.stockGroupedKernels.merging(tables.kernels) { _, custom in custom }
        kernels = Dictionary(uniqueKeysWithValues: kernelTables.map { name, tables in
            (name, MeasuredCostModel(tables: tables, attentionImplementation: attentionImplementation, kernelFloor: kernelFloor, kernel: name))
        })
    }

    /// The measured attention cases of `table`, those of `implementation` only where one is
    /// named (the stock table mixes backends; a kernel's is all its own).
    static func attentionPoints(_ table: MeasuredTables.Table?, implementation: String?) -> [AttentionPoint] {
        guard let table else { return [] }
        return table.rows.compactMap { row -> AttentionPoint? in
            guard implementation == nil || row["impl"] == implementation,
                  let batch = table.number(row, "batch"), let seq = table.number(row, "seq"),
                  let heads = table.number(row, "heads"), let d = table.number(row, "head_dim"),
                  let us = table.number(row, "median_us"), let pass = row["pass"] else { return nil }
            let kvHeads = table.number(row, "kv_heads").map { max(1, $0) } ?? heads
            return AttentionPoint(pass: pass, sequence: seq, headDim: d, lanes: batch * heads, group: heads / kvHeads,
                                  causal: table.number(row, "causal").map { $0 != 0 } ?? true, seconds: us * 1e-6)
        }
    }

    /// Each row's throughput above `floor`, by precision; with `routed`, per scheduled FLOP
    /// of the row's routing in the tile configuration `kernel` picks for it
    /// (`profiledTokens`, `GroupedGemmTiling`).
    static func gemmPoints(_ table: MeasuredTables.Table?, rows: String, floor: Double, routed: Bool = false,
                           kernel: String? = nil) -> [String: [GemmPoint]] {
        var points: [String: [GemmPoint]] = [:]
        guard let table else { return points }
        for row in table.rows {
            guard let m = table.number(row, rows), let n = table.number(row, "n"), let k = table.number(row, "k"),
                  let us = table.number(row, "median_us"), let dtype = row["dtype"], us > 0, m > 0, n > 0, k > 0 else { continue }
            var (efficiency, padding, configuration) = (1.0, 1.0, ""), groups = 1
            if routed, let tokens = profiledTokens(table, row) {
                groups = GroupedGemmTiling.groups(tokens)
                (efficiency, padding, configuration) = groupedTiling(kernel: kernel, tokens: tokens, n: Int(n), k: Int(k))
            }
            points[dtype, default: []].append(GemmPoint(logM: log(m), logN: log(n), logK: log(k),
                                                        flopsPerSecond: 2 * m * n * k / efficiency / (us * 1e-6 - floor),
                                                        seconds: us * 1e-6, logPadding: log(padding),
                                                        logGroups: log(Double(groups)), configuration: configuration))
        }
        return points.mapValues(isolateAnomalies)
    }

    /// Marks the shapes whose throughput is more than `anomalyTolerance` off what their
    /// neighbours predict without them: an odd shape's kernel choice or a disturbed
    /// measurement (one H100 run timed 1024 × 8192 × 3584 in bf16 at 322 TFLOP/s between
    /// neighbours at 700–780; another, 740), and a harmonic mean would lend that slowness
    /// to every shape near it.
    static func isolateAnomalies(_ points: [GemmPoint]) -> [GemmPoint] {
        guard points.count > 4 else { return points }
        var marked = points
        for index in points.indices {
            var others = points
            let held = others.remove(at: index)
            guard let predicted = throughput(at: held, from: others) else { continue }
            if abs(held.flopsPerSecond / predicted - 1) > anomalyTolerance { marked[index].isolated = true }
        }
        return marked
    }

    /// The throughput `interpolate` gives at a measured point's own coordinates, from
    /// `others` (leave-one-out: the point itself held out).
    static func throughput(at held: GemmPoint, from others: [GemmPoint]) -> Double? {
        interpolate(others, m: exp(held.logM), n: exp(held.logN), k: exp(held.logK), padding: exp(held.logPadding),
                    groups: exp(held.logGroups), configuration: held.configuration)
    }

    /// How far (relative) a measured throughput may be from its neighbours' before it is
    /// taken for an anomaly of that one shape.
    static let anomalyTolerance = 0.3

    /// The per-expert token counts of a grouped row, where its columns say how the profiler
    /// routed them and they add up to its `m_total` (and `max_tokens_per_expert`, if given).
    static func profiledTokens(_ table: MeasuredTables.Table, _ row: [String: String]) -> [Int]? {
        guard let experts = table.number(row, "experts"), let topk = table.number(row, "topk"),
              let tokens = table.number(row, "tokens"), let distribution = row["distribution"], let total = table.number(row, "m_total"),
              let counts = ProfiledTokenCounts.counts(tokens: Int(tokens), topk: Int(topk), experts: Int(experts), distribution: distribution),
              Double(counts.reduce(0, +)) == total,
              table.number(row, "max_tokens_per_expert").map({ Double(counts.max()!) == $0 }) ?? true else { return nil }
        return counts
    }

    /// The table's precision name for `precision`, if products in it were measured.
    static func tableName(_ precision: Precision) -> String? {
        switch precision {
        case .bf16, .fp16: "bf16"
        case .fp8: "fp8_e4m3"
        case .int8: "int8"
        case .int4: "int4"
        case .fp32, .tf32: nil
        }
    }

    /// Inverse-distance interpolation of throughput over the four shapes nearest to
    /// (log m, log n, log k, and for grouped rows log padding and log groups) — a harmonic
    /// mean of their throughputs, weighted by 1/d², so time per FLOP is what is averaged; an
    /// exact shape returns its own throughput.
    ///
    /// The throughputs are above the kernel floor (`GemmPoint`): a 1024 × 1024 × 512
    /// product takes 7.6 µs of which 2.1 µs any kernel takes, so averaging whole times
    /// per FLOP would blur a fixed cost into a rate.
    ///
    /// Grouped rows count only among rows of the query's tile `configuration`
    /// (`GroupedGemmTiling`), where any were measured; otherwise among all rows.
    ///
    /// - Complexity: O(*p*) for *p* points.
    static func interpolate(_ points: [GemmPoint], m: Double, n: Double, k: Double, padding: Double = 1,
                            groups: Double = 1, configuration: String = "") -> Double? {
        guard !points.isEmpty else { return nil }
        let restrict = points.contains { $0.configuration == configuration }
        let (x, y, z, e, g) = (log(max(m, 1)), log(max(n, 1)), log(max(k, 1)), log(padding), log(max(groups, 1)))
        // One pass, no sort: the nearest shape of all (an exact match returns its own rate,
        // set aside or not), the four nearest that lend, and the four nearest of all for a
        // table where every candidate is set aside. Ties keep the table's order.
        var lenders = Nearest(), all = Nearest()
        for point in points where !restrict || point.configuration == configuration {
            let distance = ((point.logM - x) * (point.logM - x) + (point.logN - y) * (point.logN - y) + (point.logK - z) * (point.logK - z)
                + (point.logPadding - e) * (point.logPadding - e) + (point.logGroups - g) * (point.logGroups - g)).squareRoot()
            all.offer(distance, point.flopsPerSecond)
            if !point.isolated { lenders.offer(distance, point.flopsPerSecond) }
        }
        if let exact = all.items.first, exact.distance < 1e-9 { return exact.rate }
        return combine(lenders.items.isEmpty ? all.items : lenders.items)
    }

    /// The four (distance, rate) pairs nearest so far, nearest first; among equal distances
    /// the one offered first comes first.
    struct Nearest {
        private(set) var items: [(distance: Double, rate: Double)] = []

        init() { items.reserveCapacity(5) }

        mutating func offer(_ distance: Double, _ rate: Double) {
            if items.count == 4, distance >= items[3].distance { return }
            let position = items.firstIndex { distance < $0.distance } ?? items.count
            items.insert((distance, rate), at: position)
            if items.count > 4 { items.removeLast() }
        }
    }

    /// The inverse-square-distance weighted harmonic mean of the neighbours' throughputs.
    static func combine(_ nearest: [(distance: Double, rate: Double)]) -> Double {
        var weights = 0.0, secondsPerFLOP = 0.0
        for (distance, rate) in nearest {
            let weight = 1 / (distance * distance)
            weights += weight
            secondsPerFLOP += weight / rate
        }
        return weights / secondsPerFLOP
    }

    /// Seconds for an `[m, k] × [k, n]` product, or nil when no table covers it.
    func gemmSeconds(m: Double, n: Double, k: Double, precision: Precision) -> Double? {
        guard let name = Self.tableName(precision), let points = gemm[name],
              let rate = Self.interpolate(points, m: m, n: n, k: k) else { return nil }
        return kernelFloor + 2 * m * n * k / rate
    }

    /// This model's own price for a product, attention or memory-bound op, or nil where its
    /// tables do not cover it (so a kernel's model defers to the stock one).
    func ownSeconds(family: OpFamily, pass: KernelPass, work: Work) -> Double? {
        switch family {
        case let .gemm(m, n, k):
            let (m, n, k) = (Double(m), Double(n), Double(k))
            let forward = { gemmSeconds(m: m, n: n, k: k, precision: work.precision) }
            let inputGradient = { gemmSeconds(m: m, n: k, k: n, precision: work.precision) }
            let weightGradient = { gemmSeconds(m: k, n: n, k: m, precision: work.precision) }
            return switch pass {
            case .forward: forward()
            case .backward: inputGradient().flatMap { a in weightGradient().map { a + $0 } }
            case .backwardInput: inputGradient()
            case .backwardWeight: weightGradient()
            }
        case let .groupedGemm(tokens, n, k):
            // One grouped kernel: the throughput it reached on the nearest (rows, n, k), per
            // FLOP its tiles schedule for these experts' rows; a backward's two products at
            // the forward's rate and tiling.
            let (efficiency, padding, configuration) = groupedTiling(tokens: tokens, n: n, k: k)
            guard let name = Self.tableName(work.precision), let points = groupedGemm[name],
                  let rate = Self.interpolate(points, m: Double(tokens.reduce(0, +)), n: Double(n), k: Double(k),
                                              padding: padding, groups: Double(GroupedGemmTiling.groups(tokens)),
                                              configuration: configuration) else { return nil }
            return kernelFloor + work.flops / efficiency / rate
        case let .attention(batch, heads, kvHeads, sequence, headDim, causal):
            let wanted = pass == .forward ? "fwd" : "bwd"
            guard let scaled = Self.attentionSeconds(attention.filter { $0.pass == wanted }, lanes: Double(batch * heads),
                                                     sequence: Double(sequence), headDim: Double(headDim),
                                                     group: Double(heads) / Double(max(1, kvHeads)), causal: causal) else { return nil }
            return pass == .backwardInput || pass == .backwardWeight ? scaled / 2 : scaled
        case let .layerNorm(tokens, hidden), let .rmsNorm(tokens, hidden):
            if let key = Self.elementwiseKey(family, pass), let points = norms[key] {
                return Self.normSeconds(points, tokens: Double(tokens), hidden: Double(hidden), bytes: work.bytes)
            }
            return memoryBoundSeconds(family: family, pass: pass, work: work)
        default:
            return memoryBoundSeconds(family: family, pass: pass, work: work)
        }
    }

    /// A memory-bound op's bytes at the bandwidth its op and pass reached at that size
    /// (the device copy's where the op was not measured).
    func memoryBoundSeconds(family: OpFamily, pass: KernelPass, work: Work) -> Double? {
        guard let key = Self.elementwiseKey(family, pass), let curve = bandwidth[key] ?? bandwidth["copy_d2d/fwd"] else { return nil }
        let rate = curve.bandwidth(at: work.bytes)
        return rate.isFinite && rate > 0 ? work.bytes / rate : nil
    }

    /// The part of a memory-bound op's time on this GPU that does not grow with its bytes
    /// (the launch, a wave's latency, a reduction's last pass): the intercept of the line
    /// time = α + bytes / β through its two smallest measured sizes (the median time at
    /// each), kept within [0, the smaller size's time]. The device copy's where the op has
    /// no rows; nil for the families priced otherwise (products, attention). Another GPU's
    /// price keeps it and scales only the rest (`TransferredCostModel`).
    public func fixedSeconds(family: OpFamily, pass: KernelPass) -> Double? {
        guard let key = Self.elementwiseKey(family, pass), let curve = bandwidth[key] ?? bandwidth["copy_d2d/fwd"]
        else { return nil }
        var sizes: [(bytes: Double, seconds: [Double])] = []
        for point in curve.points {
            let bytes = exp(point.logBytes), seconds = bytes / point.bytesPerSecond
            if let last = sizes.last, abs(last.bytes - bytes) <= 1e-9 * bytes {
                sizes[sizes.count - 1].seconds.append(seconds)
            } else {
                if sizes.count == 2 { break }
                sizes.append((bytes, [seconds]))
            }
        }
        guard sizes.count == 2 else { return nil }
        let (b1, t1) = (sizes[0].bytes, InterpolationError.percentile(sizes[0].seconds, 0.5))
        let (b2, t2) = (sizes[1].bytes, InterpolationError.percentile(sizes[1].seconds, 0.5))
        return min(t1, max(0, (t1 * b2 - t2 * b1) / (b2 - b1)))
    }

    /// A grouped product's tiling efficiency (in whole waves where the kernel's are known),
    /// its padding (blocks one by one) and tile configuration in this model's grouped
    /// kernel (`GroupedGemmTiling`); 1, 1 and none where the table does not say how its rows
    /// were routed, so that its throughput is per useful FLOP.
    func groupedTiling(tokens: [Int], n: Int, k: Int) -> (efficiency: Double, padding: Double, configuration: String) {
        guard groupedGemmKnowsRouting else { return (1, 1, "") }
        return Self.groupedTiling(kernel: groupedKernel, tokens: tokens, n: n, k: k)
    }

    /// The tiling of `tokens` rows per expert at `n` × `k` in `kernel`'s configuration for
    /// them: one rule for a measured row (`gemmPoints`) and for a query.
    static func groupedTiling(kernel: String?, tokens: [Int], n: Int, k: Int)
        -> (efficiency: Double, padding: Double, configuration: String) {
        let tiling = GroupedGemmTiling.configuration(kernel: kernel, experts: tokens.count, rows: tokens.reduce(0, +), n: n, k: k)
        return (GroupedGemmTiling.efficiency(tokens: tokens, n: n, configuration: tiling),
                GroupedGemmTiling.efficiency(tokens: tokens, n: n, configuration: tiling, inWaves: false), tiling.name)
    }

    /// The elementwise table's `op/pass` for a memory-bound family: dropout, residual adds
    /// and copies read the device copy's curve; an op whose rows a table lacks (MoE's
    /// permutations and the layout copy in tables older than 2026-11-28) falls back to it.
    static func elementwiseKey(_ family: OpFamily, _ pass: KernelPass) -> String? {
        let name: String? = switch family {
        case .layerNorm: "layer_norm"
        case .rmsNorm: "rms_norm"
        case .gelu: "gelu"
        case .swiglu: "swiglu"
        case .crossEntropy: "cross_entropy"
        case .rope: "rope"
        case .gradientAccumulation: "accumulate"
        case .embedding: "embedding"
        case .optimizerStep: "adamw"
        case .moePermute: "moe_permute"
        case .moeUnpermute: "moe_unpermute"
        case .layoutCopy: "layout_copy"
        case .add, .dropout, .copy: "copy_d2d"
        default: nil
        }
        guard let name else { return nil }
        if name == "copy_d2d" || name == "accumulate" || name == "layout_copy" { return "\(name)/fwd" }
        return "\(name)/\(family == .optimizerStep ? "step" : (pass == .forward ? "fwd" : "bwd"))"
    }

    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec, kernel: String?) -> Double {
        // The named kernel's tables first, then the stock ones.
        let custom = kernel.flatMap { kernels[$0] }
        if let custom, let priced = custom.ownSeconds(family: family, pass: pass, work: work) { return priced }
        if case let .groupedGemm(tokens, n, k) = family {
            // The experts one after another (the loop PyTorch runs without grouped kernels),
            // each product from the named kernel's GEMM table where it has one.
            var total = 0.0
            for rows in tokens where rows > 0 {
                let share = Double(rows) / Double(max(1, tokens.reduce(0, +)))
                let part = Work(flops: work.flops * share, bytes: work.bytes * share, precision: work.precision)
                total += seconds(family: .gemm(m: rows, n: n, k: k), pass: pass, work: part, gpu: gpu, kernel: kernel)
            }
            return total
        }
        return ownSeconds(family: family, pass: pass, work: work) ?? fallback.seconds(family: family, pass: pass, work: work, gpu: gpu)
    }

    /// A grouped product without a grouped kernel's table runs as a loop: one launch per
    /// expert that received tokens.
    public func launches(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> Int {
        guard case let .groupedGemm(tokens, _, _) = family else { return 1 }
        if let custom = kernel.flatMap({ kernels[$0] }), custom.ownSeconds(family: family, pass: pass, work: work) != nil { return 1 }
        return max(1, tokens.filter { $0 > 0 }.count)
    }
}

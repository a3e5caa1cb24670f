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
/// - Matrix products take the throughput the nearest measured shapes reached, interpolated
///   in log(m), log(n), log(k) by inverse distance over the four nearest shapes of the
///   same precision; a backward is its two products (input and weight gradients), each
///   priced at its own shape.
/// - Flash attention scales the nearest measured case (sequence, head size, batch × heads,
///   same pass) by the ratio of score-matrix work.
/// - Memory-bound ops move their bytes at the bandwidth the same op reached on the nearest
///   measured size (interpolated in log bytes); an op without a table uses the device copy's.
/// - Anything else (fp32 and tf32 products, which were not measured) falls back to the roofline.
///
/// Custom kernels (`kernels/<name>/` beside the stock tables) are models of the same kind;
/// an op whose subtree names one is priced from that kernel's tables first, and from the
/// stock tables for whatever the kernel's tables do not cover (another family, another
/// precision). A kernel's `grouped_gemm.csv` prices a grouped product as one kernel, by
/// the same interpolation over (total rows, n, k).
public struct MeasuredCostModel: ComputeCostModel {
    struct GemmPoint {
        var logM, logN, logK: Double
        var flopsPerSecond: Double
    }

    struct AttentionPoint {
        var pass: String
        var sequence, headDim, lanes: Double
        var seconds: Double
        /// b·h·s²·d, the score work the time scales with.
        var work: Double { lanes * sequence * sequence * headDim }
    }

    struct BandwidthCurve {
        /// (log bytes, bytes per second), sorted by size.
        var points: [(logBytes: Double, bytesPerSecond: Double)]
        /// The precision the op was measured in.
        var dtype: String

        func bandwidth(at bytes: Double) -> Double {
            guard let first = points.first, let last = points.last else { return .nan }
            let x = log(max(bytes, 1))
            if x <= first.logBytes { return first.bytesPerSecond }
            if x >= last.logBytes { return last.bytesPerSecond }
            let upper = points.firstIndex { $0.logBytes >= x }!
            let (a, b) = (points[upper - 1], points[upper])
            let t = (x - a.logBytes) / (b.logBytes - a.logBytes)
            return a.bytesPerSecond + t * (b.bytesPerSecond - a.bytesPerSecond)
        }
    }

    let gemm: [String: [GemmPoint]]
    /// Grouped products timed as one kernel, by precision (kernel tables only: the stock
    /// grouped table's loops are priced as their per-expert products).
    let groupedGemm: [String: [GemmPoint]]
    let attention: [AttentionPoint]
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
        self.init(tables: tables, attentionImplementation: attentionImplementation, isKernel: false)
    }

    init(tables: MeasuredTables, attentionImplementation: String, isKernel: Bool) {
        self.attentionImplementation = attentionImplementation
        folder = tables.folder
        gemm = Self.gemmPoints(tables.tables["gemm"], rows: "m")
        groupedGemm = isKernel ? Self.gemmPoints(tables.tables["grouped_gemm"], rows: "m_total") : [:]
        var attention: [AttentionPoint] = []
        if let table = tables.tables["attention"] {
            // A kernel's table is all its own implementation; the stock one mixes backends.
            for row in table.rows where isKernel || row["impl"] == attentionImplementation {
                guard let batch = table.number(row, "batch"), let seq = table.number(row, "seq"),
                      let heads = table.number(row, "heads"), let d = table.number(row, "head_dim"),
                      let us = table.number(row, "median_us"), let pass = row["pass"] else { continue }
                attention.append(AttentionPoint(pass: pass, sequence: seq, headDim: d, lanes: batch * heads, seconds: us * 1e-6))
            }
        }
        self.attention = attention
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
        bandwidth = Dictionary(uniqueKeysWithValues: curves.map { key, points in
            (key, BandwidthCurve(points: points.sorted { $0.0 < $1.0 }, dtype: dtypes[key]!))
        })
        // Custom kernel folders, and the stock grouped table's own grouped kernels (a folder
        // of the same name wins).
        kernels = isKernel ? [:] : tables.stockGroupedKernels.merging(tables.kernels) { _, custom in custom }.mapValues {
            MeasuredCostModel(tables: $0, attentionImplementation: attentionImplementation, isKernel: true)
        }
    }

    static func gemmPoints(_ table: MeasuredTables.Table?, rows: String) -> [String: [GemmPoint]] {
        var points: [String: [GemmPoint]] = [:]
        guard let table else { return points }
        for row in table.rows {
            guard let m = table.number(row, rows), let n = table.number(row, "n"), let k = table.number(row, "k"),
                  let us = table.number(row, "median_us"), let dtype = row["dtype"], us > 0, m > 0, n > 0, k > 0 else { continue }
            points[dtype, default: []].append(GemmPoint(logM: log(m), logN: log(n), logK: log(k),
                                                        flopsPerSecond: 2 * m * n * k / (us * 1e-6)))
        }
        return points
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
    /// (log m, log n, log k) — a harmonic mean of their throughputs, weighted by 1/d², so
    /// time per FLOP is what is averaged; an exact shape returns its own throughput.
    ///
    /// - Complexity: O(*p* log *p*) for *p* points.
    static func interpolate(_ points: [GemmPoint], m: Double, n: Double, k: Double) -> Double? {
        guard !points.isEmpty else { return nil }
        let (x, y, z) = (log(max(m, 1)), log(max(n, 1)), log(max(k, 1)))
        let nearest = points.map { point -> (distance: Double, rate: Double) in
            let distance = ((point.logM - x) * (point.logM - x) + (point.logN - y) * (point.logN - y) + (point.logK - z) * (point.logK - z)).squareRoot()
            return (distance, point.flopsPerSecond)
        }.sorted { $0.distance < $1.distance }.prefix(4)
        if let exact = nearest.first, exact.distance < 1e-9 { return exact.rate }
        var weights = 0.0, secondsPerFLOP = 0.0
        for (distance, rate) in nearest {
            let weight = 1 / (distance * distance)
            weights += weight
            secondsPerFLOP += weight / rate
        }
        return weights / secondsPerFLOP
    }

    /// Throughput for an `[m, k] × [k, n]` product, or nil when no table covers it.
    func gemmThroughput(m: Double, n: Double, k: Double, precision: Precision) -> Double? {
        guard let name = Self.tableName(precision), let points = gemm[name] else { return nil }
        return Self.interpolate(points, m: m, n: n, k: k)
    }

    func gemmSeconds(m: Double, n: Double, k: Double, precision: Precision) -> Double? {
        gemmThroughput(m: m, n: n, k: k, precision: precision).map { 2 * m * n * k / $0 }
    }

    /// The nearest measured attention case of `pass`, scaled by score work: distance in
    /// log sequence, log head size and (a quarter weight) log batch × heads.
    static func attentionSeconds(_ candidates: [AttentionPoint], lanes: Double, sequence s: Double, headDim d: Double) -> Double? {
        func distance(_ p: AttentionPoint) -> Double {
            let ds = log(p.sequence) - log(s), dd = log(p.headDim) - log(d), dl = log(p.lanes) - log(lanes)
            return ds * ds + dd * dd + 0.25 * dl * dl
        }
        guard let nearest = candidates.min(by: { distance($0) < distance($1) }) else { return nil }
        return nearest.seconds * (lanes * s * s * d) / nearest.work
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
            // One grouped kernel: the throughput it reached on the nearest (rows, n, k); a
            // backward's two products at the forward's rate.
            guard let name = Self.tableName(work.precision), let points = groupedGemm[name],
                  let rate = Self.interpolate(points, m: Double(tokens.reduce(0, +)), n: Double(n), k: Double(k)) else { return nil }
            return work.flops / rate
        case let .attention(batch, heads, sequence, headDim, _):
            let wanted = pass == .forward ? "fwd" : "bwd"
            guard let scaled = Self.attentionSeconds(attention.filter { $0.pass == wanted }, lanes: Double(batch * heads),
                                                     sequence: Double(sequence), headDim: Double(headDim)) else { return nil }
            return pass == .backwardInput || pass == .backwardWeight ? scaled / 2 : scaled
        default:
            guard let key = Self.elementwiseKey(family, pass), let curve = bandwidth[key] ?? bandwidth["copy_d2d/fwd"] else { return nil }
            let rate = curve.bandwidth(at: work.bytes)
            return rate.isFinite && rate > 0 ? work.bytes / rate : nil
        }
    }

    /// The elementwise table's `op/pass` for a memory-bound family (nil for families the
    /// profiler does not measure, such as dropout and residual adds, which use the copy).
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
        case .add, .dropout: "copy_d2d"
        default: nil
        }
        guard let name else { return nil }
        if name == "copy_d2d" || name == "accumulate" { return "\(name)/fwd" }
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

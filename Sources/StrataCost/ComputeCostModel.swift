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
    /// Seconds `work` of an op of `family` takes in `pass` on `gpu`.
    func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec) -> Double
}

/// The uncalibrated model: every kernel at the datasheet peak (docs/cost-model.md).
public struct RooflineCostModel: ComputeCostModel {
    public init() {}

    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec) -> Double {
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
    let attention: [AttentionPoint]
    let bandwidth: [String: BandwidthCurve]
    let fallback = RooflineCostModel()
    /// The attention implementation whose rows are used.
    public let attentionImplementation: String

    public init(tables: MeasuredTables, attentionImplementation: String = "sdpa-flash") {
        self.attentionImplementation = attentionImplementation
        var gemm: [String: [GemmPoint]] = [:]
        if let table = tables.tables["gemm"] {
            for row in table.rows {
                guard let m = table.number(row, "m"), let n = table.number(row, "n"), let k = table.number(row, "k"),
                      let us = table.number(row, "median_us"), let dtype = row["dtype"], us > 0 else { continue }
                gemm[dtype, default: []].append(GemmPoint(logM: log(m), logN: log(n), logK: log(k),
                                                          flopsPerSecond: 2 * m * n * k / (us * 1e-6)))
            }
        }
        self.gemm = gemm
        var attention: [AttentionPoint] = []
        if let table = tables.tables["attention"] {
            for row in table.rows where row["impl"] == attentionImplementation {
                guard let batch = table.number(row, "batch"), let seq = table.number(row, "seq"),
                      let heads = table.number(row, "heads"), let d = table.number(row, "head_dim"),
                      let us = table.number(row, "median_us"), let pass = row["pass"] else { continue }
                attention.append(AttentionPoint(pass: pass, sequence: seq, headDim: d, lanes: batch * heads, seconds: us * 1e-6))
            }
        }
        self.attention = attention
        var curves: [String: [(Double, Double)]] = [:]
        if let table = tables.tables["elementwise"] {
            for row in table.rows {
                guard let op = row["op"], let pass = row["pass"], let bytes = table.number(row, "bytes"),
                      let us = table.number(row, "median_us"), bytes > 0, us > 0 else { continue }
                curves["\(op)/\(pass)", default: []].append((log(bytes), bytes / (us * 1e-6)))
            }
        }
        bandwidth = curves.mapValues { BandwidthCurve(points: $0.sorted { $0.0 < $1.0 }) }
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

    /// Throughput for an `[m, k] × [k, n]` product, or nil when no table covers it.
    func gemmThroughput(m: Double, n: Double, k: Double, precision: Precision) -> Double? {
        guard let name = Self.tableName(precision), let points = gemm[name], !points.isEmpty else { return nil }
        let (x, y, z) = (log(max(m, 1)), log(max(n, 1)), log(max(k, 1)))
        let nearest = points.map { point -> (distance: Double, rate: Double) in
            let distance = ((point.logM - x) * (point.logM - x) + (point.logN - y) * (point.logN - y) + (point.logK - z) * (point.logK - z)).squareRoot()
            return (distance, point.flopsPerSecond)
        }.sorted { $0.distance < $1.distance }.prefix(4)
        if let exact = nearest.first, exact.distance < 1e-9 { return exact.rate }
        // Inverse-distance weighting of time per FLOP (a harmonic mean of throughputs).
        var weights = 0.0, secondsPerFLOP = 0.0
        for (distance, rate) in nearest {
            let weight = 1 / (distance * distance)
            weights += weight
            secondsPerFLOP += weight / rate
        }
        return weights / secondsPerFLOP
    }

    func gemmSeconds(m: Double, n: Double, k: Double, precision: Precision) -> Double? {
        gemmThroughput(m: m, n: n, k: k, precision: precision).map { 2 * m * n * k / $0 }
    }

    public func seconds(family: OpFamily, pass: KernelPass, work: Work, gpu: GPUSpec) -> Double {
        switch family {
        case let .gemm(m, n, k):
            let (m, n, k) = (Double(m), Double(n), Double(k))
            let forward = { gemmSeconds(m: m, n: n, k: k, precision: work.precision) }
            let inputGradient = { gemmSeconds(m: m, n: k, k: n, precision: work.precision) }
            let weightGradient = { gemmSeconds(m: k, n: n, k: m, precision: work.precision) }
            let priced: Double? = switch pass {
            case .forward: forward()
            case .backward: inputGradient().flatMap { a in weightGradient().map { a + $0 } }
            case .backwardInput: inputGradient()
            case .backwardWeight: weightGradient()
            }
            return priced ?? fallback.seconds(family: family, pass: pass, work: work, gpu: gpu)
        case let .groupedGemm(tokens, n, k):
            // The experts one after another (the loop PyTorch runs without grouped kernels).
            var total = 0.0
            for rows in tokens where rows > 0 {
                let single = OpFamily.gemm(m: rows, n: n, k: k)
                let share = Double(rows) / Double(max(1, tokens.reduce(0, +)))
                let part = Work(flops: work.flops * share, bytes: work.bytes * share, precision: work.precision)
                total += seconds(family: single, pass: pass, work: part, gpu: gpu)
            }
            return total
        case let .attention(batch, heads, sequence, headDim, _):
            let wanted = pass == .forward ? "fwd" : "bwd"
            let candidates = attention.filter { $0.pass == wanted }
            guard !candidates.isEmpty else { return fallback.seconds(family: family, pass: pass, work: work, gpu: gpu) }
            let lanes = Double(batch * heads), s = Double(sequence), d = Double(headDim)
            let nearest = candidates.min { a, b in
                func distance(_ p: AttentionPoint) -> Double {
                    let ds = log(p.sequence) - log(s), dd = log(p.headDim) - log(d), dl = log(p.lanes) - log(lanes)
                    return ds * ds + dd * dd + 0.25 * dl * dl
                }
                return distance(a) < distance(b)
            }!
            let scaled = nearest.seconds * (lanes * s * s * d) / nearest.work
            return pass == .backwardInput || pass == .backwardWeight ? scaled / 2 : scaled
        default:
            let name: String? = switch family {
            case .layerNorm: "layer_norm"
            case .rmsNorm: "rms_norm"
            case .gelu: "gelu"
            case .swiglu: "swiglu"
            case .crossEntropy: "cross_entropy"
            case .embedding: "embedding"
            case .optimizerStep: "adamw"
            default: nil
            }
            let key = name.map { "\($0)/\(family == .optimizerStep ? "step" : (pass == .forward ? "fwd" : "bwd"))" }
            guard let curve = key.flatMap({ bandwidth[$0] }) ?? bandwidth["copy_d2d/fwd"] else {
                return fallback.seconds(family: family, pass: pass, work: work, gpu: gpu)
            }
            let rate = curve.bandwidth(at: work.bytes)
            return rate.isFinite && rate > 0 ? work.bytes / rate : fallback.seconds(family: family, pass: pass, work: work, gpu: gpu)
        }
    }
}

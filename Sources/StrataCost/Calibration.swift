import Foundation
import StrataCore

/// How well the calibrated models reproduce their own measurements, for `simulate calibrate`.
///
/// Each interpolated family is scored by leave-one-out cross-validation: every measured
/// row is predicted from the other rows of its table, with the same interpolation a run
/// uses, and its relative error (predicted − measured) / measured recorded. Rows with no
/// neighbour left (the only row of a precision or op) are not scored.
public struct InterpolationError: Sendable, Hashable {
    /// `gemm`, `grouped_gemm`, `attention fwd`, `layer_norm bwd`, …; a custom kernel's
    /// families are prefixed with `kernel <name>: `.
    public var family: String
    /// The table's dtype column.
    public var precision: String
    /// Rows scored.
    public var rows: Int
    /// Mean and largest |relative error|.
    public var meanAbsolute: Double
    public var maxAbsolute: Double
    /// Mean relative error, whose sign says whether the model leans fast or slow.
    public var meanSigned: Double
    /// Median and 90th percentile of |relative error|, the figures issue 6's targets use.
    public var medianAbsolute: Double
    public var p90Absolute: Double
    /// Every row scored, in table order: what `simulate calibrate --worst` lists.
    public var scored: [ScoredRow]

    /// One scored row: its shape as the table gives it, its measured time and the time
    /// predicted without it (or, held out, from the whole grid).
    public struct ScoredRow: Sendable, Hashable {
        public var shape: String
        public var measuredSeconds: Double
        public var predictedSeconds: Double
        public var error: Double { predictedSeconds / measuredSeconds - 1 }
    }

    init?(family: String, precision: String, scored: [ScoredRow]) {
        guard !scored.isEmpty else { return nil }
        self.family = family
        self.precision = precision
        self.scored = scored
        let errors = scored.map(\.error)
        rows = errors.count
        meanAbsolute = errors.map(abs).reduce(0, +) / Double(errors.count)
        maxAbsolute = errors.map(abs).max()!
        meanSigned = errors.reduce(0, +) / Double(errors.count)
        medianAbsolute = Self.percentile(errors.map(abs), 0.5)
        p90Absolute = Self.percentile(errors.map(abs), 0.9)
    }

    /// The `q` quantile by linear interpolation between closest ranks.
    static func percentile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard sorted.count > 1 else { return sorted.first ?? 0 }
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down)), high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }
}

extension MeasuredCostModel {
    /// Leave-one-out errors of every interpolated family, the stock tables' then each
    /// custom kernel's, in a fixed order.
    ///
    /// - Complexity: O(*p*² log *p*) for a precision's *p* GEMM rows.
    public func leaveOneOutErrors() -> [InterpolationError] {
        var result = ownLeaveOneOutErrors(prefix: "")
        for name in kernelNames { result += kernels[name]!.ownLeaveOneOutErrors(prefix: "kernel \(name): ") }
        return result
    }

    func ownLeaveOneOutErrors(prefix: String) -> [InterpolationError] {
        var result: [InterpolationError] = []
        for (family, table) in [("gemm", gemm), ("grouped_gemm", groupedGemm)] {
            for dtype in table.keys.sorted() {
                let points = table[dtype]!
                let scored = points.indices.compactMap { index -> InterpolationError.ScoredRow? in
                    var others = points
                    let held = others.remove(at: index)
                    return scoredRow(held, from: others)
                }
                if let error = InterpolationError(family: prefix + family, precision: dtype, scored: scored) { result.append(error) }
            }
        }
        for pass in ["fwd", "bwd"] {
            let points = attention.filter { $0.pass == pass }
            let scored = points.indices.compactMap { index -> InterpolationError.ScoredRow? in
                var others = points
                let held = others.remove(at: index)
                return Self.scoredRow(held, from: others)
            }
            if let error = InterpolationError(family: "\(prefix)attention \(pass)", precision: "bf16", scored: scored) { result.append(error) }
        }
        for key in bandwidth.keys.sorted() {
            let curve = bandwidth[key]!
            let scored: [InterpolationError.ScoredRow]
            if let points = norms[key] {  // norms: their (rows, width) plane
                scored = points.indices.compactMap { index -> InterpolationError.ScoredRow? in
                    var others = points
                    let held = others.remove(at: index)
                    return Self.normSeconds(others, tokens: held.tokens, hidden: held.hidden, bytes: held.bytes)
                        .map { .init(shape: "tokens=\(Int(held.tokens)) hidden=\(Int(held.hidden))", measuredSeconds: held.seconds,
                                     predictedSeconds: $0) }
                }
            } else {  // the other ops: their bytes curve
                scored = curve.points.indices.compactMap { index -> InterpolationError.ScoredRow? in
                    var others = curve
                    let held = others.points.remove(at: index)
                    guard !others.points.isEmpty else { return nil }
                    let bytes = exp(held.logBytes)
                    return .init(shape: "bytes=\(Int(bytes.rounded()))", measuredSeconds: bytes / held.bytesPerSecond,
                                 predictedSeconds: bytes / others.bandwidth(at: bytes))
                }
            }
            let family = key.replacingOccurrences(of: "/", with: " ")
            if let error = InterpolationError(family: prefix + family, precision: curve.dtype, scored: scored) { result.append(error) }
        }
        return result
    }
}

extension MeasuredCostModel {
    /// An attention case's time predicted from `points` (of its pass), beside its measured
    /// time; nil where they give none.
    static func scoredRow(_ held: AttentionPoint, from points: [AttentionPoint]) -> InterpolationError.ScoredRow? {
        attentionSeconds(points, lanes: held.lanes, sequence: held.sequence, headDim: held.headDim, group: held.group, causal: held.causal)
            .map { .init(shape: "batch×heads=\(Int(held.lanes)) seq=\(Int(held.sequence)) head_dim=\(Int(held.headDim))"
                         + (held.group > 1 ? " group=\(Int(held.group))" : "") + (held.causal ? " causal" : ""),
                         measuredSeconds: held.seconds, predictedSeconds: $0) }
    }

    /// A product's time predicted from `points` at `held`'s shape, beside its measured
    /// time: the kernel floor plus the held row's work (its time above the floor at its own
    /// rate) at the interpolated rate. Nil where `points` gives no rate.
    func scoredRow(_ held: GemmPoint, from points: [GemmPoint]) -> InterpolationError.ScoredRow? {
        guard let rate = Self.throughput(at: held, from: points) else { return nil }
        let work = (held.seconds - kernelFloor) * held.flopsPerSecond
        let (m, n, k) = (Int(exp(held.logM).rounded()), Int(exp(held.logN).rounded()), Int(exp(held.logK).rounded()))
        let shape = held.configuration.isEmpty ? "m=\(m) n=\(n) k=\(k)"
            : "rows=\(m) n=\(n) k=\(k) experts=\(Int(exp(held.logGroups).rounded()))"
                + " padding=\(Format.fixed(exp(held.logPadding), 3)) \(held.configuration)"
        return .init(shape: shape, measuredSeconds: held.seconds, predictedSeconds: kernelFloor + work / rate)
    }

    /// Errors on shapes measured apart from the tables the model was fitted to:
    /// `gemm_held_out.csv` (`gemm.py --held-out`: products of models the grid lacks, at
    /// token counts between its), each row predicted from every row of `gemm.csv`;
    /// `attention_held_out.csv` (`attention.py --held-out`: sequence lengths and head shapes
    /// the grid lacks), each case from every case of `attention.csv` of its pass; and
    /// `grouped_gemm_held_out.csv` (`grouped_gemm.py --held-out`: the grouped kernels at
    /// token counts between the grid's), each row predicted from every row of its kernel's
    /// `grouped_gemm.csv`, by the interpolation a run uses; a custom kernel's folder may
    /// hold any of them for its own tables. Leave-one-out predicts a grid row across twice
    /// the grid's spacing, with its nearest neighbour gone; these rows sit where a run's
    /// queries do, between measured shapes. One family per model, kind and precision that
    /// has both tables, in the order of `leaveOneOutErrors`.
    public func heldOutErrors(_ tables: MeasuredTables) -> [InterpolationError] {
        var result = ownHeldOutErrors(tables.tables, prefix: "")
        // The stock grouped table's kernels take their rows of the stock held-out table; a
        // kernel folder's own held-out tables come with it.
        let stockGrouped = tables.tables["grouped_gemm_held_out"].map {
            MeasuredTables(folder: tables.folder, tables: ["grouped_gemm": $0]).stockGroupedKernels
        } ?? [:]
        for name in kernelNames {
            var own = tables.kernels[name]?.tables ?? [:]
            if own["grouped_gemm_held_out"] == nil, let rows = stockGrouped[name]?.tables["grouped_gemm"] {
                own["grouped_gemm_held_out"] = rows
            }
            result += kernels[name]!.ownHeldOutErrors(own, prefix: "kernel \(name): ")
        }
        return result
    }

    /// The held-out tables among `tables` scored against this model's own rows: products,
    /// attention per pass (the model's implementation's rows), and, for a kernel's model,
    /// grouped products of that kernel (`groupedKernel`).
    func ownHeldOutErrors(_ tables: [String: MeasuredTables.Table], prefix: String) -> [InterpolationError] {
        var result: [InterpolationError] = []
        func score(_ points: [String: [GemmPoint]], against fitted: [String: [GemmPoint]], family: String) {
            for dtype in points.keys.sorted() {
                guard let grid = fitted[dtype] else { continue }
                let scored = points[dtype]!.compactMap { scoredRow($0, from: grid) }
                if let error = InterpolationError(family: prefix + family, precision: dtype, scored: scored) { result.append(error) }
            }
        }
        if let table = tables["gemm_held_out"] {
            score(Self.gemmPoints(table, rows: "m", floor: kernelFloor), against: gemm, family: "gemm")
        }
        if let table = tables["attention_held_out"] {
            let heldOut = Self.attentionPoints(table, implementation: groupedKernel == nil ? attentionImplementation : nil)
            for pass in ["fwd", "bwd"] {
                let fitted = attention.filter { $0.pass == pass }
                let scored = heldOut.filter { $0.pass == pass }.compactMap { Self.scoredRow($0, from: fitted) }
                if let error = InterpolationError(family: "\(prefix)attention \(pass)", precision: "bf16", scored: scored) { result.append(error) }
            }
        }
        if let table = tables["grouped_gemm_held_out"], let kernel = groupedKernel {
            score(Self.gemmPoints(table, rows: "m_total", floor: kernelFloor, routed: groupedGemmKnowsRouting, kernel: kernel),
                  against: groupedGemm, family: "grouped_gemm")
        }
        return result
    }
}

extension NetworkCalibration {
    /// One collective's fit error on one GPU count: sizes scored, mean and largest
    /// |relative error| over them, and the median and p90 from 1 MiB up (issue 6's targets).
    public struct CollectiveError: Sendable, Hashable {
        public var collective: String
        public var gpus: Int
        public var rows: Int
        public var meanAbsolute: Double
        public var maxAbsolute: Double
        public var medianAtLeast1MiB: Double
        public var p90AtLeast1MiB: Double
    }

    /// The collective fit's error per (collective, GPUs), every grid size held out in turn
    /// (`report`).
    public var errorsByCollective: [CollectiveError] { Self.summarize(report) }

    /// The same for the sizes measured between the grid's (`heldOutReport`).
    public var heldOutErrorsByCollective: [CollectiveError] { Self.summarize(heldOutReport) }

    /// `fits` grouped by (collective, GPUs), in the order each group first appears.
    static func summarize(_ fits: [Fit]) -> [CollectiveError] {
        var keys: [String] = []
        var groups: [String: [Fit]] = [:]
        for fit in fits {
            let key = "\(fit.collective)|\(fit.gpus)"
            if groups[key] == nil { keys.append(key) }
            groups[key, default: []].append(fit)
        }
        return keys.map { key in
            let fits = groups[key]!
            let errors = fits.map { abs($0.error) }
            let large = fits.filter { $0.bytes >= 1_048_576 }.map { abs($0.error) }
            return CollectiveError(collective: fits[0].collective, gpus: fits[0].gpus, rows: fits.count,
                                   meanAbsolute: errors.reduce(0, +) / Double(errors.count), maxAbsolute: errors.max()!,
                                   medianAtLeast1MiB: InterpolationError.percentile(large, 0.5),
                                   p90AtLeast1MiB: InterpolationError.percentile(large, 0.9))
        }
    }
}

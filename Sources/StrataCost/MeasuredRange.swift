import Foundation
import StrataCore
import StrataModel

extension MeasuredCostModel {
    /// Why `work` is priced outside what the tables measured, or nil when it is inside:
    /// a product dimension beyond the measured sizes, an attention sequence or head size
    /// beyond the measured ones, a memory-bound op beyond the measured byte counts, or no
    /// table for the op at all (the roofline or the device copy's bandwidth then prices it).
    /// Runs report these shapes, because an extrapolated price is a guess.
    public func outOfRange(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> String? {
        if let custom = kernel.flatMap({ kernels[$0] }), custom.ownSeconds(family: family, pass: pass, work: work) != nil {
            return custom.ownRange(family: family, pass: pass, work: work).map { "kernel \(kernel!): \($0)" }
        }
        if case let .groupedGemm(tokens, n, k) = family {
            // Priced as a loop of per-expert products: each must be inside the GEMM table.
            for rows in Set(tokens.filter { $0 > 0 }).sorted() {
                if let reason = ownRange(family: .gemm(m: rows, n: n, k: k), pass: pass, work: work) { return reason }
            }
            return nil
        }
        return ownRange(family: family, pass: pass, work: work)
    }

    func ownRange(family: OpFamily, pass: KernelPass, work: Work) -> String? {
        switch family {
        case let .gemm(m, n, k):
            guard let name = Self.tableName(work.precision), let points = gemm[name], !points.isEmpty else {
                return "gemm \(work.precision.rawValue): no measured table (roofline)"
            }
            return Self.productRange(points, label: "gemm \(name)", m: m, n: n, k: k)
        case let .groupedGemm(tokens, n, k):
            // A grouped kernel's own table (rows in all, n, k) where it has one, else the
            // GEMM table the products would be priced from.
            if let name = Self.tableName(work.precision), let points = groupedGemm[name], !points.isEmpty {
                if let reason = Self.productRange(points, label: "grouped_gemm \(name)", m: tokens.reduce(0, +), n: n, k: k) {
                    return reason
                }
                // A tile configuration no measured row ran in is priced at the others' rates.
                let configuration = groupedTiling(tokens: tokens, n: n, k: k).configuration
                if !points.contains(where: { $0.configuration == configuration }) {
                    return "grouped_gemm \(name): tile configuration \(configuration) not measured (priced from the others)"
                }
                return nil
            }
            return ownRange(family: .gemm(m: tokens.reduce(0, +), n: n, k: k), pass: pass, work: work)
        case let .attention(_, _, _, sequence, headDim, _):
            let wanted = pass == .forward ? "fwd" : "bwd"
            let measured = attention.filter { $0.pass == wanted }
            guard !measured.isEmpty else { return "attention \(wanted): no measured table (roofline)" }
            let sequences = measured.map(\.sequence), heads = measured.map(\.headDim)
            if Double(sequence) < sequences.min()! || Double(sequence) > sequences.max()! {
                return "attention \(wanted) seq=\(sequence) outside the measured \(Int(sequences.min()!))–\(Int(sequences.max()!))"
            }
            if Double(headDim) < heads.min()! || Double(headDim) > heads.max()! {
                return "attention \(wanted) head_dim=\(headDim) outside the measured \(Int(heads.min()!))–\(Int(heads.max()!))"
            }
            return nil
        default:
            guard let key = Self.elementwiseKey(family, pass) else { return nil }
            guard let curve = bandwidth[key], let first = curve.points.first, let last = curve.points.last else {
                return "\(key): no measured table (device copy's bandwidth)"
            }
            let (low, high) = (exp(first.logBytes), exp(last.logBytes))
            if work.bytes < low * 0.999 || work.bytes > high * 1.001 {
                return "\(key) \(Format.bytes(work.bytes)) outside the measured \(Format.bytes(low))–\(Format.bytes(high))"
            }
            return nil
        }
    }
}

extension MeasuredCostModel {
    /// Why a product is outside the sizes `points` measured (any of m, n, k beyond the
    /// smallest and largest measured dimension), or nil.
    static func productRange(_ points: [GemmPoint], label: String, m: Int, n: Int, k: Int) -> String? {
        let extent = points.flatMap { [$0.logM, $0.logN, $0.logK] }
        let (low, high) = (exp(extent.min()!), exp(extent.max()!))
        for (axis, size) in [("m", m), ("n", n), ("k", k)] where Double(size) < low * 0.999 || Double(size) > high * 1.001 {
            return "\(label) \(axis)=\(size) outside the measured \(Int(low.rounded()))–\(Int(high.rounded()))"
        }
        return nil
    }
}

extension TransferredCostModel {
    /// The measured GPU's verdict: the shapes its tables cover.
    public func outOfRange(family: OpFamily, pass: KernelPass, work: Work, kernel: String?) -> String? {
        source.outOfRange(family: family, pass: pass, work: work, kernel: kernel)
    }
}

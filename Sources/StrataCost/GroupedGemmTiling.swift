/// How much of a grouped product's scheduled tile work is useful, given how its rows are
/// spread over the experts.
///
/// A grouped GEMM kernel tiles each expert's `[rows, n]` output separately, so every expert
/// pays for a partly empty last row of tiles: the same 8,192 rows cost more split 3,504 /
/// 1,520 / … (Zipf routing) than 1,024 apiece, and many small experts cost more than a few
/// large ones. On the H100 PyTorch's CUTLASS grouped kernels schedule 256 × 256 output
/// blocks: `torch._grouped_mm` 128 × 256 tiles in clusters of two along the rows,
/// `torch._scaled_grouped_mm` 128 × 128 tiles in 2 × 2 clusters (aten/src/ATen/native/cuda/
/// GroupMM.cu and ScaledGroupMM.cu, sm90 paths for groups of more than 128 rows).
///
/// The calibrated model interpolates throughput per *scheduled* FLOP (measured useful
/// FLOPs over this efficiency) and multiplies the query's efficiency back, so the rows'
/// spread is priced where the interpolation over (total rows, n, k) cannot see it.
enum GroupedGemmTiling {
    /// Output rows and columns of one scheduled block.
    static let blockRows = 256
    static let blockColumns = 256

    /// Useful output elements over the elements of the blocks scheduled: in (0, 1], and 1
    /// exactly when every expert's rows and `n` are whole blocks. Experts without rows
    /// schedule nothing. 1 for a group without rows.
    static func efficiency(tokens: [Int], n: Int) -> Double {
        let rows = tokens.filter { $0 > 0 }
        guard !rows.isEmpty, n > 0 else { return 1 }
        let useful = Double(rows.reduce(0, +)) * Double(n)
        let blockRowsScheduled = rows.map { ($0 + blockRows - 1) / blockRows }.reduce(0, +)
        let blockColumnsScheduled = (n + blockColumns - 1) / blockColumns
        return useful / (Double(blockRowsScheduled * blockRows) * Double(blockColumnsScheduled * blockColumns))
    }
}

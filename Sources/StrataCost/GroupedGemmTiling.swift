/// How a grouped GEMM kernel tiles its experts' products, and how much of the tile work it
/// schedules is useful, given how the rows are spread over the experts.
///
/// A grouped GEMM kernel tiles each expert's `[rows, n]` output separately, so every expert
/// pays for a partly empty last row of tiles: the same 8,192 rows cost more split 3,504 /
/// 1,520 / … (Zipf routing) than 1,024 apiece, and many small experts cost more than a few
/// large ones.
///
/// PyTorch's CUTLASS grouped kernels on the H100 (aten/src/ATen/native/cuda/GroupMM.cu and
/// ScaledGroupMM.cu, sm90 paths) pick one of several tile configurations for the whole
/// call from the *average* rows per expert `m` (total rows over experts, integer division),
/// `n` and `k`, and schedule tiles in clusters, so the unit of scheduled work is a block of
/// tile × cluster:
///
/// | kernel | when | tile, schedule | cluster | block |
/// | --- | --- | --- | --- | --- |
/// | `torch._grouped_mm` (bf16) | `m` ≤ 128 or `n` ≤ 128 | 64 × 128, ping-pong | 2 × 1 | 128 × 128 |
/// | | otherwise | 128 × 256, cooperative | 2 × 1 | 256 × 256 |
/// | `torch._scaled_grouped_mm` (fp8) | `m` ≤ 128 or `n` ≤ 128 | 64 × 128, ping-pong | 2 × 2 | 128 × 256 |
/// | | two of `m`, `n`, `k` ≥ 2048 | 128 × 128, cooperative | 2 × 2 | 256 × 256 |
/// | | otherwise | 128 × 256 × 64, cooperative | 2 × 2 | 256 × 512 |
///
/// The configurations run at different rates, not only with different padding: the fp8
/// kernel's last one (128 × 256 tiles with fp32 accumulation, which PyTorch's own comment
/// avoids for large problems because its accumulators spill) reached 207–321 TFLOP/s on
/// the measured rows where the 128 × 128 one reached 588–1,180, so 8,192 rows over 8 experts (1,024 each) of
/// 1024 × 2816 take 182 µs against 66 µs over 4 experts. The calibrated model therefore
/// interpolates a grouped kernel's rows only among rows of the query's configuration.
///
/// The kernels are persistent: they launch one CTA per SM and hand out the blocks of every
/// expert, one after another, to the clusters resident at once, so a call takes whole
/// *waves* of blocks. `torch._grouped_mm`'s clusters are two SMs, which always fit (an
/// H100 SXM's 132 SMs are 66 pairs), so 66 blocks run at a time: 8,192 rows of
/// 1024 × 2816 over 4 experts take 74.7 µs balanced (128 blocks, 2 waves) and 102.8 µs
/// Zipf-routed (136 blocks, 3 waves), though the Zipf rows pad only 6 % more blocks.
/// Counting whole waves took its leave-one-out error from 4.1 % / 8.7 % (median / p90)
/// to 2.7 % / 7.6 %. `torch._scaled_grouped_mm`'s clusters are four SMs, and how many of
/// them fit at once depends on how the chip's SMs are spread over its GPCs; no one count
/// (26–33 tried) fitted its rows consistently, so its blocks are counted without waves.
///
/// The calibrated model interpolates throughput per *scheduled* FLOP (measured useful
/// FLOPs over this efficiency) and multiplies the query's efficiency back, so the rows'
/// spread is priced where the interpolation over (total rows, n, k) cannot see it.
enum GroupedGemmTiling {
    /// One tile configuration of a grouped kernel: its name, the output block (tile ×
    /// cluster) it schedules, and how many blocks run at once.
    struct Configuration: Hashable, Sendable {
        var name: String
        var blockRows: Int
        var blockColumns: Int
        /// The blocks resident at once (one per cluster of SMs), so that a call takes whole
        /// waves of them; nil where that is not known, and blocks are counted one by one.
        var concurrentBlocks: Int? = nil

        /// 256 × 256 blocks, `torch._grouped_mm`'s usual block: the one assumed for a kernel
        /// whose configurations are not known, without waves (its GPU and clusters are not
        /// known either).
        static let standard = Configuration(name: "128x256 cooperative", blockRows: 256, blockColumns: 256)
    }

    /// The H100 SXM's streaming multiprocessors: the PyTorch kernels below are its sm90
    /// paths, and their tables are H100 tables (`MeasuredTables` checks the `# gpu:` header).
    static let h100Multiprocessors = 132

    /// The groups a grouped kernel runs: the experts that received rows.
    static func groups(_ tokens: [Int]) -> Int { tokens.filter { $0 > 0 }.count }

    /// The configuration `kernel` runs a group of `experts` experts with `rows` rows in all
    /// at `n` × `k` in: PyTorch's dispatch rule for its two grouped kernels (table above),
    /// the standard configuration for any other kernel.
    static func configuration(kernel: String?, experts: Int, rows: Int, n: Int, k: Int) -> Configuration {
        let m = experts > 0 ? rows / experts : rows
        let small = m <= 128 || n <= 128
        switch kernel {
        case "torch._grouped_mm":
            // Clusters of two SMs, so half the SMs' count of blocks at once.
            let pairs = h100Multiprocessors / 2
            return small ? Configuration(name: "64x128 ping-pong", blockRows: 128, blockColumns: 128, concurrentBlocks: pairs)
                : Configuration(name: "128x256 cooperative", blockRows: 256, blockColumns: 256, concurrentBlocks: pairs)
        case "torch._scaled_grouped_mm":
            let large = [m >= 2048, n >= 2048, k >= 2048].filter { $0 }.count >= 2
            if small { return Configuration(name: "64x128 ping-pong", blockRows: 128, blockColumns: 256) }
            if large { return Configuration(name: "128x128 cooperative", blockRows: 256, blockColumns: 256) }
            return Configuration(name: "128x256 cooperative", blockRows: 256, blockColumns: 512)
        default:
            return .standard
        }
    }

    /// Useful output elements over the elements of the blocks scheduled, counted in whole
    /// waves where the configuration says how many blocks run at once and `inWaves` is
    /// set: in (0, 1], and 1 exactly when every expert's rows and `n` are whole blocks
    /// (and the blocks whole waves). Experts without rows schedule nothing. 1 for a group
    /// without rows.
    ///
    /// Without waves it measures the routing's padding alone, which the calibrated model
    /// uses as a coordinate: rows of one total whose routing pads differently stay apart
    /// even where they fill the same waves (32,768 rows over 4 experts, balanced or Zipf).
    static func efficiency(tokens: [Int], n: Int, configuration: Configuration = .standard, inWaves: Bool = true) -> Double {
        let rows = tokens.filter { $0 > 0 }
        guard !rows.isEmpty, n > 0 else { return 1 }
        let (blockRows, blockColumns) = (configuration.blockRows, configuration.blockColumns)
        let useful = Double(rows.reduce(0, +)) * Double(n)
        let blockRowsScheduled = rows.map { ($0 + blockRows - 1) / blockRows }.reduce(0, +)
        let blocks = blockRowsScheduled * ((n + blockColumns - 1) / blockColumns)
        let concurrent = inWaves ? configuration.concurrentBlocks : nil
        let slots = concurrent.map { concurrent in (blocks + concurrent - 1) / concurrent * concurrent } ?? blocks
        return useful / (Double(slots) * Double(blockRows * blockColumns))
    }
}

import Foundation

extension MeasuredCostModel {
    /// One measured flash-attention case of `attention.csv`.
    struct AttentionPoint {
        var pass: String
        var sequence, headDim, lanes: Double
        /// Query heads per key/value head: 1 without grouped-query attention.
        var group: Double = 1
        var causal: Bool
        var seconds: Double

        /// Score work per second: what is interpolated between measured cases.
        var rate: Double { AttentionTiles.work(lanes: lanes, sequence: sequence, headDim: headDim, causal: causal) / seconds }
    }

    /// The measured cases' throughput of score work, fitted by a local plane in
    /// (log sequence, log head size, log batch × heads) to the eight nearest cases of the
    /// pass and taken at the query (`LocalLinearFit`, log throughput), times the query's
    /// score work; a measured case returns its own time. The backward pass's plane has a
    /// fourth axis, log query heads per key/value head (`group`).
    ///
    /// Throughput climbs with sequence length (the per-row softmax and output work, and
    /// the diagonal blocks, matter less as rows get longer), so the nearest case alone,
    /// or an average of neighbours, is biased wherever the query is not surrounded by
    /// measurements; the plane follows the trend. It falls with few sequences: at 4096
    /// tokens a micro-batch's blocks leave the last wave of the GPU part-empty (LLaMA-1B's
    /// forward at batch 1 × 32 heads, sequence 4096, runs 19 % slower per unit of work
    /// than at batch 4). Grouped-query attention costs the backward pass more: the flash
    /// kernel writes key and value gradients for every query head and a second kernel sums
    /// each group (16 heads sharing 4 took 14 % longer than 16 full heads at batch 4,
    /// sequence 1024); the forward pass reads the shared heads in place and costs the same.
    /// `candidates` are one pass's cases (callers filter them), which says whether the
    /// plane has the grouped-query axis.
    ///
    /// - Complexity: O(*p* log *p*) for *p* cases.
    static func attentionSeconds(_ candidates: [AttentionPoint], lanes: Double, sequence s: Double, headDim d: Double,
                                 group: Double = 1, causal: Bool) -> Double? {
        let groupAxis = candidates.first?.pass == "bwd"
        func coordinates(sequence: Double, headDim: Double, lanes: Double, group: Double) -> [Double] {
            let plane = [log(sequence), log(headDim), log(lanes)]
            return groupAxis ? plane + [log(max(1, group))] : plane
        }
        let samples = candidates.map { point in
            LocalLinearFit.Sample(coordinates: coordinates(sequence: point.sequence, headDim: point.headDim,
                                                           lanes: point.lanes, group: point.group),
                                  value: log(point.rate))
        }
        let fit = LocalLinearFit(neighbours: 8, ridge: 0.01)
        guard let logRate = fit.value(at: coordinates(sequence: s, headDim: d, lanes: lanes, group: group),
                                      from: samples) else { return nil }
        return AttentionTiles.work(lanes: lanes, sequence: s, headDim: d, causal: causal) / exp(logRate)
    }
}

/// The score work a tiled flash-attention kernel does, counted in the blocks it computes.
///
/// FlashAttention-2 (Dao 2023) walks the score matrix in square blocks of `block`
/// query × key positions; a causal mask skips the blocks above the diagonal but computes
/// the diagonal ones whole. So causal work is ⌈s/B⌉(⌈s/B⌉+1)/2 blocks, not s²/2: at
/// s = 1024 and B = 128 that is 36 blocks where s²/2 counts 32, a 12.5 % difference that
/// fades as s grows. The H100 profiles (`traces/validation/h100-sxm/profiles`) run
/// `Flash_fwd_kernel_traits<…, 128, 128, …>`: 128-position blocks.
enum AttentionTiles {
    /// Query and key positions per block.
    static let block = 128.0

    /// Block-padded score work, in units of position pairs × head size, for `lanes`
    /// (batch × heads) sequences of length `sequence`.
    static func work(lanes: Double, sequence: Double, headDim: Double, causal: Bool) -> Double {
        let blocks = (sequence / block).rounded(.up)
        let pairs = causal ? blocks * (blocks + 1) / 2 : blocks * blocks
        return lanes * pairs * block * block * headDim
    }
}

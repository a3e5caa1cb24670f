import StrataModel

/// How many tokens each expert of a MoE layer receives, and how many bytes each GPU of an
/// expert-parallel group sends to each other one.
///
/// Counts are the expected values under the routing distribution, rounded, with the
/// capacity limit applied: every GPU of the group routes its `tokens` the same way, so
/// ranks holding the same number of tokens per expert run identical programs and fold
/// into one class. (The `seed` of the moe block is kept for sampled routing.)
struct ExpertRouting {
    let moe: MoEConfig
    /// Tokens one GPU routes per micro-batch.
    let tokens: Int
    /// Size of the expert-parallel group.
    let groupSize: Int

    var expertsPerRank: Int { moe.experts / groupSize }

    /// Token-expert assignments one GPU sends to expert `e` (after the capacity limit).
    var assignmentsPerExpert: [Int] {
        let shares = moe.routing.shares(experts: moe.experts)
        let assignments = Double(tokens * moe.topK)
        let capacity = moe.capacityFactor.map { $0 * assignments / Double(moe.experts) } ?? .infinity
        return shares.map { Int(min(($0 * assignments).rounded(), capacity.rounded(.down))) }
    }

    /// Tokens each local expert of the GPU at group index `rank` receives from the whole group.
    func receivedTokens(rank: Int) -> [Int] {
        let perExpert = assignmentsPerExpert
        return (rank * expertsPerRank..<(rank + 1) * expertsPerRank).map { perExpert[$0] * groupSize }
    }

    /// Assignments one GPU sends to each member of the group, by group index.
    var assignmentsPerDestination: [Int] {
        let perExpert = assignmentsPerExpert
        return (0..<groupSize).map { rank in
            perExpert[rank * expertsPerRank..<(rank + 1) * expertsPerRank].reduce(0, +)
        }
    }
}

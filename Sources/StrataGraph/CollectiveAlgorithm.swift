/// How an all-reduce moves its bytes, as NCCL's `NCCL_ALGO` names it.
///
/// `auto` lets the executor choose per call as NCCL's tuner does: each candidate is
/// priced on the idle network and the fastest wins. A strategy fixes one in its cluster
/// block (`collective_algorithm = "ring"`), as `NCCL_ALGO` would on a real job. Only
/// all-reduce has a tree; the other collectives always run as rings or direct sends.
public enum CollectiveAlgorithm: String, CaseIterable, Hashable, Sendable {
    case auto
    /// Every GPU sends to its successor: 2(n−1) steps, bandwidth-optimal.
    case ring
    /// NCCL's double binary tree across nodes, a chain inside each node: 2·log₂(nodes)
    /// inter-node steps, so fewer latencies at scale.
    case tree
}

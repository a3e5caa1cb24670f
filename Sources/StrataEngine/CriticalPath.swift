import StrataCore

/// The chain of tasks that decided how long the iteration took: from the last task to
/// finish, back through whatever each one waited for last — a dependency, the task
/// before it on its stream, the last member to reach a collective, or the host's launch
/// — to the start. Shortening anything off this chain cannot shorten the iteration;
/// the shares say where shortening would pay.
public struct CriticalPath: Hashable, Sendable {
    /// One task on the path: a simulated GPU (an index into `SimulationResult.simulatedRanks`)
    /// and a task of its program.
    public struct Step: Hashable, Sendable {
        public var simulated: Int
        public var task: Int
    }

    /// Time on the path of one kind.
    public struct Share: Hashable, Sendable {
        /// `compute`, a communication stream's name (`tp-comm`, `grad-sync`, …), `launch`
        /// (waiting for the host to issue a kernel) or `wait` (anything else).
        public var kind: String
        public var time: SimTime
        /// Tasks of this kind on the path (none for `launch` and `wait`).
        public var tasks: Int
    }

    /// The path's tasks, first to last.
    public var steps: [Step] = []
    /// Time by kind, largest first (ties by name); the times add up to the iteration.
    public var shares: [Share] = []

    public init() {}

    init(steps: [Step], time: [String: SimTime], tasks: [String: Int]) {
        self.steps = steps
        shares = time.map { Share(kind: $0.key, time: $0.value, tasks: tasks[$0.key] ?? 0) }
            .sorted { ($0.time, $1.kind) > ($1.time, $0.kind) }
    }

    /// The path's length: the iteration time.
    public var total: SimTime { shares.reduce(.zero) { $0 + $1.time } }

    /// The fraction of the path's length spent on `kind` (`launch`: waiting for the host);
    /// 0 for an empty path or a kind not on it.
    public func fraction(of kind: String) -> Double {
        let length = total.seconds
        guard length > 0, let share = shares.first(where: { $0.kind == kind }) else { return 0 }
        return share.time.seconds / length
    }
}

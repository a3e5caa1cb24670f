import HeapModule
import StrataCore

/// What happens when an event fires.
enum EventKind: Hashable {
    /// Task `task` of rank `rank` finishes.
    case taskFinished(rank: Int, task: Int)
    /// The kernel `task` of rank `rank` finishes, unless its speed changed since `version`
    /// (a collective began or ended beside it) and a later event stands for it.
    case kernelFinished(rank: Int, task: Int, version: Int)
    /// The host has issued task `task` of rank `rank`, whose dependencies were done earlier.
    case issued(rank: Int, task: Int)
    /// Communication `id`'s latency has passed: its flows enter the network.
    case communicationReady(id: Int)
    /// The network's earliest flow completes, if nothing changed since `version`.
    case networkCheck(version: Int)
}

/// A future event.
struct Event: Comparable {
    var time: SimTime
    /// Insertion order: breaks ties between events at the same time, because `Heap` is not
    /// stable and the simulation must be deterministic.
    var sequence: Int
    var kind: EventKind

    static func < (lhs: Event, rhs: Event) -> Bool {
        (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
    }

    static func == (lhs: Event, rhs: Event) -> Bool {
        lhs.time == rhs.time && lhs.sequence == rhs.sequence
    }
}

/// The pending events, ordered by (time, sequence number), on swift-collections' binary
/// min-max heap.
///
/// - Complexity: O(log *n*) to schedule and to pop.
struct EventQueue {
    private var heap = Heap<Event>()
    private var nextSequence = 0
    /// Events popped so far, reported as the engine's work.
    private(set) var processed = 0

    mutating func schedule(_ kind: EventKind, at time: SimTime) {
        heap.insert(Event(time: time, sequence: nextSequence, kind: kind))
        nextSequence += 1
    }

    mutating func pop() -> Event? {
        guard let event = heap.popMin() else { return nil }
        processed += 1
        return event
    }
}

import StrataCore

/// Flows of bytes over the directed links of a topology, sharing each link's bandwidth by
/// max-min fairness (Bertsekas and Gallager, "Data Networks", §6.5.2), re-solved whenever
/// a flow starts or ends — the flow-level network model of SimGrid (Velho et al. 2013).
///
/// Progressive filling: raise every unfrozen flow's rate together until some link is full;
/// freeze the flows crossing it at that rate; repeat with what the other links have left.
///
/// Links can carry the load of more flows than are simulated: a link's `multiplicity`
/// (set per flow) says how many identical flows of folded GPUs cross it alongside, so the
/// simulated flow gets its share of the link as one of them.
struct FlowNetwork {
    struct Flow {
        var id: Int
        /// Links crossed, each with how many identical flows (this one included) share it.
        var links: [(link: Int, multiplicity: Double)]
        var remaining: Double
        var rate: Double = 0
        /// The rate any single link would allow on its own (an upper bound).
        var cap: Double
    }

    private(set) var capacity: [Double]
    /// Active flows in the order they were added (ids increase, so also by id).
    private(set) var active: [Flow] = []
    /// Bytes carried by each link so far, for utilisation reports.
    private(set) var carried: [Double]
    private var lastUpdate = SimTime.zero
    /// Scratch for `solve`: the compact slot of each link in use, -1 otherwise.
    private var slotOfLink: [Int]
    /// Scratch for `solve`, kept between calls so that re-solving, which happens at every
    /// flow start and end, allocates nothing once the buffers have grown.
    private var scratch = SolveScratch()

    private struct SolveScratch {
        /// Every active flow's route as compact slots and multiplicities, flow after flow;
        /// flow *f*'s entries are `routeStart[f]..<routeStart[f + 1]`.
        var routeSlot: [Int] = []
        var routeMultiplicity: [Double] = []
        var routeStart: [Int] = []
        var used: [Int] = []
        var left: [Double] = []
        var load: [Double] = []
        var unfrozen: [Int] = []
        var remaining: [Int] = []
        var frozen: [Int] = []
    }

    init(linkCapacities: [Double]) {
        capacity = linkCapacities
        carried = Array(repeating: 0, count: linkCapacities.count)
        slotOfLink = Array(repeating: -1, count: linkCapacities.count)
    }

    var isEmpty: Bool { active.isEmpty }

    /// The active flows by id.
    var flows: [Int: Flow] { Dictionary(uniqueKeysWithValues: active.map { ($0.id, $0) }) }

    /// Moves every flow forward to `now` at its current rate.
    mutating func advance(to now: SimTime) {
        let elapsed = (now - lastUpdate).seconds
        guard elapsed > 0 else {
            lastUpdate = now
            return
        }
        for index in active.indices {
            let moved = min(active[index].remaining, active[index].rate * elapsed)
            active[index].remaining -= moved
            for (link, multiplicity) in active[index].links { carried[link] += moved * multiplicity }
        }
        lastUpdate = now
    }

    /// Adds a flow; with `resolve` false the caller adds more and calls `resolve()` once.
    mutating func add(id: Int, links: [(link: Int, multiplicity: Double)], bytes: Double, resolve: Bool = true) {
        let cap = links.map { capacity[$0.link] / $0.multiplicity }.min() ?? .infinity
        active.append(Flow(id: id, links: links, remaining: bytes, cap: cap))
        if resolve { solve() }
    }

    /// Removes a flow; with `resolve` false the caller removes more and calls `resolve()` once.
    mutating func remove(id: Int, resolve: Bool = true) {
        active.removeAll { $0.id == id }
        if resolve { solve() }
    }

    /// Removes every flow in `ids` at once, then re-solves.
    mutating func remove(ids: Set<Int>) {
        active.removeAll { ids.contains($0.id) }
        solve()
    }

    /// The flows that have moved all their bytes, by id.
    func finished() -> [Int] {
        active.filter { $0.remaining <= max(1e-6, $0.rate * 1e-12) }.map(\.id)
    }

    /// Recomputes every rate after a batch of additions or removals.
    mutating func resolve() { solve() }

    /// When the flow that finishes first will finish, and which it is; `nil` when idle.
    func nextCompletion(after now: SimTime) -> (id: Int, time: SimTime)? {
        var best: (id: Int, seconds: Double)?
        for flow in active {
            let seconds = flow.rate > 0 ? flow.remaining / flow.rate : .infinity
            if best == nil || seconds < best!.seconds || (seconds == best!.seconds && flow.id < best!.id) {
                best = (flow.id, seconds)
            }
        }
        guard let best, best.seconds.isFinite else { return nil }
        return (best.id, now + SimTime(seconds: best.seconds))
    }

    /// Max-min fair rates by progressive filling, over the links that active flows cross.
    ///
    /// - Complexity: O(*l* · *F*) per bottleneck found, at most *F* rounds, where *l* is
    ///   the number of links in use (not in the topology).
    private mutating func solve() {
        var buffers = scratch
        scratch = SolveScratch()
        defer { scratch = buffers }
        // Compact the links in use, so a 16,384-GPU topology costs only what flows touch.
        buffers.used.removeAll(keepingCapacity: true)
        buffers.routeSlot.removeAll(keepingCapacity: true)
        buffers.routeMultiplicity.removeAll(keepingCapacity: true)
        buffers.routeStart.removeAll(keepingCapacity: true)
        for flow in active {
            buffers.routeStart.append(buffers.routeSlot.count)
            for (link, multiplicity) in flow.links {
                if slotOfLink[link] < 0 {
                    slotOfLink[link] = buffers.used.count
                    buffers.used.append(link)
                }
                buffers.routeSlot.append(slotOfLink[link])
                buffers.routeMultiplicity.append(multiplicity)
            }
        }
        buffers.routeStart.append(buffers.routeSlot.count)
        for link in buffers.used { slotOfLink[link] = -1 }
        buffers.left.removeAll(keepingCapacity: true)
        for link in buffers.used { buffers.left.append(capacity[link]) }
        buffers.load.removeAll(keepingCapacity: true)
        buffers.load.append(contentsOf: repeatElement(0, count: buffers.used.count))
        buffers.unfrozen.removeAll(keepingCapacity: true)
        buffers.unfrozen.append(contentsOf: active.indices)
        while !buffers.unfrozen.isEmpty {
            for index in buffers.load.indices { buffers.load[index] = 0 }
            for flow in buffers.unfrozen {
                for entry in buffers.routeStart[flow]..<buffers.routeStart[flow + 1] {
                    buffers.load[buffers.routeSlot[entry]] += buffers.routeMultiplicity[entry]
                }
            }
            var share = Double.infinity
            for index in buffers.load.indices where buffers.load[index] > 0 {
                share = min(share, buffers.left[index] / buffers.load[index])
            }
            if !share.isFinite {
                for flow in buffers.unfrozen { active[flow].rate = .infinity }
                return
            }
            buffers.remaining.removeAll(keepingCapacity: true)
            buffers.frozen.removeAll(keepingCapacity: true)
            for flow in buffers.unfrozen {
                let bottlenecked = (buffers.routeStart[flow]..<buffers.routeStart[flow + 1]).contains { entry in
                    let slot = buffers.routeSlot[entry]
                    return buffers.load[slot] > 0 && buffers.left[slot] / buffers.load[slot] <= share * (1 + 1e-12)
                }
                if bottlenecked {
                    buffers.frozen.append(flow)
                } else {
                    buffers.remaining.append(flow)
                }
            }
            for flow in buffers.frozen {
                active[flow].rate = share
                for entry in buffers.routeStart[flow]..<buffers.routeStart[flow + 1] {
                    let slot = buffers.routeSlot[entry]
                    buffers.left[slot] = max(0, buffers.left[slot] - share * buffers.routeMultiplicity[entry])
                }
            }
            swap(&buffers.unfrozen, &buffers.remaining)
        }
        checkInvariants()
    }

    /// No link carries more than its capacity (debug builds only).
    private func checkInvariants() {
        #if DEBUG
            var used: [Int: Double] = [:]
            for flow in active { for (link, multiplicity) in flow.links { used[link, default: 0] += flow.rate * multiplicity } }
            for (link, rate) in used where rate > capacity[link] * (1 + 1e-9) {
                preconditionFailure("link \(link) carries \(rate) B/s over its capacity \(capacity[link])")
            }
        #endif
    }
}

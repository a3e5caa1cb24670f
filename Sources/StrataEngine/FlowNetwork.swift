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
    private(set) var flows: [Int: Flow] = [:]
    /// Bytes carried by each link so far, for utilisation reports.
    private(set) var carried: [Double]
    private var lastUpdate = SimTime.zero

    init(linkCapacities: [Double]) {
        capacity = linkCapacities
        carried = Array(repeating: 0, count: linkCapacities.count)
    }

    var isEmpty: Bool { flows.isEmpty }

    /// Moves every flow forward to `now` at its current rate.
    mutating func advance(to now: SimTime) {
        let elapsed = (now - lastUpdate).seconds
        guard elapsed > 0 else {
            lastUpdate = now
            return
        }
        for id in flows.keys {
            let moved = min(flows[id]!.remaining, flows[id]!.rate * elapsed)
            flows[id]!.remaining -= moved
            for (link, multiplicity) in flows[id]!.links { carried[link] += moved * multiplicity }
        }
        lastUpdate = now
    }

    /// Adds a flow; with `resolve` false the caller adds more and calls `resolve()` once.
    mutating func add(id: Int, links: [(link: Int, multiplicity: Double)], bytes: Double, resolve: Bool = true) {
        let cap = links.map { capacity[$0.link] / $0.multiplicity }.min() ?? .infinity
        flows[id] = Flow(id: id, links: links, remaining: bytes, cap: cap)
        if resolve { solve() }
    }

    /// Removes a flow; with `resolve` false the caller removes more and calls `resolve()` once.
    mutating func remove(id: Int, resolve: Bool = true) {
        flows[id] = nil
        if resolve { solve() }
    }

    /// Recomputes every rate after a batch of additions or removals.
    mutating func resolve() { solve() }

    /// When the flow that finishes first will finish, and which it is; `nil` when idle.
    func nextCompletion(after now: SimTime) -> (id: Int, time: SimTime)? {
        var best: (id: Int, seconds: Double)?
        for flow in flows.values {
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
        // Compact the links in use, so a 16,384-GPU topology costs only what flows touch.
        var slot: [Int: Int] = [:]
        var used: [Int] = []
        let ids = flows.keys.sorted()
        var routes: [[(slot: Int, multiplicity: Double)]] = []
        routes.reserveCapacity(ids.count)
        for id in ids {
            routes.append(flows[id]!.links.map { link, multiplicity in
                if let index = slot[link] { return (index, multiplicity) }
                slot[link] = used.count
                used.append(link)
                return (used.count - 1, multiplicity)
            })
        }
        var left = used.map { capacity[$0] }
        var load = [Double](repeating: 0, count: used.count)
        var unfrozen = Array(ids.indices)
        while !unfrozen.isEmpty {
            for index in load.indices { load[index] = 0 }
            for flow in unfrozen { for (index, multiplicity) in routes[flow] { load[index] += multiplicity } }
            var share = Double.infinity
            for index in load.indices where load[index] > 0 { share = min(share, left[index] / load[index]) }
            if !share.isFinite {
                for flow in unfrozen { flows[ids[flow]]!.rate = .infinity }
                return
            }
            var remaining: [Int] = []
            var frozen: [Int] = []
            for flow in unfrozen {
                if routes[flow].contains(where: { load[$0.slot] > 0 && left[$0.slot] / load[$0.slot] <= share * (1 + 1e-12) }) {
                    frozen.append(flow)
                } else {
                    remaining.append(flow)
                }
            }
            for flow in frozen {
                flows[ids[flow]]!.rate = share
                for (index, multiplicity) in routes[flow] { left[index] = max(0, left[index] - share * multiplicity) }
            }
            unfrozen = remaining
        }
        checkInvariants()
    }

    /// No link carries more than its capacity (debug builds only).
    private func checkInvariants() {
        #if DEBUG
            var used: [Int: Double] = [:]
            for flow in flows.values { for (link, multiplicity) in flow.links { used[link, default: 0] += flow.rate * multiplicity } }
            for (link, rate) in used where rate > capacity[link] * (1 + 1e-9) {
                preconditionFailure("link \(link) carries \(rate) B/s over its capacity \(capacity[link])")
            }
        #endif
    }
}

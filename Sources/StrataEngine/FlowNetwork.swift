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
        var links: [(link: Int, multiplicity: Int)]
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
            for (link, multiplicity) in flows[id]!.links { carried[link] += moved * Double(multiplicity) }
        }
        lastUpdate = now
    }

    mutating func add(id: Int, links: [(link: Int, multiplicity: Int)], bytes: Double) {
        let cap = links.map { capacity[$0.link] / Double($0.multiplicity) }.min() ?? .infinity
        flows[id] = Flow(id: id, links: links, remaining: bytes, cap: cap)
        solve()
    }

    mutating func remove(id: Int) {
        flows[id] = nil
        solve()
    }

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

    /// Max-min fair rates by progressive filling.
    ///
    /// - Complexity: O(*L* · *F*) per bottleneck found, at most *F* rounds.
    private mutating func solve() {
        var left = capacity
        var unfrozen = Set(flows.keys)
        // Weighted count of unfrozen flows on each link (multiplicity counts the folded twins).
        while !unfrozen.isEmpty {
            var load = [Double](repeating: 0, count: capacity.count)
            for id in unfrozen { for (link, multiplicity) in flows[id]!.links { load[link] += Double(multiplicity) } }
            // The tightest link, and flows whose own route gives no link at all.
            var share = Double.infinity
            for link in load.indices where load[link] > 0 { share = min(share, left[link] / load[link]) }
            if !share.isFinite {
                for id in unfrozen { flows[id]!.rate = .infinity }
                return
            }
            var frozen: [Int] = []
            for id in unfrozen where flows[id]!.links.contains(where: { load[$0.link] > 0 && left[$0.link] / load[$0.link] <= share * (1 + 1e-12) }) {
                frozen.append(id)
            }
            for id in frozen.sorted() {
                flows[id]!.rate = share
                unfrozen.remove(id)
                for (link, multiplicity) in flows[id]!.links { left[link] = max(0, left[link] - share * Double(multiplicity)) }
            }
        }
        checkInvariants()
    }

    /// No link carries more than its capacity (debug builds only).
    private func checkInvariants() {
        #if DEBUG
            var used = [Double](repeating: 0, count: capacity.count)
            for flow in flows.values { for (link, multiplicity) in flow.links { used[link] += flow.rate * Double(multiplicity) } }
            for link in used.indices where used[link] > capacity[link] * (1 + 1e-9) {
                preconditionFailure("link \(link) carries \(used[link]) B/s over its capacity \(capacity[link])")
            }
        #endif
    }
}

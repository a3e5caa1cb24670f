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
    private var used: [Int] = []
    private var routeStart: [Int] = [], routeSlot: [Int32] = [], routeMultiplicity: [Double] = []
    private var left: [Double] = [], load: [Double] = []
    private var unfrozenOnLink: [Int32] = [], flowsStart: [Int32] = [], flowsOfLink: [Int32] = []
    private var frozen: [Bool] = []
    private var fill: [Int32] = [], bottlenecks: [Int] = [], live: [Int] = []

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
        var cap = Double.infinity
        for (link, multiplicity) in links { cap = min(cap, capacity[link] / multiplicity) }
        active.append(Flow(id: id, links: links, remaining: bytes, cap: cap))
        if resolve { solve() }
    }

    /// Removes a flow; with `resolve` false the caller removes more and calls `resolve()` once.
    mutating func remove(id: Int, resolve: Bool = true) {
        active.removeAll { $0.id == id }
        if resolve { solve() }
    }

    /// Removes the flows that have moved all their bytes, re-solves, and returns their ids
    /// in increasing order, in one pass over the flows.
    mutating func removeFinished() -> [Int] {
        var done: [Int] = []
        var kept = 0
        for index in active.indices {
            if active[index].remaining <= max(1e-6, active[index].rate * 1e-12) {
                done.append(active[index].id)
            } else {
                if kept != index { active.swapAt(kept, index) }
                kept += 1
            }
        }
        active.removeLast(active.count - kept)
        solve()
        return done
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
    /// Each round finds the smallest fair share any link still offers its unfrozen flows,
    /// freezes the flows of every link at that share, and takes their rates off the links
    /// they cross. Routes, link loads and a link-to-flows index live in flat arrays reused
    /// from solve to solve, so a solve allocates nothing once they have grown.
    ///
    /// - Complexity: O(*R* + *l* · rounds), where *R* is the total length of the active
    ///   routes, *l* the number of links in use (not in the topology), and rounds at most
    ///   the number of flows.
    private mutating func solve() {
        // Compact the links in use, so a 16,384-GPU topology costs only what flows touch.
        used.removeAll(keepingCapacity: true)
        routeStart.removeAll(keepingCapacity: true)
        routeSlot.removeAll(keepingCapacity: true)
        routeMultiplicity.removeAll(keepingCapacity: true)
        for index in active.indices {
            routeStart.append(routeSlot.count)
            for (link, multiplicity) in active[index].links {
                if slotOfLink[link] < 0 {
                    slotOfLink[link] = used.count
                    used.append(link)
                }
                routeSlot.append(Int32(slotOfLink[link]))
                routeMultiplicity.append(multiplicity)
            }
        }
        routeStart.append(routeSlot.count)
        for link in used { slotOfLink[link] = -1 }
        let links = used.count, flows = active.count
        left.removeAll(keepingCapacity: true)
        for link in used { left.append(capacity[link]) }
        Self.reset(&load, to: 0, count: links)
        Self.reset(&unfrozenOnLink, to: 0, count: links)
        // Link → flows index (compressed rows).
        Self.reset(&flowsStart, to: 0, count: links + 1)
        for entry in 0..<routeSlot.count {
            let slot = Int(routeSlot[entry])
            load[slot] += routeMultiplicity[entry]
            unfrozenOnLink[slot] += 1
            flowsStart[slot + 1] += 1
        }
        for slot in 0..<links { flowsStart[slot + 1] += flowsStart[slot] }
        Self.reset(&flowsOfLink, to: 0, count: routeSlot.count)
        Self.reset(&fill, to: 0, count: flowsStart.count)
        for slot in flowsStart.indices { fill[slot] = flowsStart[slot] }
        for flow in 0..<flows {
            for entry in routeStart[flow]..<routeStart[flow + 1] {
                let slot = Int(routeSlot[entry])
                flowsOfLink[Int(fill[slot])] = Int32(flow)
                fill[slot] += 1
            }
        }
        Self.reset(&frozen, to: false, count: flows)
        var remaining = flows
        // The slots of links with unfrozen flows, in increasing order; links leave as their
        // flows freeze (none comes back), so later rounds scan fewer.
        live.removeAll(keepingCapacity: true)
        for slot in 0..<links where unfrozenOnLink[slot] > 0 { live.append(slot) }
        while remaining > 0 {
            var share = Double.infinity
            for slot in live { share = min(share, left[slot] / load[slot]) }
            if !share.isFinite {
                for flow in 0..<flows where !frozen[flow] { active[flow].rate = .infinity }
                return
            }
            bottlenecks.removeAll(keepingCapacity: true)
            for slot in live where left[slot] / load[slot] <= share * (1 + 1e-12) {
                bottlenecks.append(slot)
            }
            for slot in bottlenecks {
                for index in Int(flowsStart[slot])..<Int(flowsStart[slot + 1]) {
                    let flow = Int(flowsOfLink[index])
                    guard !frozen[flow] else { continue }
                    frozen[flow] = true
                    remaining -= 1
                    active[flow].rate = share
                    for entry in routeStart[flow]..<routeStart[flow + 1] {
                        let crossed = Int(routeSlot[entry]), multiplicity = routeMultiplicity[entry]
                        left[crossed] = max(0, left[crossed] - share * multiplicity)
                        load[crossed] -= multiplicity
                        unfrozenOnLink[crossed] -= 1
                    }
                }
            }
            var kept = 0
            for index in live.indices where unfrozenOnLink[live[index]] > 0 {
                live[kept] = live[index]
                kept += 1
            }
            live.removeLast(live.count - kept)
        }
        checkInvariants()
    }

    /// Refills a scratch array in place, keeping its storage.
    private static func reset<Element>(_ array: inout [Element], to value: Element, count: Int) {
        if array.count > count { array.removeLast(array.count - count) }
        for index in array.indices { array[index] = value }
        while array.count < count { array.append(value) }
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

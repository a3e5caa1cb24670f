import Foundation
import StrataCore
import StrataTopology

/// How real collectives fall short of the links' nominal figures, per kind of link: the
/// share of a link's bandwidth NCCL reaches, and the fixed cost of each algorithm step.
/// Fitted from measured collectives (`traces/<gpu>/collectives.csv`); links of a kind
/// with no measurements keep their nominal figures.
public struct NetworkCalibration: Sendable {
    /// Bandwidth actually reached, as a fraction of nominal, per link kind.
    public var efficiency: [Link.Kind: Double] = [:]
    /// Seconds per algorithm step (a ring hop), per link kind, replacing the topology's
    /// link latencies for routes of that kind.
    public var stepLatency: [Link.Kind: Double] = [:]
    /// The bus bandwidth the fit settled on, bytes per second per GPU, per link kind.
    public var busBandwidth: [Link.Kind: Double] = [:]
    /// What each fit got wrong, for `simulate calibrate`: every measured collective size
    /// held out and predicted from the others by the curve the executor uses
    /// (`curveSeconds`, after `withoutDisturbedSizes`).
    public var report: [Fit] = []
    /// The same for the sizes measured between the grid's (`collectives_held_out.csv`,
    /// `collectives.py --held-out`), each predicted from every grid size by the curve the
    /// executor uses: sizes the fit has not seen, as a training job's messages are.
    public var heldOutReport: [Fit] = []
    /// Measured collective times on one node, by `op|gpus` (contiguous groups): (log bytes,
    /// log seconds), sorted by size, with disturbed sizes dropped (`withoutDisturbedSizes`).
    /// NCCL changes protocol and channel count with message size, so no single α–β line fits
    /// a collective from 1 KiB to 1 GiB; the measured curve, read between sizes by
    /// `curveSeconds`, does (`measuredSeconds`).
    public var measured: [String: [(logBytes: Double, logSeconds: Double)]] = [:]
    /// How much longer a kernel takes while a collective shares its GPU, by the kernel's
    /// time alone (`interference.csv`: a product and an all-reduce run side by side on
    /// separate streams), read near the kernel's own time (`InterferenceCurve`). Empty, a
    /// slowdown of 1, where nothing was measured.
    public var computeInterference = InterferenceCurve()
    /// How much longer a collective takes while a kernel shares its GPU: the median of the
    /// measured slowdowns (1 where nothing was measured). Unlike a kernel's, it follows no
    /// size of its own: it turns on the kernel beside it (a 64 MiB all-reduce ran 1.3× longer
    /// beside a 4096-cube product and 6.2× beside an 8192-cube one, whose blocks held every
    /// SM until it ended).
    public var communicationSlowdown = 1.0

    public struct Fit: Sendable {
        public var collective: String
        public var gpus: Int
        public var bytes: Double
        public var measuredSeconds: Double
        public var fittedSeconds: Double
        public var error: Double { (fittedSeconds - measuredSeconds) / measuredSeconds }
    }

    public init() {}

    /// The measured time of `op` (`all_reduce`, `all_gather`, `reduce_scatter`,
    /// `all_to_all`, `send_recv`) on `gpus` GPUs of one node for `bytes` (nccl-tests'
    /// convention), read off the measured curve by `curveSeconds`; nil outside the measured
    /// sizes or without measurements.
    public func measuredSeconds(_ op: String, gpus: Int, bytes: Double) -> Double? {
        guard let curve = measured["\(op)|\(gpus)"], curve.count >= 2, bytes > 0 else { return nil }
        return Self.curveSeconds(curve, at: log(bytes))
    }

    /// A collective's time at `logBytes` between measured sizes: the median of three α–β
    /// lines (time = latency + bytes / bandwidth, straight in bytes and seconds) — the chord
    /// through the two measured sizes around it, the line through the two sizes below
    /// extended up, and the line through the two above extended down. Each NCCL choice of
    /// algorithm, protocol and channel count costs about a line, so between sizes 4× apart
    /// the curve bends the way its neighbouring lines do: where both bend below the chord
    /// (bandwidth still rising: the lower envelope of the lines, NCCL taking the faster
    /// choice) the nearer of them is taken, where both bend above (a slower choice from the
    /// next size on) likewise, and where they disagree the chord. Both lines through an end
    /// of the interval agree there, so the curve passes through every measured size and is
    /// continuous; it increases wherever the measured times do. Intervals at either end of
    /// the curve, with one neighbouring line, use the chord. Log–log interpolation between
    /// neighbours, used before, bends the wrong way where bandwidth still rises (it
    /// overstated most held-out sizes from 8 MiB up, by up to 12 %) and cannot follow a
    /// protocol change.
    ///
    /// `curve` is (log bytes, log seconds) sorted by size; nil outside its sizes.
    /// - Complexity: O(n) in the measured sizes (a few dozen).
    static func curveSeconds(_ curve: [(logBytes: Double, logSeconds: Double)], at x: Double) -> Double? {
        guard let first = curve.first, let last = curve.last, x >= first.logBytes - 1e-9, x <= last.logBytes + 1e-9 else { return nil }
        guard let upper = curve.firstIndex(where: { $0.logBytes >= x - 1e-12 }) else { return nil }
        if upper == 0 || abs(curve[upper].logBytes - x) < 1e-12 { return exp(curve[upper].logSeconds) }
        let bytes = exp(x)
        func point(_ index: Int) -> (bytes: Double, seconds: Double) { (exp(curve[index].logBytes), exp(curve[index].logSeconds)) }
        func line(_ a: Int, _ b: Int) -> Double {
            let (p, q) = (point(a), point(b))
            return p.seconds + (q.seconds - p.seconds) * (bytes - p.bytes) / (q.bytes - p.bytes)
        }
        let chord = line(upper - 1, upper)
        guard upper >= 2, upper + 1 < curve.count else { return chord }
        let fromBelow = line(upper - 2, upper - 1), fromAbove = line(upper, upper + 1)
        return max(min(chord, fromBelow), min(max(chord, fromBelow), fromAbove))
    }

    /// `curve` (sorted by size) without the sizes whose time exceeds that of some larger
    /// size. More bytes never take less time on an idle node: such a size was disturbed
    /// while measured (the 2 MiB all-to-all and reduce-scatter on two H100s: 2.4 and 1.5
    /// times the 4 MiB time, in both measured runs), and kept it would bend the curve for
    /// its neighbours too. The smallest size bounds the measured range, so it stays, lowered
    /// to the fastest larger size's time.
    /// - Complexity: O(n).
    static func withoutDisturbedSizes(_ curve: [(logBytes: Double, logSeconds: Double)]) -> [(logBytes: Double, logSeconds: Double)] {
        var kept: [(logBytes: Double, logSeconds: Double)] = []
        var fastestLarger = Double.infinity
        for index in curve.indices.reversed() {
            let point = curve[index]
            if index == 0 {
                kept.append((point.logBytes, min(point.logSeconds, fastestLarger)))
            } else if index == curve.count - 1 || point.logSeconds <= fastestLarger {
                kept.append(point)
            }
            fastestLarger = min(fastestLarger, point.logSeconds)
        }
        return kept.reversed()
    }

    /// Fits NVLink's efficiency and step latency from the contiguous all-reduce,
    /// all-gather and reduce-scatter measurements on one node: bandwidth from the largest
    /// message's bus bandwidth (NCCL's busbw = algorithm bytes per second × 2(n−1)/n or
    /// (n−1)/n), step latency from the smallest message's time over its steps.
    ///
    /// `nominal` is the per-GPU NVLink bandwidth of the measured machine.
    public static func fit(_ tables: MeasuredTables, nominal: Bandwidth) -> NetworkCalibration {
        var calibration = NetworkCalibration()
        if let interference = tables.tables["interference"] {
            // A product is sized by its time alone (an all-reduce's sizes only label its points).
            func curve(_ victim: String, size column: String, scale: Double) -> InterferenceCurve {
                InterferenceCurve(points: interference.rows.filter { $0["victim"] == victim }.compactMap { row in
                    guard let size = interference.number(row, column), let slowdown = interference.number(row, "slowdown") else { return nil }
                    return InterferenceCurve.Point(size: size * scale, slowdown: slowdown)
                })
            }
            calibration.computeInterference = curve("gemm", size: "alone_median_us", scale: 1e-6)
            calibration.communicationSlowdown = curve("all_reduce", size: "coll_bytes", scale: 1).median
        }
        guard let table = tables.tables["collectives"] else { return calibration }
        for row in table.rows where row["group"] == "contiguous" {
            guard let op = row["op"], let gpus = table.number(row, "gpus"), let bytes = table.number(row, "bytes"),
                  let us = table.number(row, "median_us"), bytes > 0, us > 0 else { continue }
            calibration.measured["\(op)|\(Int(gpus))", default: []].append((log(bytes), log(us * 1e-6)))
        }
        for key in calibration.measured.keys { calibration.measured[key]!.sort { $0.logBytes < $1.logBytes } }
        let measuredAsIs = calibration.measured
        for key in calibration.measured.keys { calibration.measured[key] = Self.withoutDisturbedSizes(calibration.measured[key]!) }
        let kinds: [(name: String, steps: (Double) -> Double, share: (Double) -> Double)] = [
            ("all_reduce", { 2 * ($0 - 1) }, { 2 * ($0 - 1) / $0 }),
            ("all_gather", { $0 - 1 }, { ($0 - 1) / $0 }),
            ("reduce_scatter", { $0 - 1 }, { ($0 - 1) / $0 }),
        ]
        var bandwidths: [Double] = [], latencies: [Double] = []
        for kind in kinds {
            let rows = table.rows.filter { $0["op"] == kind.name && $0["group"] == "contiguous" }
            for gpus in Set(rows.compactMap { table.number($0, "gpus") }).sorted() {
                let points = rows.filter { table.number($0, "gpus") == gpus }
                    .compactMap { row -> (Double, Double)? in
                        guard let bytes = table.number(row, "bytes"), let us = table.number(row, "median_us") else { return nil }
                        return (bytes, us * 1e-6)
                    }.sorted { $0.0 < $1.0 }
                guard let small = points.first, let large = points.last, points.count >= 2 else { continue }
                let steps = kind.steps(gpus), share = kind.share(gpus)
                bandwidths.append(share * large.0 / large.1)
                latencies.append(small.1 / steps)
            }
        }
        guard !bandwidths.isEmpty else { return calibration }
        let bandwidth = bandwidths.reduce(0, +) / Double(bandwidths.count)
        let latency = latencies.sorted()[latencies.count / 2]
        calibration.efficiency[.nvlink] = min(1, bandwidth / nominal.bytesPerSecond)
        calibration.busBandwidth[.nvlink] = bandwidth
        calibration.stepLatency[.nvlink] = latency
        for key in measuredAsIs.keys.sorted() {
            let curve = measuredAsIs[key]!
            let parts = key.split(separator: "|")
            guard curve.count >= 3, parts[0] != "send_recv" else { continue }
            for held in 1..<(curve.count - 1) {
                var others = curve
                others.remove(at: held)
                guard let predicted = Self.curveSeconds(Self.withoutDisturbedSizes(others), at: curve[held].logBytes) else { continue }
                calibration.report.append(Fit(collective: String(parts[0]), gpus: Int(parts[1])!, bytes: exp(curve[held].logBytes),
                                              measuredSeconds: exp(curve[held].logSeconds), fittedSeconds: predicted))
            }
        }
        if let heldOut = tables.tables["collectives_held_out"] {
            for row in heldOut.rows where row["group"] == "contiguous" && row["op"] != "send_recv" {
                guard let op = row["op"], let gpus = heldOut.number(row, "gpus"), let bytes = heldOut.number(row, "bytes"),
                      let us = heldOut.number(row, "median_us"), us > 0,
                      let predicted = calibration.measuredSeconds(op, gpus: Int(gpus), bytes: bytes) else { continue }
                calibration.heldOutReport.append(Fit(collective: op, gpus: Int(gpus), bytes: bytes, measuredSeconds: us * 1e-6,
                                                     fittedSeconds: predicted))
            }
            calibration.heldOutReport.sort { ($0.collective, $0.gpus, $0.bytes) < ($1.collective, $1.gpus, $1.bytes) }
        }
        return calibration
    }
}

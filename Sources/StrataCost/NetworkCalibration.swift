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
    /// What each fit got wrong, for `simulate calibrate`.
    public var report: [Fit] = []
    /// How much longer a kernel takes while a collective shares its GPU, and how much longer
    /// a collective takes while a kernel does: medians of the measured slowdowns
    /// (`interference.csv`: a GEMM and an all-reduce run side by side on separate streams).
    /// 1 where nothing was measured.
    public var computeSlowdown = 1.0
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

    /// Fits NVLink's efficiency and step latency from the contiguous all-reduce,
    /// all-gather and reduce-scatter measurements on one node: bandwidth from the largest
    /// message's bus bandwidth (NCCL's busbw = algorithm bytes per second × 2(n−1)/n or
    /// (n−1)/n), step latency from the smallest message's time over its steps.
    ///
    /// `nominal` is the per-GPU NVLink bandwidth of the measured machine.
    public static func fit(_ tables: MeasuredTables, nominal: Bandwidth) -> NetworkCalibration {
        var calibration = NetworkCalibration()
        if let interference = tables.tables["interference"] {
            func median(_ victim: String) -> Double? {
                let values = interference.rows.filter { $0["victim"] == victim }.compactMap { interference.number($0, "slowdown") }
                return values.isEmpty ? nil : InterpolationError.percentile(values, 0.5)
            }
            calibration.computeSlowdown = max(1, median("gemm") ?? 1)
            calibration.communicationSlowdown = max(1, median("all_reduce") ?? 1)
        }
        guard let table = tables.tables["collectives"] else { return calibration }
        let kinds: [(name: String, steps: (Double) -> Double, share: (Double) -> Double)] = [
            ("all_reduce", { 2 * ($0 - 1) }, { 2 * ($0 - 1) / $0 }),
            ("all_gather", { $0 - 1 }, { ($0 - 1) / $0 }),
            ("reduce_scatter", { $0 - 1 }, { ($0 - 1) / $0 }),
        ]
        var bandwidths: [Double] = [], latencies: [Double] = []
        var series: [(name: String, n: Double, rows: [(bytes: Double, seconds: Double)], steps: Double, share: Double)] = []
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
                series.append((kind.name, gpus, points, steps, share))
            }
        }
        guard !bandwidths.isEmpty else { return calibration }
        let bandwidth = bandwidths.reduce(0, +) / Double(bandwidths.count)
        let latency = latencies.sorted()[latencies.count / 2]
        calibration.efficiency[.nvlink] = min(1, bandwidth / nominal.bytesPerSecond)
        calibration.busBandwidth[.nvlink] = bandwidth
        calibration.stepLatency[.nvlink] = latency
        for item in series {
            for point in item.rows {
                let fitted = item.steps * latency + item.share * point.bytes / bandwidth
                calibration.report.append(Fit(collective: item.name, gpus: Int(item.n), bytes: point.bytes,
                                              measuredSeconds: point.seconds, fittedSeconds: fitted))
            }
        }
        return calibration
    }
}

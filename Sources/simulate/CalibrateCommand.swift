import ArgumentParser
import Foundation
import StrataCore
import StrataCost
import StrataGraph
import StrataTopology

/// `simulate calibrate`: fit the cost models to measured tables and say how well they fit.
struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Fit the cost models to measured kernel and collective tables and print each fit's error.",
        discussion: """
            Loads every GPU folder under --traces (or the folder itself if it holds CSV tables), \
            as a run would. For each interpolated family (GEMM per precision, attention per \
            pass, each memory-bound op, each custom kernel's tables) it predicts every measured \
            row from the other rows — leave-one-out — and prints the mean and largest |error|. \
            For the collectives it prints the fitted NVLink efficiency and step latency and the \
            fit's error per collective and GPU count. Where the folder also holds shapes measured \
            apart from the grid (gemm_held_out.csv, attention_held_out.csv, \
            grouped_gemm_held_out.csv, collectives_held_out.csv: the profiler's --held-out), it \
            predicts each of them from all the grid's rows and prints those errors too. Where it \
            holds interference.csv, it prints the slowdowns a run takes from it: a collective's \
            beside a kernel, and a kernel's beside a collective at several lengths. With \
            --worst N it lists each section's N worst rows. Errors are (predicted − measured) / \
            measured.
            """
    )

    @Option(help: ArgumentHelp("A folder of GPU folders of measured tables (traces), or one GPU's folder.", valueName: "dir"))
    var traces: String

    @Option(help: ArgumentHelp("Topology whose GPU's NVLink is the nominal bandwidth (default: the first in topologies/ beside the traces with that GPU).",
                               valueName: "path"))
    var topology: String?

    @Option(help: ArgumentHelp("Also list the N rows each section predicts worst, with their shapes and times.", valueName: "n"))
    var worst: Int?

    @Flag(help: "Print JSON instead of tables.")
    var json = false

    struct GPUReport: Codable {
        struct Family: Codable {
            var family: String
            var dtype: String
            var rows: Int
            var meanAbsError: Double
            var maxAbsError: Double
            var meanError: Double
            var medianAbsError: Double
            var p90AbsError: Double
        }
        struct Interference: Codable {
            /// A kernel's slowdown beside a collective, read at a length (`InterferenceCurve`).
            struct Reading: Codable {
                var aloneUs: Double
                var slowdown: Double
            }
            var products: Int
            var productSlowdownMin: Double
            var productSlowdownMax: Double
            var kernelReadings: [Reading]
            /// The median all-reduce slowdown every collective beside a kernel takes.
            var collectiveSlowdown: Double
        }
        struct Collective: Codable {
            var collective: String
            var gpus: Int
            var sizes: Int
            var meanAbsError: Double
            var maxAbsError: Double
            var medianAbsErrorFrom1MiB: Double
            var p90AbsErrorFrom1MiB: Double
        }
        var gpu: String
        var folder: String
        var tables: [String]
        var kernels: [String]
        var nominalNVLinkGBps: Double?
        var nominalFrom: String?
        var nvlinkBusGBps: Double?
        var nvlinkEfficiency: Double?
        var stepLatencyUs: Double?
        var families: [Family]
        var collectives: [Collective]
        /// Shapes measured between the grid's, predicted from all of it (empty without
        /// `*_held_out.csv` tables).
        var heldOutFamilies: [Family]
        var heldOutCollectives: [Collective]
        /// The slowdowns a run reads from `interference.csv`; absent without that table.
        var interference: Interference?
        /// One row as scored, for `--worst`.
        struct Row: Codable {
            var family: String
            var dtype: String
            var shape: String
            var measuredUs: Double
            var predictedUs: Double
            var error: Double
        }
        /// With `--worst N`: each section's N worst rows by |error| (leave-one-out, held-out,
        /// collectives leave-one-out, collectives held-out), worst first; absent otherwise.
        var worstLeaveOneOut: [Row]?
        var worstHeldOut: [Row]?
        var worstCollectives: [Row]?
        var worstHeldOutCollectives: [Row]?
    }

    func run() throws {
        if let worst, worst < 1 {
            throw DiagnosticError(Diagnostic(file: "--worst", "'\(worst)' rows: the count must be at least 1",
                                             help: "pass how many rows to list, such as --worst 10"))
        }
        let folders = try Self.gpuFolders(traces)
        var nominalTopology: (cluster: Cluster, path: String)?
        if let topology { nominalTopology = (try TopologyLoader.load(path: topology), topology) }
        let reports = try folders.map { id, folder throws(DiagnosticError) in
            try Self.report(id: id, folder: folder, traces: traces, topology: nominalTopology, worst: worst)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(reports), as: UTF8.self))
        } else {
            print(reports.map(Self.render).joined(separator: "\n\n"))
        }
    }

    /// (GPU id, folder) for DIR itself when it holds tables, else each GPU folder under it.
    static func gpuFolders(_ directory: String) throws(DiagnosticError) -> [(String, String)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DiagnosticError(Diagnostic(file: directory, "no such folder of measured tables",
                                             help: "point --traces at traces/ (GPU folders of CSV tables) or at one GPU's folder, such as traces/h100-sxm"))
        }
        if MeasuredTables.holdsTables(directory) {
            return [(((directory as NSString).standardizingPath as NSString).lastPathComponent, directory)]
        }
        let ids = MeasuredTables.gpuIDs(under: directory)
        guard !ids.isEmpty else {
            throw DiagnosticError(Diagnostic(file: directory, "holds no CSV tables and no GPU folder of them",
                                             help: "run scripts/profile/run.py --out \(directory) on the GPU to measure, or point --traces at such a folder"))
        }
        return ids.map { ($0, (directory as NSString).appendingPathComponent($0)) }
    }

    static func report(id: String, folder: String, traces: String, topology: (cluster: Cluster, path: String)?, worst: Int? = nil)
        throws(DiagnosticError) -> GPUReport {
        let tables = try MeasuredTables(folder: folder)
        guard !tables.tables.isEmpty else {
            throw DiagnosticError(Diagnostic(file: folder, "holds no CSV tables", help: "run scripts/profile/run.py --out \(traces) on a GPU of this kind"))
        }
        let model = MeasuredCostModel(tables: tables)
        var nominal: (Bandwidth, String)?
        if let topology, let nvlink = topology.cluster.links.first(where: { $0.kind == .nvlink })?.bandwidth {
            nominal = (nvlink, topology.path)
        } else if topology == nil {
            let parent = (folder as NSString).deletingLastPathComponent
            for candidate in [(parent as NSString).appendingPathComponent("../topologies"), (parent as NSString).appendingPathComponent("../../topologies")] {
                if let entry = GPUCatalog.find(id, inTopologiesAt: candidate), let nvlink = entry.nvlink {
                    nominal = (nvlink, Resolver.normalized(entry.topology))
                    break
                }
            }
        }
        // The fitted bandwidth and the fit's errors do not depend on the nominal figure;
        // only the efficiency (their ratio) does.
        let network = NetworkCalibration.fit(tables, nominal: nominal?.0 ?? Bandwidth(bytesPerSecond: .greatestFiniteMagnitude))
        func families(_ errors: [InterpolationError]) -> [GPUReport.Family] {
            errors.map {
                GPUReport.Family(family: $0.family, dtype: $0.precision, rows: $0.rows, meanAbsError: $0.meanAbsolute,
                                 maxAbsError: $0.maxAbsolute, meanError: $0.meanSigned, medianAbsError: $0.medianAbsolute,
                                 p90AbsError: $0.p90Absolute)
            }
        }
        func collectives(_ errors: [NetworkCalibration.CollectiveError]) -> [GPUReport.Collective] {
            errors.map {
                GPUReport.Collective(collective: $0.collective, gpus: $0.gpus, sizes: $0.rows, meanAbsError: $0.meanAbsolute,
                                     maxAbsError: $0.maxAbsolute, medianAbsErrorFrom1MiB: $0.medianAtLeast1MiB,
                                     p90AbsErrorFrom1MiB: $0.p90AtLeast1MiB)
            }
        }
        let leaveOneOut = model.leaveOneOutErrors(), heldOut = model.heldOutErrors(tables)
        var report = GPUReport(gpu: id, folder: Resolver.normalized(folder), tables: tables.tables.keys.sorted(), kernels: model.kernelNames,
                               nominalNVLinkGBps: nominal.map { $0.0.bytesPerSecond / 1e9 }, nominalFrom: nominal?.1,
                               nvlinkBusGBps: network.busBandwidth[.nvlink].map { $0 / 1e9 },
                               nvlinkEfficiency: nominal == nil ? nil : network.efficiency[.nvlink],
                               stepLatencyUs: network.stepLatency[.nvlink].map { $0 * 1e6 }, families: families(leaveOneOut),
                               collectives: collectives(network.errorsByCollective), heldOutFamilies: families(heldOut),
                               heldOutCollectives: collectives(network.heldOutErrorsByCollective))
        let curve = network.computeInterference
        if !curve.isEmpty {
            report.interference = GPUReport.Interference(
                products: curve.points.count, productSlowdownMin: curve.points.map(\.slowdown).min()!,
                productSlowdownMax: curve.points.map(\.slowdown).max()!,
                kernelReadings: interferenceLengths.map { .init(aloneUs: $0 * 1e6, slowdown: curve.slowdown(at: $0)) },
                collectiveSlowdown: network.communicationSlowdown)
        }
        if let worst {
            func rows(_ errors: [InterpolationError]) -> [GPUReport.Row] {
                errors.flatMap { family in
                    family.scored.map {
                        GPUReport.Row(family: family.family, dtype: family.precision, shape: $0.shape, measuredUs: $0.measuredSeconds * 1e6,
                                      predictedUs: $0.predictedSeconds * 1e6, error: $0.error)
                    }
                }
            }
            func rows(_ fits: [NetworkCalibration.Fit]) -> [GPUReport.Row] {
                fits.map {
                    GPUReport.Row(family: $0.collective, dtype: "bf16", shape: "gpus=\($0.gpus) bytes=\(Int($0.bytes.rounded()))",
                                  measuredUs: $0.measuredSeconds * 1e6, predictedUs: $0.fittedSeconds * 1e6, error: $0.error)
                }
            }
            // Worst first; ties in table order, so the list is the same on every run.
            func worstOf(_ rows: [GPUReport.Row]) -> [GPUReport.Row] {
                Array(rows.enumerated().sorted { (abs($0.element.error), -$0.offset) > (abs($1.element.error), -$1.offset) }
                    .prefix(worst).map(\.element))
            }
            report.worstLeaveOneOut = worstOf(rows(leaveOneOut))
            report.worstHeldOut = worstOf(rows(heldOut))
            report.worstCollectives = worstOf(rows(network.report))
            report.worstHeldOutCollectives = worstOf(rows(network.heldOutReport))
        }
        return report
    }

    /// Kernel lengths (seconds alone) the report reads the interference at: a training
    /// step's short kernels to a large product's.
    static let interferenceLengths = [30e-6, 100e-6, 300e-6, 1e-3, 3e-3]

    static func percent(_ value: Double, signed: Bool = false) -> String {
        (signed && value >= 0 ? "+" : "") + Format.fixed(value * 100, 1) + " %"
    }

    static func render(_ report: GPUReport) -> String {
        var lines = ["\(report.gpu) (\(report.folder)): tables \(report.tables.joined(separator: ", "))"
                     + (report.kernels.isEmpty ? "" : "; kernels \(report.kernels.joined(separator: ", "))")]
        lines.append("")
        lines.append("Kernel interpolation, leave-one-out: each measured row predicted from the others")
        lines.append(familyTable(report.families))
        if let worst = report.worstLeaveOneOut { lines.append(worstTable(worst)) }
        lines.append("")
        if let bus = report.nvlinkBusGBps, let latency = report.stepLatencyUs {
            var fit = "Collective fit (NVLink): bus bandwidth \(Format.fixed(bus, 1)) GB/s"
            if let efficiency = report.nvlinkEfficiency, let nominal = report.nominalNVLinkGBps, let from = report.nominalFrom {
                fit += " = \(percent(efficiency)) of nominal \(Format.fixed(nominal, 1)) GB/s (\(from))"
            }
            lines.append(fit + ", \(Format.fixed(latency, 2)) us per step")
            lines.append(collectiveTable(report.collectives))
            if let worst = report.worstCollectives { lines.append(worstTable(worst)) }
        } else {
            lines.append("Collective fit: no collectives.csv with all-reduce, all-gather or reduce-scatter rows; links keep their nominal figures")
        }
        if !report.heldOutFamilies.isEmpty {
            lines.append("")
            lines.append("Held-out shapes: measured apart from the grid (*_held_out.csv), each predicted from all the grid's rows")
            lines.append(familyTable(report.heldOutFamilies))
            if let worst = report.worstHeldOut { lines.append(worstTable(worst)) }
        }
        if !report.heldOutCollectives.isEmpty {
            lines.append("")
            lines.append("Held-out collective sizes: measured between the grid's powers of two (collectives_held_out.csv), each predicted from all of them")
            lines.append(collectiveTable(report.heldOutCollectives))
            if let worst = report.worstHeldOutCollectives { lines.append(worstTable(worst)) }
        }
        if let interference = report.interference {
            lines.append("")
            lines.append("Interference (interference.csv): \(interference.products) products measured beside an all-reduce, "
                         + "\(Format.fixed(interference.productSlowdownMin, 2))–\(Format.fixed(interference.productSlowdownMax, 2))× longer")
            let readings = interference.kernelReadings.map { reading in
                let length = reading.aloneUs < 1000 ? "\(Format.fixed(reading.aloneUs, 0)) us" : "\(Format.fixed(reading.aloneUs / 1000, 0)) ms"
                return "\(length) ×\(Format.fixed(reading.slowdown, 2))"
            }
            lines.append("  a kernel beside a collective, by its time alone: " + readings.joined(separator: ", "))
            lines.append("  a collective beside a kernel: ×\(Format.fixed(interference.collectiveSlowdown, 2))")
        }
        return lines.joined(separator: "\n")
    }

    static func familyTable(_ families: [GPUReport.Family]) -> String {
        textTable(["family", "dtype", "rows", "median |err|", "p90 |err|", "mean |err|", "max |err|", "mean err"], families.map {
            [$0.family, $0.dtype, "\($0.rows)", percent($0.medianAbsError), percent($0.p90AbsError), percent($0.meanAbsError),
             percent($0.maxAbsError), percent($0.meanError, signed: true)]
        }, numeric: [false, false, true, true, true, true, true, true])
    }

    /// A section's worst rows under its table.
    static func worstTable(_ rows: [GPUReport.Row]) -> String {
        "  worst \(rows.count):\n" + textTable(["family", "dtype", "shape", "measured", "predicted", "err"], rows.map {
            [$0.family, $0.dtype, $0.shape, Format.fixed($0.measuredUs, 1) + " us", Format.fixed($0.predictedUs, 1) + " us",
             percent($0.error, signed: true)]
        }, numeric: [false, false, false, true, true, true])
    }

    static func collectiveTable(_ collectives: [GPUReport.Collective]) -> String {
        textTable(["collective", "gpus", "sizes", "median ≥1MiB", "p90 ≥1MiB", "mean |err|", "max |err|"], collectives.map {
            [$0.collective, "\($0.gpus)", "\($0.sizes)", percent($0.medianAbsErrorFrom1MiB), percent($0.p90AbsErrorFrom1MiB),
             percent($0.meanAbsError), percent($0.maxAbsError)]
        }, numeric: [false, true, true, true, true, true, true])
    }

    /// Columns padded to their widest cell, numbers right-aligned, under a rule.
    static func textTable(_ header: [String], _ rows: [[String]], numeric: [Bool]) -> String {
        let widths = header.indices.map { column in max(header[column].count, rows.map { $0[column].count }.max() ?? 0) }
        func line(_ cells: [String]) -> String {
            var text = cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return numeric[index] ? pad + cell : cell + pad
            }.joined(separator: "  ")
            while text.last == " " { text.removeLast() }
            return "  " + text
        }
        return ([line(header), "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + rows.map(line))
            .joined(separator: "\n")
    }
}

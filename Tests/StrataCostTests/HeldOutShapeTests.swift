import Foundation
import StrataCore
import StrataModel
import Testing
@testable import StrataCost

/// `simulate calibrate`'s scores on shapes measured apart from the fitted tables
/// (`*_held_out.csv`): each predicted from every row of the grid, by the interpolation a
/// run uses.
@Suite struct HeldOutShapeTests {
    static let collectivesHeader = "# gpu: NVIDIA H100 80GB HBM3\nop,gpus,group,bytes,dtype,impl,median_us,p10_us,p90_us,algbw_GBps,busbw_GBps,samples\n"

    /// One α–β line's times at `sizes`, as collectives rows of `op` on `gpus` GPUs.
    static func rows(_ op: String, gpus: Int, group: String = "contiguous", sizes: [Double], scale: Double = 1) -> String {
        sizes.map { bytes in
            let us = (10e-6 + bytes / 250e9) * 1e6 * scale
            return "\(op),\(gpus),\(group),\(Int(bytes)),bf16,nccl,\(us),\(us),\(us),0,0,10"
        }.joined(separator: "\n") + "\n"
    }

    /// On a straight α–β line every size between the grid's is predicted exactly; a held-out
    /// size measured 10 % slow scores −1/11; strided groups and send/recv are not scored.
    @Test func collectiveSizesBetweenTheGridArePredictedFromAllOfIt() throws {
        let grid = (10...30).map { pow(2, Double($0)) }
        let between = (10...29).map { (pow(2, Double($0) + 0.5) / 4096).rounded(.down) * 4096 }.filter { $0 > 1024 }
        let folder = try CalibratedCostTests.tables([
            "h100-sxm/collectives.csv": Self.collectivesHeader + Self.rows("all_reduce", gpus: 2, sizes: grid),
            "h100-sxm/collectives_held_out.csv": Self.collectivesHeader
                + Self.rows("all_reduce", gpus: 2, sizes: Array(between.dropLast()))
                + Self.rows("all_reduce", gpus: 2, sizes: [between.last!], scale: 1.1)
                + Self.rows("all_reduce", gpus: 2, group: "strided", sizes: between, scale: 2)
                + Self.rows("send_recv", gpus: 2, sizes: between, scale: 2),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
        let calibration = NetworkCalibration.fit(tables, nominal: Bandwidth(bytesPerSecond: 450e9))
        #expect(calibration.heldOutReport.count == between.count)
        for fit in calibration.heldOutReport.dropLast() { #expect(abs(fit.error) < 1e-9) }
        #expect(abs(calibration.heldOutReport.last!.error - (1 / 1.1 - 1)) < 1e-9)
        let summary = try #require(calibration.heldOutErrorsByCollective.first)
        #expect(summary.collective == "all_reduce" && summary.gpus == 2 && summary.rows == between.count)
        #expect(abs(summary.maxAbsolute - (1 - 1 / 1.1)) < 1e-9)
        #expect(calibration.errorsByCollective.first?.rows == grid.count - 2)
    }

    /// A held-out product at a grid shape is predicted as that shape's row: exactly where
    /// it took the same time, −1/11 where it took 10 % longer; a precision the grid lacks is
    /// not scored.
    @Test func productsAtGridShapesScoreTheirTimeDifference() throws {
        let grid = CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 200), (8192, 4096, 4096, "bf16", 390),
                                                  (4096, 8192, 4096, "bf16", 395), (4096, 4096, 8192, "bf16", 400)])
        let heldOut = CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 220), (8192, 4096, 4096, "bf16", 390),
                                                     (4096, 4096, 4096, "int8", 100)])
        let folder = try CalibratedCostTests.tables(["h100-sxm/gemm.csv": grid, "h100-sxm/gemm_held_out.csv": heldOut])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
        let errors = MeasuredCostModel(tables: tables).heldOutErrors(tables)
        #expect(errors.map(\.family) == ["gemm"])
        let scored = try #require(errors.first?.scored)
        #expect(scored.map(\.shape) == ["m=4096 n=4096 k=4096", "m=8192 n=4096 k=4096"])
        #expect(abs(scored[0].error - (200.0 / 220 - 1)) < 1e-9)
        #expect(abs(scored[1].error) < 1e-9)
    }

    /// A held-out table needs its grid's columns, and one without them is rejected at its
    /// header line as the grid would be.
    @Test func aHeldOutTableNeedsItsGridsColumns() throws {
        let folder = try CalibratedCostTests.tables([
            "h100-sxm/gemm.csv": CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 200)]),
            "h100-sxm/gemm_held_out.csv": "# gpu: NVIDIA H100 80GB HBM3\nm,n,dtype,median_us\n4096,4096,bf16,200\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        do {
            _ = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
            Issue.record("a held-out table without 'k' was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("gemm_held_out.csv:2:1: error: the gemm_held_out table lacks the column 'k'"))
        }
    }

    /// A custom kernel's folder holds its own held-out tables, scored against its own rows
    /// under its name; the stock rows are not lent to it.
    @Test func aKernelsHeldOutTablesScoreItsOwnRows() throws {
        let folder = try CalibratedCostTests.tables([
            "h100-sxm/gemm.csv": CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 200)]),
            "h100-sxm/kernels/fast/gemm.csv": CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 100),
                                                                             (8192, 4096, 4096, "bf16", 190)]),
            "h100-sxm/kernels/fast/gemm_held_out.csv": CalibratedCostTests.gemmTable([(4096, 4096, 4096, "bf16", 125)]),
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
        let errors = MeasuredCostModel(tables: tables).heldOutErrors(tables)
        #expect(errors.map(\.family) == ["kernel fast: gemm"])
        #expect(abs(try #require(errors.first).meanSigned - (100.0 / 125 - 1)) < 1e-9)
    }

    /// A held-out attention case at a grid case's shape is predicted as that case, per
    /// pass, from the run's implementation's rows only; another backend's rows are not scored.
    @Test func attentionCasesAtGridShapesScoreTheirTimeDifference() throws {
        let lines = try String(contentsOfFile: CalibratedCostTests.h100Folder + "/attention.csv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let header = lines.prefix { $0.hasPrefix("#") } + [lines.first { !$0.hasPrefix("#") }!]
        let columns = header.last!.split(separator: ",").map(String.init)
        let (pass, impl, median) = (columns.firstIndex(of: "pass")!, columns.firstIndex(of: "impl")!, columns.firstIndex(of: "median_us")!)
        let flash = lines.filter { !$0.hasPrefix("#") }.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0[impl] == "sdpa-flash" }
        let forward = try #require(flash.first { $0[pass] == "fwd" }), backward = try #require(flash.first { $0[pass] == "bwd" })
        var slower = backward
        slower[median] = "\(Double(backward[median])! * 1.1)"
        var otherBackend = forward
        otherBackend[impl] = "sdpa-cudnn"
        otherBackend[median] = "\(Double(forward[median])! * 2)"
        let heldOut = (header + [forward, slower, otherBackend].map { $0.joined(separator: ",") }).joined(separator: "\n") + "\n"
        let folder = try CalibratedCostTests.tables(["h100-sxm/attention.csv": lines.joined(separator: "\n") + "\n",
                                                     "h100-sxm/attention_held_out.csv": heldOut])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
        let errors = MeasuredCostModel(tables: tables).heldOutErrors(tables)
        #expect(errors.map(\.family) == ["attention fwd", "attention bwd"])
        #expect(errors.map(\.rows) == [1, 1])
        #expect(abs(errors[0].maxAbsolute) < 1e-9)
        #expect(abs(errors[1].meanSigned - (1 / 1.1 - 1)) < 1e-9)
    }

    /// A held-out grouped row at a grid row's very shape is predicted as that row: exactly
    /// where it took the same time, and at −1/11 where it took 10 % longer (its work is the
    /// same; the interpolated rate is the grid row's). Rows of a kernel without a grid table
    /// are not scored.
    @Test func groupedRowsAtGridShapesScoreTheirTimeDifference() throws {
        let grid = try MeasuredTables(folder: CalibratedCostTests.h100Folder).tables["grouped_gemm"]!
        let lines = try String(contentsOfFile: CalibratedCostTests.h100Folder + "/grouped_gemm.csv", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        let header = lines.filter { $0.hasPrefix("#") }.joined(separator: "\n") + "\n" + grid.columns.joined(separator: ",") + "\n"
        let medianColumn = grid.columns.firstIndex(of: "median_us")!
        let fp8 = lines.filter { $0.contains(",torch._scaled_grouped_mm,") }.prefix(6)
        var heldOut = header
        for (index, line) in fp8.enumerated() {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if index == 0 { fields[medianColumn] = "\(Double(fields[medianColumn])! * 1.1)" }
            heldOut += fields.joined(separator: ",") + "\n"
        }
        heldOut += fp8.first!.replacingOccurrences(of: "torch._scaled_grouped_mm", with: "no_such_kernel") + "\n"
        let folder = try CalibratedCostTests.tables(["h100-sxm/grouped_gemm.csv": lines.joined(separator: "\n") + "\n",
                                                     "h100-sxm/grouped_gemm_held_out.csv": heldOut])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.appendingPathComponent("h100-sxm").path)
        let errors = MeasuredCostModel(tables: tables).heldOutErrors(tables)
        #expect(errors.map(\.family) == ["kernel torch._scaled_grouped_mm: grouped_gemm"])
        let scored = try #require(errors.first)
        #expect(scored.rows == 6 && scored.precision == "fp8_e4m3")
        #expect(abs(scored.maxAbsolute - (1 - 1 / 1.1)) < 1e-9)
        #expect(abs(scored.meanSigned - (1 / 1.1 - 1) / 6) < 1e-9)
    }
}

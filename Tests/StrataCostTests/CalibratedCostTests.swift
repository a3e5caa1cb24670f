import Foundation
import StrataCore
import StrataModel
import StrataTopology
import Testing
@testable import StrataCost

/// The calibrated cost models: interpolation, transfer to another GPU, kernel tables.
@Suite struct CalibratedCostTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let h100Folder = root.appendingPathComponent("traces/h100-sxm").path

    static func spec(_ id: String, bf16 tflops: Double, bandwidth gbps: Double) -> GPUSpec {
        GPUSpec(id: id, name: id, peak: [.bf16: FlopRate(flopsPerSecond: tflops * 1e12), .fp32: FlopRate(flopsPerSecond: tflops * 1e11)],
                memoryCapacity: ByteCount(80_000_000_000), memoryBandwidth: Bandwidth(bytesPerSecond: gbps * 1e9))
    }

    static let h100 = spec("h100-sxm", bf16: 989.4, bandwidth: 3350)

    /// A folder of tables written from `files` (relative path → text), removed by the caller.
    static func tables(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cost-\(UUID().uuidString)")
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder
    }

    static func gemmTable(_ rows: [(m: Int, n: Int, k: Int, dtype: String, us: Double)]) -> String {
        "# units: time in microseconds, sizes in bytes\nm,n,k,dtype,impl,median_us,p10_us,p90_us,tflops,samples\n"
            + rows.map { "\($0.m),\($0.n),\($0.k),\($0.dtype),test,\($0.us),\($0.us),\($0.us),0,1" }.joined(separator: "\n") + "\n"
    }

    static func gemmSeconds(_ model: some ComputeCostModel, _ m: Int, _ n: Int, _ k: Int, precision: Precision = .bf16,
                            gpu: GPUSpec = h100, kernel: String? = nil) -> Double {
        let op = OpCosts.gemm("g", m: m, n: n, k: k, bias: false, precision: precision)
        return model.seconds(family: op.family, pass: .forward, work: op.forward, gpu: gpu, kernel: kernel)
    }

    @Test func everyMeasuredGemmRowReproducesItsTime() throws {
        let tables = try MeasuredTables(folder: Self.h100Folder)
        let model = MeasuredCostModel(tables: tables)
        let table = try #require(tables.tables["gemm"])
        var checked = 0
        for row in table.rows where row["dtype"] == "bf16" || row["dtype"] == "fp8_e4m3" {
            let (m, n, k) = (Int(row["m"]!)!, Int(row["n"]!)!, Int(row["k"]!)!)
            let measured = Double(row["median_us"]!)! * 1e-6
            let predicted = Self.gemmSeconds(model, m, n, k, precision: row["dtype"] == "bf16" ? .bf16 : .fp8)
            #expect(abs(predicted / measured - 1) < 1e-9, "\(m)×\(n)×\(k) \(row["dtype"]!): \(predicted) s, measured \(measured) s")
            checked += 1
        }
        #expect(checked == 504)  // 252 shapes in each of bf16 and fp8 (scripts/profile/gemm.py)
    }

    @Test func interpolatedTimesGrowWithTheProblem() throws {
        let model = MeasuredCostModel(tables: try MeasuredTables(folder: Self.h100Folder))
        // Larger products take longer, between and beyond the measured shapes.
        for (n, k) in [(4096, 4096), (6144, 2048), (3000, 5000)] {
            let times = stride(from: 512, through: 65536, by: 512).map { Self.gemmSeconds(model, $0, n, k) }
            for (a, b) in zip(times, times.dropFirst()) { #expect(b >= a * 0.999, "n=\(n) k=\(k)") }
        }
        // Longer sequences take longer attention, and backward takes longer than forward.
        var previous = 0.0
        for sequence in [1024, 1536, 2048, 4096, 6000, 8192, 16384] {
            let op = OpCosts.attention("a", batch: 2, heads: 16, kvHeads: 16, queryLength: sequence, keyLength: sequence,
                                       headDim: 128, maskedFraction: 0.5, precision: .bf16)
            let forward = model.seconds(family: op.family, pass: .forward, work: op.forward, gpu: Self.h100)
            let backward = model.seconds(family: op.family, pass: .backward, work: op.backward, gpu: Self.h100)
            #expect(forward > previous && backward > forward, "seq \(sequence)")
            previous = forward
        }
        // Memory-bound ops: more bytes, more time.
        let small = OpCosts.norm("n", tokens: 1024, hidden: 4096, layerNorm: false, precision: .bf16)
        let large = OpCosts.norm("n", tokens: 16384, hidden: 4096, layerNorm: false, precision: .bf16)
        #expect(model.seconds(family: large.family, pass: .forward, work: large.forward, gpu: Self.h100)
            > model.seconds(family: small.family, pass: .forward, work: small.forward, gpu: Self.h100))
    }

    @Test func leaveOneOutIsExactOnAConstantThroughputTable() throws {
        // Every shape at 500 TFLOP/s above the kernel floor (no launch.csv: the default):
        // any interpolation of that throughput predicts every row exactly.
        let floor = LaunchCosts.defaults.kernelFloor
        let shapes = [(1024, 1024, 1024), (2048, 1024, 1024), (1024, 4096, 2048), (4096, 4096, 4096), (8192, 2048, 1024)]
        let folder = try Self.tables(["gemm.csv": Self.gemmTable(shapes.map {
            ($0.0, $0.1, $0.2, "bf16", (floor + 2 * Double($0.0 * $0.1 * $0.2) / 500e12) * 1e6)
        })])
        defer { try? FileManager.default.removeItem(at: folder) }
        let errors = MeasuredCostModel(tables: try MeasuredTables(folder: folder.path)).leaveOneOutErrors()
        let gemm = try #require(errors.first { $0.family == "gemm" })
        #expect(gemm.rows == 5 && gemm.precision == "bf16")
        #expect(gemm.maxAbsolute < 1e-9)
    }

    @Test func transferKeepsTheMeasuredEfficiencyOnAnotherGPU() throws {
        let folder = try Self.tables([
            "gemm.csv": Self.gemmTable([(4096, 4096, 4096, "bf16", 250), (8192, 8192, 8192, "bf16", 1600), (1024, 1024, 1024, "bf16", 12)]),
            "elementwise.csv": """
                op,pass,dtype,impl,tokens,hidden,vocab,numel,bytes,median_us,p10_us,p90_us,GBps,samples
                rms_norm,fwd,bf16,t,1024,4096,0,1,16000000,10,10,10,0,1
                rms_norm,fwd,bf16,t,16384,4096,0,1,256000000,100,100,100,0,1

                """,
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let tables = try MeasuredTables(folder: folder.path)
        let measured = Self.spec("fast", bf16: 1000, bandwidth: 4000)
        let target = Self.spec("slow", bf16: 250, bandwidth: 1000)
        let source = MeasuredCostModel(tables: tables)
        let transferred = TransferredCostModel(from: tables, of: measured, to: target)
        // A quarter of the peak and of the bandwidth: every kernel takes four times as long.
        for (m, n, k) in [(4096, 4096, 4096), (2048, 6000, 3000), (1024, 1024, 1024)] {
            let here = Self.gemmSeconds(source, m, n, k, gpu: measured)
            let there = Self.gemmSeconds(transferred, m, n, k, gpu: target)
            #expect(abs(there / here - 4) < 1e-9, "\(m)×\(n)×\(k)")
        }
        // A memory-bound op keeps its fixed part: the line through the two measured sizes,
        // 10 µs at 16 MB and 100 µs at 256 MB, starts at (10 × 256 − 100 × 16) / 240 = 4 µs;
        // only the rest takes four times as long.
        let norm = OpCosts.norm("n", tokens: 4096, hidden: 4096, layerNorm: false, precision: .bf16)
        let fixed = try #require(source.fixedSeconds(family: norm.family, pass: .forward))
        #expect(abs(fixed - 4e-6) < 1e-12)
        #expect(source.fixedSeconds(family: .gemm(m: 1, n: 1, k: 1), pass: .forward) == nil)
        let here = source.seconds(family: norm.family, pass: .forward, work: norm.forward, gpu: measured)
        let there = transferred.seconds(family: norm.family, pass: .forward, work: norm.forward, gpu: target)
        #expect(abs(there - (fixed + (here - fixed) * 4)) < 1e-12)
        // Never faster than the target's roofline.
        let op = OpCosts.gemm("g", m: 8192, n: 8192, k: 8192, bias: false, precision: .bf16)
        #expect(transferred.seconds(family: op.family, pass: .forward, work: op.forward, gpu: target)
            >= Roofline.seconds(for: op.forward, on: target))
    }

    @Test func aKernelsTablesComeFirstAndTheStockOnesFillIn() throws {
        let folder = try Self.tables([
            "gemm.csv": Self.gemmTable([(4096, 4096, 4096, "bf16", 200), (4096, 4096, 4096, "fp8_e4m3", 120)]),
            "kernels/fast/gemm.csv": Self.gemmTable([(4096, 4096, 4096, "bf16", 100)]),
            "kernels/fast/grouped_gemm.csv": """
                experts,topk,tokens,distribution,m_total,n,k,max_tokens_per_expert,dtype,impl,kernel,median_us,p10_us,p90_us,tflops,host_us,samples
                8,2,2048,balanced,4096,4096,4096,512,bf16,fast,fast,150,150,150,0,0,1

                """,
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = MeasuredCostModel(tables: try MeasuredTables(folder: folder.path))
        #expect(model.kernelNames == ["fast"])
        let us = { (seconds: Double) in (seconds * 1e6 * 1000).rounded() / 1000 }
        #expect(us(Self.gemmSeconds(model, 4096, 4096, 4096)) == 200)
        #expect(us(Self.gemmSeconds(model, 4096, 4096, 4096, kernel: "fast")) == 100)
        // fp8 is not in the kernel's table: the stock table prices it.
        #expect(us(Self.gemmSeconds(model, 4096, 4096, 4096, precision: .fp8, kernel: "fast")) == 120)
        // An unknown kernel name prices with the stock tables (runs diagnose it before pricing).
        #expect(us(Self.gemmSeconds(model, 4096, 4096, 4096, kernel: "other")) == 200)
        // Grouped products: the kernel's grouped table as one kernel; without one, a loop of products.
        let grouped = OpCosts.groupedGemm("e", tokens: Array(repeating: 512, count: 8), n: 4096, k: 4096, bias: false,
                                          weightPrecision: .bf16, activationPrecision: .bf16, computePrecision: .bf16)
        #expect(us(model.seconds(family: grouped.family, pass: .forward, work: grouped.forward, gpu: Self.h100, kernel: "fast")) == 150)
        let loop = model.seconds(family: grouped.family, pass: .forward, work: grouped.forward, gpu: Self.h100)
        #expect(abs(loop - 8 * Self.gemmSeconds(model, 512, 4096, 4096)) < 1e-12)
    }

    /// The stock grouped table's grouped kernels are kernels a strategy can name: priced as
    /// one kernel at the measured throughput, launched once; the default stays the loop.
    @Test func stockGroupedKernelsAreNamedByTheirImplementation() throws {
        let model = MeasuredCostModel(tables: try MeasuredTables(folder: Self.h100Folder))
        #expect(model.kernelNames.contains("torch._grouped_mm"))
        #expect(model.kernelNames.contains("torch._scaled_grouped_mm"))
        // Measured: 8 balanced experts, 8,192 rows in all, n 4,096, k 14,336: 1,211.12 us.
        let grouped = OpCosts.groupedGemm("e", tokens: Array(repeating: 1024, count: 8), n: 4096, k: 14336, bias: false,
                                          weightPrecision: .bf16, activationPrecision: .bf16, computePrecision: .bf16)
        let seconds = model.seconds(family: grouped.family, pass: .forward, work: grouped.forward, gpu: Self.h100,
                                    kernel: "torch._grouped_mm")
        #expect(abs(seconds / 1211.12e-6 - 1) < 1e-9)
        #expect(model.launches(family: grouped.family, pass: .forward, work: grouped.forward, kernel: "torch._grouped_mm") == 1)
        #expect(model.launches(family: grouped.family, pass: .forward, work: grouped.forward, kernel: nil) == 8)
    }
}

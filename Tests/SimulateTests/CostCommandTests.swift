import Foundation
import Testing

/// `simulate calibrate` and `simulate cost`: their tables, their errors, and the run-time
/// diagnosis of a kernel without tables — all against snapshots.
@Suite struct CostCommandTests {
    static let h100 = "--topology=topologies/h100-sxm-4gpu.xml"

    @Test(arguments: [
        ("help-calibrate", ["calibrate", "--help"]),
        ("help-cost", ["cost", "--help"]),
        ("calibrate-traces", ["calibrate", "--traces", "traces"]),
        ("calibrate-gpu-folder-json", ["calibrate", "--traces", "traces/h100-sxm", "--topology", "topologies/dgx-h100.xml", "--json"]),
        // Each section's worst rows, worst first, with the shapes a user can measure again.
        ("calibrate-worst", ["calibrate", "--traces", "traces/h100-sxm", "--worst", "3"]),
        ("cost-gemm", ["cost", "gemm", "m=8192", "n=6144", "k=2048", "dtype=bf16", h100]),
        ("cost-gemm-backward-fp8", ["cost", "gemm", "m=8192", "n=6144", "k=2048", "dtype=fp8", "pass=backward", h100]),
        ("cost-gemm-kernel", ["cost", "gemm", "m=4096", "n=4096", "k=2048", "kernel=example-illustrative", h100]),
        ("cost-attention", ["cost", "attention", "batch=4", "heads=16", "seq=2048", "head_dim=128", "kv_heads=4", "causal=true", "pass=backward", h100]),
        ("cost-rms-norm", ["cost", "rms_norm", "tokens=8192", "hidden=4096", h100]),
        ("cost-adamw-json", ["cost", "adamw", "parameters=1000000000", h100, "--json"]),
        ("cost-all-reduce", ["cost", "all_reduce", "bytes=256MiB", "gpus=4", h100]),
        ("cost-all-to-all", ["cost", "all_to_all", "bytes=64MiB", "gpus=8", "--topology", "topologies/dgx-h100.xml"]),
        ("cost-gemm-a100-transferred", ["cost", "gemm", "m=8192", "n=6144", "k=2048", "--topology", "topologies/dgx-a100-superpod.xml"]),
        // The H200's own tables (traces/h200-sxm), measured on H200s on 2026-11-28.
        ("cost-swiglu-h200", ["cost", "swiglu", "tokens=4096", "hidden=8192", "--topology", "topologies/h200-sxm-4gpu.xml"]),
    ])
    func printsTheFit(name: String, arguments: [String]) throws {
        let output = try Golden.run(arguments)
        #expect(output.status == 0)
        try Golden.check(name, arguments: arguments, output: output)
    }

    @Test(arguments: [
        ("cost-error-unknown-op", ["cost", "gemn", "m=1", h100]),
        ("cost-error-unknown-key", ["cost", "gemm", "m=1", "n=2", "kk=3", h100]),
        ("cost-error-missing-key", ["cost", "attention", "batch=1", "heads=8", h100]),
        ("cost-error-bad-value", ["cost", "gemm", "m=1", "n=2", "k=3", "dtype=bf61", h100]),
        ("cost-error-bad-size", ["cost", "all_reduce", "bytes=12XB", "gpus=2", h100]),
        ("cost-error-too-many-gpus", ["cost", "all_gather", "bytes=1GiB", "gpus=64", h100]),
        ("cost-error-unknown-kernel", ["cost", "gemm", "m=8", "n=8", "k=8", "kernel=mxmo", h100]),
        ("cost-error-precision-gpu-lacks", ["cost", "gemm", "m=8", "n=8", "k=8", "dtype=fp8", "--topology", "topologies/dgx-a100-superpod.xml"]),
        ("calibrate-error-missing-folder", ["calibrate", "--traces", "Tests/Fixtures/no-such-traces"]),
        ("calibrate-error-no-tables", ["calibrate", "--traces", "topologies"]),
        ("calibrate-error-worst-zero", ["calibrate", "--traces", "traces", "--worst", "0"]),
    ])
    func badInputIsDiagnosed(name: String, arguments: [String]) throws {
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        #expect(output.stdout.isEmpty)
        try Golden.check(name, arguments: arguments, output: output)
    }

    @Test func aMalformedTableIsDiagnosedWithItsLine() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gpu = folder.appendingPathComponent("h100-sxm")
        try FileManager.default.createDirectory(at: gpu, withIntermediateDirectories: true)
        try "# units: time in microseconds\nm,n,k,dtype,impl,median_us\n1024,1024,1024,bf16,torch.mm\n"
            .write(to: gpu.appendingPathComponent("gemm.csv"), atomically: true, encoding: .utf8)
        let arguments = ["calibrate", "--traces", folder.path]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("calibrate-error-malformed", arguments: arguments, output: output, replacing: [folder.path: "TMP"])
    }

    /// A GPU folder that keeps only `runs/` (measurements not yet made tables) counts as no
    /// folder: its GPU is priced by transfer from the GPU that has tables, not as "measured"
    /// from an empty folder at its roofline.
    @Test func aGPUFolderWithoutTablesIsTransferred() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("h200-sxm/runs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("h100-sxm"),
                                                   withDestinationURL: Golden.packageRoot.appendingPathComponent("traces/h100-sxm"))
        let output = try Golden.run(["cost", "swiglu", "tokens=4096", "hidden=8192", "--topology", "topologies/h200-sxm-4gpu.xml",
                                     "--traces", folder.path])
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stdout.contains("costs     transferred from h100-sxm (\(folder.path)/h100-sxm)"), "\(output.stdout)")
        #expect(output.stdout.contains("time      82.013 us"), "the transferred price the H200 had before its tables")
    }

    /// A strategy naming a kernel with no tables fails at its `kernel =` line.
    @Test func anUnknownKernelIsDiagnosedAtItsSetting() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let gpu = folder.appendingPathComponent("h100-sxm")
        try FileManager.default.createDirectory(at: gpu, withIntermediateDirectories: true)
        let stock = Golden.packageRoot.appendingPathComponent("traces/h100-sxm/gemm.csv")
        try FileManager.default.copyItem(at: stock, to: gpu.appendingPathComponent("gemm.csv"))
        let arguments = ["run", "strategies/small/moe-ep4-mixed-precision.strata", "--traces", folder.path,
                         "--db", folder.appendingPathComponent("runs.sqlite").path]
        let output = try Golden.run(arguments)
        #expect(output.status == 2)
        try Golden.check("run-error-unknown-kernel", arguments: arguments, output: output, replacing: [folder.path: "TMP"])
    }
}

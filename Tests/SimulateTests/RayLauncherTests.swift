import Foundation
import Testing

/// `scripts/sweep/ray_sweep.py` on a local Ray instance (127.0.0.1): three shards run as Ray
/// tasks and merged must equal one unsharded sweep, and a failing shard must fail the
/// launcher (`scripts/sweep/test_ray_sweep.sh` checks both). Runs where `ray` imports in
/// `python3`, which `.ci/run` installs; elsewhere it is reported as skipped.
@Suite struct RayLauncherTests {
    static let rayAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import ray"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    @Test(.enabled(if: rayAvailable, "python3 cannot import ray (pip install ray)"))
    func shardedSweepOverRayEqualsOneSweep() throws {
        let output = try Golden.run(["scripts/sweep/test_ray_sweep.sh"], environment: ["SIMULATE": Golden.executable.path],
                                    executable: URL(fileURLWithPath: "/bin/bash"))
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("ray sweep: ok (3 shards merged = one sweep of 18 points)"))
    }
}

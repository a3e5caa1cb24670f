import Foundation
import StrataCore
import Testing
@testable import simulate

/// A run's inputs hash changes with anything that changes its result, and only with that:
/// the tables' bytes, not other files beside them.
@Suite struct RunInputsTests {
    @Test func theTablesHashFollowsTheTablesOnly() throws {
        let folder = try Golden.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let kernels = folder.appendingPathComponent("kernels/fast")
        try FileManager.default.createDirectory(at: kernels, withIntermediateDirectories: true)
        try "m,n,k,seconds\n1,1,1,0.5\n".write(to: folder.appendingPathComponent("gemm.csv"), atomically: true, encoding: .utf8)
        try "m,n,k,seconds\n1,1,1,0.25\n".write(to: kernels.appendingPathComponent("gemm.csv"), atomically: true, encoding: .utf8)
        let original = FileDigests().sha256(ofFolder: folder.path)

        try "{}".write(to: folder.appendingPathComponent("profile.json"), atomically: true, encoding: .utf8)
        #expect(FileDigests().sha256(ofFolder: folder.path) == original, "a file that is no table changed the hash")

        try "m,n,k,seconds\n1,1,1,0.3\n".write(to: kernels.appendingPathComponent("gemm.csv"), atomically: true, encoding: .utf8)
        #expect(FileDigests().sha256(ofFolder: folder.path) != original, "a changed kernel table left the hash as it was")
    }

    @Test func everyInputIsPartOfTheHash() {
        let base = RunInputs(strategySha256: "s", importsDigest: "", topologySha256: "t", overridesJSON: "{}",
                             costTablesDigest: "roofline")
        var changed = [base, base, base, base, base, base]
        changed[0].strategySha256 = "s2"
        changed[1].importsDigest = "base.strata x"
        changed[2].topologySha256 = "t2"
        changed[3].overridesJSON = #"{"tp":"2"}"#
        changed[4].costTablesDigest = "abc"
        changed[5].simulator = "0.1.0 /elsewhere/simulate 1 0"
        #expect(Set(([base] + changed).map(\.sha256)).count == 7)
    }

    /// This build is named by its version and its executable, the same every time it is asked.
    @Test func theSimulatorBuildIsNamedByItsExecutable() {
        let build = RunInputs.currentSimulator
        #expect(build.hasPrefix(StrataVersion.current + " /"))
        #expect(!build.contains(" -1 "), "the executable could not be read: \(build)")
        #expect(RunInputs.currentSimulator == build)
    }
}

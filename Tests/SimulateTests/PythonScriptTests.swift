import Foundation
import Testing

/// The Python tools' own unit tests (`scripts/profile/test_profile.py`,
/// `scripts/validate/test_validate.py`: table writing and merging, grids, plans, schedules,
/// routing, results, trace analysis), run by `swift test` so that CI runs them too. Their
/// parts that need torch skip themselves where torch is not installed.
@Suite struct PythonScriptTests {
    @Test(arguments: ["scripts/profile", "scripts/validate"])
    func unitTestsPass(folder: String) throws {
        let output = try Golden.run(["python3", "-m", "unittest", "discover", "-s", folder, "-p", "test_*.py"],
                                    executable: URL(fileURLWithPath: "/usr/bin/env"))
        #expect(output.status == 0, "\(output.stdout)\n\(output.stderr)")
        #expect(output.stderr.contains("\nOK"), "\(output.stderr)")
    }
}

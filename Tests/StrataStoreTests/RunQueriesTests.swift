import Foundation
import Testing
@testable import StrataStore

/// The reads behind `simulate query`'s reports: runs by id (an unknown id is the user's
/// mistake, named with the ids there are), filters, and the mean time breakdown.
@Suite struct RunQueriesTests {
    static func store(runs: [(path: String, topology: String, fits: Bool)]) throws -> (RunStore, String) {
        let path = MigrationTests.temporaryPath()
        let store = try RunStore(path: path)
        for (index, run) in runs.enumerated() {
            var record = MigrationTests.sampleRun(index)
            record.strategyPath = run.path
            record.topologyName = run.topology
            record.fitsInMemory = run.fits
            var first = RunGPURecord(runId: 0, gpu: 0, peakMemoryBytes: 10, memoryCapacityBytes: 80, computeS: 0.4,
                                     communicationS: 0.2, exposedCommunicationS: 0.1, idleS: 0)
            first.exposedTpS = 0.1
            var second = RunGPURecord(runId: 0, gpu: 1, peakMemoryBytes: 30, memoryCapacityBytes: 40, computeS: 0.2,
                                      communicationS: 0.2, exposedCommunicationS: 0.1, idleS: 0.2)
            second.exposedPpS = 0.1
            second.bubbleS = 0.2
            _ = try store.insert(record, gpus: [first, second])
        }
        return (store, path)
    }

    @Test func runByIdAndUnknownIds() throws {
        let (store, path) = try Self.store(runs: [("a.strata", "t", true), ("b.strata", "t", false)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try store.run(id: 2).strategyPath == "b.strata")
        #expect {
            try store.run(id: 7)
        } throws: { error in
            let error = error as? StoreError
            return error?.kind == .input && error?.message == "no run 7 in this database (it holds runs 1 to 2)"
        }
    }

    @Test func filtersByGlobTopologyAndFit() throws {
        let (store, path) = try Self.store(runs: [
            ("strategies/llama3/a.strata", "pod", true), ("strategies/llama3/b.strata", "pod", false),
            ("strategies/gpt3/c.strata", "pod", true), ("strategies/llama3/d.strata", "node", true),
        ])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let llama = try store.runs(matching: RunFilter(strategyPattern: "strategies/llama3/*"))
        #expect(llama.compactMap(\.id) == [1, 2, 4])
        let fitting = try store.runs(matching: RunFilter(strategyPattern: "strategies/llama3/*", topologyName: "pod", fitsOnly: true))
        #expect(fitting.compactMap(\.id) == [1])
    }

    @Test func breakdownIsTheMeanOverGPUs() throws {
        let (store, path) = try Self.store(runs: [("a.strata", "t", true)])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let times = try #require(try store.breakdown(ofRun: 1))
        #expect(times.gpus == 2)
        #expect(abs(times.computeS - 0.3) < 1e-12)
        #expect(abs(times.exposedTpS - 0.05) < 1e-12 && abs(times.exposedPpS - 0.05) < 1e-12)
        #expect(abs(times.bubbleS - 0.1) < 1e-12 && abs(times.idleS - 0.1) < 1e-12)
        #expect(times.peakMemoryBytes == 30 && times.memoryCapacityBytes == 40)
        #expect(try store.breakdown(ofRun: 9) == nil)
    }
}

import Foundation
import StrataCore
import Testing
@testable import StrataStore

/// Seeded property tests of `merge`: whatever the overlap between databases, the output
/// keeps every row it had, holds each inputs hash once, and every copied point names a run
/// with its own inputs.
@Suite struct MergePropertyTests {
    /// A database with `runs` runs drawn from a small set of inputs (so databases overlap)
    /// and one sweep whose points name them.
    static func randomDatabase(_ generator: inout SplitMix64, runs: Int) throws -> String {
        let path = MigrationTests.temporaryPath()
        let store = try RunStore(path: path)
        let sweep = try store.findOrInsert(SweepStoreTests.sweep("d"))
        var used: Set<Character> = []
        for index in 0..<runs {
            let inputs = Character(UnicodeScalar(UInt8(ascii: "a") + UInt8(generator.next() % 8)))
            let invalid = generator.next() % 4 == 0
            if invalid {
                try store.record(SweepStoreTests.point(sweep.id!, index, inputs: inputs, status: .invalid), run: nil)
            } else if used.insert(inputs).inserted {
                let gpus = (0..<Int(generator.next() % 3)).map { gpu in
                    RunGPURecord(runId: 0, gpu: gpu, peakMemoryBytes: 1, memoryCapacityBytes: 2, computeS: 0.4,
                                 communicationS: 0.1, exposedCommunicationS: 0.1, idleS: 0)
                }
                try store.record(SweepStoreTests.point(sweep.id!, index, inputs: inputs, status: .ok),
                                 run: (SweepStoreTests.run(inputs: inputs), gpus, [], []))
            }
        }
        return path
    }

    @Test func mergeKeepsEverythingAndStoresEachInputOnce() throws {
        for seed in UInt64(0)..<6 {
            var generator = SplitMix64(seed: seed)
            let out = try Self.randomDatabase(&generator, runs: 5)
            let inputs = try (0..<3).map { _ in try Self.randomDatabase(&generator, runs: Int(generator.next() % 8)) }
            defer { for path in [out] + inputs { try? FileManager.default.removeItem(atPath: path) } }
            let store = try RunStore(path: out)
            let before = try store.query("SELECT * FROM run ORDER BY id").rows
            let pointsBefore = try store.query("SELECT * FROM sweep_point ORDER BY point").rows
            var expected = Set(try store.query("SELECT inputs_sha256 FROM run").rows.map { $0[0] })
            var gpuRows = Int(try store.query("SELECT count(*) FROM run_gpu").rows[0][0])!
            for input in inputs {
                let source = try RunStore(readingFrom: input)
                for row in try source.query("SELECT inputs_sha256, (SELECT count(*) FROM run_gpu WHERE run_id = run.id) FROM run").rows
                where expected.insert(row[0]).inserted {
                    gpuRows += Int(row[1])!
                }
                _ = try store.merge(from: input)
            }
            let after = try store.query("SELECT * FROM run ORDER BY id").rows
            #expect(Array(after.prefix(before.count)) == before, "seed \(seed): the output's runs changed")
            #expect(Set(after.map { $0[11] }) == expected && after.count == expected.count,
                    "seed \(seed): each inputs hash must be stored exactly once")
            #expect(Int(try store.query("SELECT count(*) FROM run_gpu").rows[0][0]) == gpuRows, "seed \(seed)")
            #expect(try store.query("""
                SELECT count(*) FROM sweep_point p LEFT JOIN run r ON r.id = p.run_id
                WHERE p.status = 'ok' AND (r.id IS NULL OR r.inputs_sha256 != p.inputs_sha256)
                """).rows == [["0"]], "seed \(seed): a point names a run with other inputs")
            let pointsAfter = try store.query("SELECT * FROM sweep_point ORDER BY point").rows
            #expect(pointsBefore.allSatisfy(pointsAfter.contains), "seed \(seed): the output's points changed")
        }
    }
}

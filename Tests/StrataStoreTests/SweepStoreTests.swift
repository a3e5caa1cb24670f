import Foundation
import GRDB
import Testing
@testable import StrataStore

/// The sweep tables: a point stored whole or not at all, outcomes found by inputs hash,
/// merges that keep the output's rows, and databases from a newer schema refused.
@Suite struct SweepStoreTests {
    static func sweep(_ hash: Character = "d") -> SweepRecord {
        SweepRecord(createdAt: "2026-11-27T00:00:00Z", toolVersion: "0.1.0", strategyPath: "s.strata",
                    strategySha256: String(repeating: "a", count: 64), grid: #"[["tp",["1","2"]]]"#, topologyOverride: nil,
                    traces: nil, points: 2, sweepSha256: String(repeating: hash, count: 64))
    }

    static func point(_ sweep: Int64, _ index: Int, inputs: Character, status: SweepPointStatus) -> SweepPointRecord {
        SweepPointRecord(sweepId: sweep, point: index, overrides: #"{"tp":"\#(index + 1)"}"#,
                         inputsSha256: String(repeating: inputs, count: 64), status: status,
                         reason: status == .ok ? nil : "s.strata:1:1: error: no", runId: nil)
    }

    static func run(inputs: Character) -> RunRecord {
        var run = MigrationTests.sampleRun(1)
        run.inputsSha256 = String(repeating: inputs, count: 64)
        return run
    }

    @Test func aPointAndItsRunAreStoredTogetherOrNotAtAll() throws {
        let path = MigrationTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RunStore(path: path)
        let sweep = try store.findOrInsert(Self.sweep())
        #expect(try store.findOrInsert(Self.sweep()).id == sweep.id, "the same sweep hash finds the same sweep")
        let id = try store.record(Self.point(sweep.id!, 0, inputs: "e", status: .ok), run: (Self.run(inputs: "e"), [], [], []))
        #expect(id != nil)
        // An invalid point without a reason breaks a constraint: neither it nor its run stays.
        var broken = Self.point(sweep.id!, 1, inputs: "f", status: .invalid)
        broken.reason = nil
        #expect(throws: StoreError.self) { try store.record(broken, run: (Self.run(inputs: "f"), [], [], [])) }
        #expect(try store.query("SELECT count(*) FROM run").rows == [["1"]])
        #expect(try store.points(ofSweep: sweep.id!).keys.sorted() == [0])
        try store.record(Self.point(sweep.id!, 1, inputs: "f", status: .invalid), run: nil)
        let outcomes = try store.storedOutcomes()
        #expect(outcomes[String(repeating: "e", count: 64)] == .run(id: id!))
        #expect(outcomes[String(repeating: "f", count: 64)] == .invalid(reason: "s.strata:1:1: error: no"))
        #expect(try store.counts(ofSweep: sweep.id!) == SweepCounts(ok: 1, invalid: 1, failed: 0))
    }

    @Test func failedPointsAreNotSkipped() throws {
        let path = MigrationTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try RunStore(path: path)
        let sweep = try store.findOrInsert(Self.sweep())
        try store.record(Self.point(sweep.id!, 0, inputs: "e", status: .failed), run: nil)
        #expect(try store.storedOutcomes().isEmpty)
    }

    @Test func mergeKeepsTheOutputsRowsAndRenumbersTheSources() throws {
        let out = MigrationTests.temporaryPath(), source = MigrationTests.temporaryPath()
        defer { for path in [out, source] { try? FileManager.default.removeItem(atPath: path) } }
        let output = try RunStore(path: out)
        let kept = try output.insert(Self.run(inputs: "e"), gpus: [])
        let other = try RunStore(path: source)
        let sweep = try other.findOrInsert(Self.sweep())
        try other.record(Self.point(sweep.id!, 0, inputs: "e", status: .ok), run: (Self.run(inputs: "e"), [], [], []))
        try other.record(Self.point(sweep.id!, 1, inputs: "f", status: .ok), run: (Self.run(inputs: "f"), [
            RunGPURecord(runId: 0, gpu: 0, peakMemoryBytes: 1, memoryCapacityBytes: 2, computeS: 0.4,
                         communicationS: 0.1, exposedCommunicationS: 0.1, idleS: 0),
        ], [], []))
        let counts = try output.merge(from: source)
        #expect(counts == MergeCounts(runsCopied: 1, runsSkipped: 1, sweepsCopied: 1, pointsCopied: 2))
        #expect(try output.query("SELECT id, inputs_sha256 = '\(String(repeating: "e", count: 64))' FROM run ORDER BY id").rows
            == [["\(kept)", "1"], ["\(kept + 1)", "0"]])
        #expect(try output.query("SELECT point, run_id FROM sweep_point ORDER BY point").rows == [["0", "\(kept)"], ["1", "\(kept + 1)"]])
        #expect(try output.query("SELECT run_id FROM run_gpu").rows == [["\(kept + 1)"]])
        #expect(try output.merge(from: source) == MergeCounts(runsCopied: 0, runsSkipped: 2, sweepsCopied: 0, pointsCopied: 0))
    }

    @Test func aNewerSchemaIsRefusedBeforeAnyWrite() throws {
        let path = MigrationTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RunStore(path: path)
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future')")
        }
        do {
            _ = try RunStore(path: path)
            Issue.record("a database from a newer schema was opened for writing")
        } catch {
            #expect(error.kind == .input)
            #expect(error.message.contains("v99: from the future"))
        }
        #expect(throws: StoreError.self) { try RunStore.checkMergeable(path) }
    }
}

import Foundation
import Testing
@testable import StrataStore

@Suite struct MigrationTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("strata-store-\(UUID().uuidString).sqlite").path
    }

    static func sampleRun(_ index: Int) -> RunRecord {
        RunRecord(createdAt: "2026-11-27T00:00:0\(index)Z", toolVersion: "0.1.0", strategyPath: "s.strata",
                  strategyText: "model gpt {}", strategySha256: String(repeating: "a", count: 64),
                  topologyPath: "t.xml", topologyName: "t", topologyText: "<cluster/>",
                  topologySha256: String(repeating: "b", count: 64), overrides: "{}",
                  inputsSha256: String(repeating: "c", count: 64), gpus: 2, iterationTimeS: 0.5,
                  tokensPerS: 1000, samplesPerS: 2, mfu: 0.4, modelFlopsPerIteration: 1e15,
                  peakMemoryBytes: 1 << 30, fitsInMemory: true)
    }

    @Test func migrationCreatesTheSchemaFromEmpty() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RunStore(path: path)
        let store = try RunStore(readingFrom: path)
        let tables = try store.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        #expect(tables.rows.map { $0[0] } == ["grdb_migrations", "run", "run_critical_path", "run_gpu", "run_link", "sweep", "sweep_point"])
        let migrations = try store.query("SELECT identifier FROM grdb_migrations ORDER BY rowid")
        #expect(migrations.rows == [["v1: runs and per-GPU results"], ["v2: cost model, engine events and link utilisation"],
                                    ["v3: HFU, exposed communication by kind, pipeline bubble"],
                                    ["v4: critical path, all-reduce algorithms, extrapolated kernels"], ["v5: sweeps and their points"]])
        let columns = try store.query("SELECT name FROM pragma_table_info('run') ORDER BY cid")
        #expect(columns.rows.map { $0[0] } == [
            "id", "created_at", "tool_version", "strategy_path", "strategy_text", "strategy_sha256", "topology_path",
            "topology_name", "topology_text", "topology_sha256", "overrides", "inputs_sha256", "gpus",
            "iteration_time_s", "tokens_per_s", "samples_per_s", "mfu", "model_flops_per_iteration",
            "peak_memory_bytes", "fits_in_memory", "cost_model", "events", "hfu",
            "all_reduce_ring_calls", "all_reduce_tree_calls", "extrapolated_kernels", "extrapolated",
        ])
    }

    @Test func reopeningMigratesNothingTwiceAndKeepsRows() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let id = try RunStore(path: path).insert(Self.sampleRun(1), gpus: [
            RunGPURecord(runId: 0, gpu: 0, peakMemoryBytes: 1, memoryCapacityBytes: 2, computeS: 0.4,
                         communicationS: 0.1, exposedCommunicationS: 0.1, idleS: 0),
        ])
        let reopened = try RunStore(path: path)
        #expect(try reopened.recentRuns(limit: 10).map(\.id) == [id])
        #expect(try reopened.gpus(ofRun: id).map(\.gpu) == [0])
    }

    @Test func schemaConstraintsRejectInvalidRows() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        var bad = Self.sampleRun(1)
        bad.strategySha256 = "short"
        #expect(throws: StoreError.self) { try RunStore(path: path).insert(bad, gpus: []) }
        #expect(try RunStore(path: path).recentRuns(limit: 10).isEmpty)
    }

    @Test func readOnlyQueriesCannotWrite() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try RunStore(path: path).insert(Self.sampleRun(1), gpus: [])
        let store = try RunStore(readingFrom: path)
        do {
            _ = try store.query("DELETE FROM run")
            Issue.record("a write through the read-only connection succeeded")
        } catch {
            #expect(error.kind == .input)
            #expect(error.message.contains("read-only"))
        }
        #expect(try store.query("SELECT count(*) FROM run").rows == [["1"]])
    }

    @Test func aMissingDatabaseIsBadInput() {
        do {
            _ = try RunStore(readingFrom: "/nonexistent/strata.sqlite")
            Issue.record("opening a missing database succeeded")
        } catch {
            #expect(error.kind == .input)
            #expect(error.description.hasPrefix("/nonexistent/strata.sqlite: error: no such database"))
        }
    }
}

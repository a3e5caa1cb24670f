import GRDB

/// The schema's history. A migration is never edited once shipped: a change is a new
/// migration appended here, so every database ever written can be brought up to date.
enum Migrations {
    /// The identifiers of every migration this version registers.
    static let known: Set<String> = Set(migrator.migrations)

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: runs and per-GPU results") { db in
            try db.create(table: "run") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("created_at", .text).notNull()
                table.column("tool_version", .text).notNull()
                table.column("strategy_path", .text).notNull()
                table.column("strategy_text", .text).notNull()
                table.column("strategy_sha256", .text).notNull().check { length($0) == 64 }
                table.column("topology_path", .text).notNull()
                table.column("topology_name", .text).notNull()
                table.column("topology_text", .text).notNull()
                table.column("topology_sha256", .text).notNull().check { length($0) == 64 }
                table.column("overrides", .text).notNull()
                table.column("inputs_sha256", .text).notNull().check { length($0) == 64 }
                table.column("gpus", .integer).notNull().check { $0 > 0 }
                table.column("iteration_time_s", .double).notNull().check { $0 > 0 }
                table.column("tokens_per_s", .double).notNull().check { $0 >= 0 }
                table.column("samples_per_s", .double).notNull().check { $0 >= 0 }
                table.column("mfu", .double).notNull().check { $0 >= 0 }
                table.column("model_flops_per_iteration", .double).notNull().check { $0 >= 0 }
                table.column("peak_memory_bytes", .integer).notNull().check { $0 >= 0 }
                table.column("fits_in_memory", .boolean).notNull()
            }
            try db.create(index: "run_inputs", on: "run", columns: ["inputs_sha256"])
            try db.create(table: "run_gpu") { table in
                table.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
                table.column("gpu", .integer).notNull().check { $0 >= 0 }
                table.column("peak_memory_bytes", .integer).notNull().check { $0 >= 0 }
                table.column("memory_capacity_bytes", .integer).notNull().check { $0 > 0 }
                table.column("compute_s", .double).notNull()
                table.column("communication_s", .double).notNull()
                table.column("exposed_communication_s", .double).notNull()
                table.column("idle_s", .double).notNull()
                table.primaryKey(["run_id", "gpu"])
            }
        }
        migrator.registerMigration("v2: cost model, engine events and link utilisation") { db in
            try db.alter(table: "run") { table in
                table.add(column: "cost_model", .text).notNull().defaults(to: "roofline")
                table.add(column: "events", .integer).notNull().defaults(to: 0)
            }
            try db.create(table: "run_link") { table in
                table.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
                table.column("link", .integer).notNull().check { $0 >= 0 }
                table.column("source", .text).notNull()
                table.column("destination", .text).notNull()
                table.column("kind", .text).notNull()
                table.column("bandwidth_bytes_per_s", .double).notNull().check { $0 > 0 }
                table.column("utilisation", .double).notNull().check { $0 >= 0 }
                table.primaryKey(["run_id", "link"])
            }
        }
        migrator.registerMigration("v3: HFU, exposed communication by kind, pipeline bubble") { db in
            try db.alter(table: "run") { table in
                table.add(column: "hfu", .double).notNull().defaults(to: 0)
            }
            try db.alter(table: "run_gpu") { table in
                for kind in ["tp", "cp", "ep", "pp", "dp", "gather"] {
                    table.add(column: "exposed_\(kind)_s", .double).notNull().defaults(to: 0)
                }
                table.add(column: "bubble_s", .double).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v4: critical path, all-reduce algorithms, extrapolated kernels") { db in
            try db.create(table: "run_critical_path") { table in
                table.column("run_id", .integer).notNull().references("run", onDelete: .cascade)
                table.column("kind", .text).notNull()
                table.column("seconds", .double).notNull().check { $0 >= 0 }
                table.column("tasks", .integer).notNull().check { $0 >= 0 }
                table.primaryKey(["run_id", "kind"])
            }
            try db.alter(table: "run") { table in
                table.add(column: "all_reduce_ring_calls", .integer).notNull().defaults(to: 0)
                table.add(column: "all_reduce_tree_calls", .integer).notNull().defaults(to: 0)
                table.add(column: "extrapolated_kernels", .integer).notNull().defaults(to: 0)
                table.add(column: "extrapolated", .text).notNull().defaults(to: "{}")
            }
        }
        migrator.registerMigration("v5: sweeps and their points") { db in
            try db.create(table: "sweep") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("created_at", .text).notNull()
                table.column("tool_version", .text).notNull()
                table.column("strategy_path", .text).notNull()
                table.column("strategy_sha256", .text).notNull().check { length($0) == 64 }
                table.column("grid", .text).notNull()
                table.column("topology_override", .text)
                table.column("traces", .text)
                table.column("points", .integer).notNull().check { $0 > 0 }
                // Shards of one sweep, and reruns of it, share this hash and so one row.
                table.column("sweep_sha256", .text).notNull().unique().check { length($0) == 64 }
            }
            try db.create(table: "sweep_point") { table in
                table.column("sweep_id", .integer).notNull().references("sweep", onDelete: .cascade)
                table.column("point", .integer).notNull().check { $0 >= 0 }
                table.column("overrides", .text).notNull()
                table.column("inputs_sha256", .text).notNull().check { length($0) == 64 }
                table.column("status", .text).notNull().check { ["ok", "invalid", "failed"].contains($0) }
                table.column("reason", .text)
                table.column("run_id", .integer).references("run", onDelete: .setNull)
                table.primaryKey(["sweep_id", "point"])
                table.check(sql: "status = 'ok' OR reason IS NOT NULL")
            }
            try db.create(index: "sweep_point_inputs", on: "sweep_point", columns: ["inputs_sha256"])
            try db.create(index: "sweep_point_run", on: "sweep_point", columns: ["run_id"])
        }
        return migrator
    }
}

import GRDB

/// The reads behind `simulate query`'s reports and `simulate plot`: runs by id, runs
/// matching a filter, and a run's time breakdown averaged over its GPUs.
extension RunStore {
    /// Run `id`, or a `.input` error naming the ids the database holds.
    public func run(id: Int64) throws(StoreError) -> RunRecord {
        let found: (run: RunRecord?, range: (Int64?, Int64?))
        do {
            found = try queue.read { db in
                let run = try RunRecord.fetchOne(db, key: id)
                let range = try Row.fetchOne(db, sql: "SELECT min(id), max(id) FROM run")
                return (run, (range?[0], range?[1]))
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
        if let run = found.run { return run }
        let holds = if let low = found.range.0, let high = found.range.1 {
            low == high ? "it holds run \(low)" : "it holds runs \(low) to \(high)"
        } else {
            "it holds no runs"
        }
        throw StoreError(kind: .input, path: path, message: "no run \(id) in this database (\(holds))",
                         help: "'simulate query --db \(path)' lists the stored runs with their ids")
    }

    /// The runs `filter` keeps, by id.
    public func runs(matching filter: RunFilter) throws(StoreError) -> [RunRecord] {
        do {
            return try queue.read { db in
                var request = RunRecord.order(Column("id"))
                if let pattern = filter.strategyPattern {
                    request = request.filter(sql: "strategy_path GLOB ?", arguments: [pattern])
                }
                if let topology = filter.topologyName {
                    request = request.filter(Column("topology_name") == topology)
                }
                if let gpus = filter.gpus {
                    request = request.filter(Column("gpus") == gpus)
                }
                if filter.fitsOnly {
                    request = request.filter(Column("fits_in_memory") == true)
                }
                return try request.fetchAll(db)
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }

    /// Run `id`'s time breakdown, each figure the mean over its GPUs (memory the largest
    /// peak and the smallest capacity); nil when the run has no GPU rows.
    public func breakdown(ofRun id: Int64) throws(StoreError) -> RunTimeBreakdown? {
        do {
            return try queue.read { db in
                let sql = """
                    SELECT count(*), avg(compute_s), avg(communication_s), avg(exposed_communication_s),
                           avg(exposed_tp_s), avg(exposed_cp_s), avg(exposed_ep_s), avg(exposed_pp_s),
                           avg(exposed_dp_s), avg(exposed_gather_s), avg(bubble_s), avg(idle_s),
                           max(peak_memory_bytes), min(memory_capacity_bytes)
                    FROM run_gpu WHERE run_id = ?
                    """
                guard let row = try Row.fetchOne(db, sql: sql, arguments: [id]), let gpus: Int = row[0], gpus > 0 else {
                    return nil
                }
                return RunTimeBreakdown(
                    gpus: gpus, computeS: row[1], communicationS: row[2], exposedCommunicationS: row[3],
                    exposedTpS: row[4], exposedCpS: row[5], exposedEpS: row[6], exposedPpS: row[7], exposedDpS: row[8],
                    exposedGatherS: row[9], bubbleS: row[10], idleS: row[11], peakMemoryBytes: row[12],
                    memoryCapacityBytes: row[13])
            }
        } catch {
            throw Self.wrap(error, path: path)
        }
    }
}

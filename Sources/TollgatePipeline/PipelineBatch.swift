import Foundation
import GRDB
import TollgateCore

/// One batch of bronze rows through silver and gold, inside the caller's transaction.
///
/// The rows are written straight into `silver_events` and `gold_requests`; the expectations then
/// run over the rows this batch wrote (those above each table's highest rowid before the batch),
/// and rows that must not stay are quarantined or deleted before the transaction commits. A
/// failing `fail` expectation throws, and the caller's transaction rolls the whole batch back.
struct PipelineBatch {
    let rows: [PreparedRow]
    let lastRowID: Int64?
    let expectations: [ExpectationConfig]
    let updateID: String

    /// A target table and the highest rowid it had before this batch.
    private struct Target {
        let table: String
        let floor: Int64

        init(_ table: String, db: Database) throws {
            self.table = table
            floor = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(rowid), 0) FROM main.\(table)") ?? 0
        }

        func count(_ db: Database) throws -> Int {
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM main.\(table) WHERE rowid > ?", arguments: [floor]) ?? 0
        }
    }

    /// Writes the batch; returns what it did.
    func write(into db: Database) throws -> PipelineRunSummary {
        let silver = try Target("silver_events", db: db)
        let gold = try Target("gold_requests", db: db)
        try PipelineRows.insertMany(rows.map(\.silver), into: "main.silver_events", columns: PipelineRows.silverColumns, db: db)
        try PipelineRows.insertMany(rows.map(\.gold), into: "main.gold_requests", columns: PipelineRows.goldColumns, db: db)
        try db.execute(
            sql: "DELETE FROM main.gold_filter_results WHERE request_id IN (SELECT request_id FROM main.gold_requests WHERE rowid > ?)",
            arguments: [gold.floor]
        )
        let totals = [silver.table: try silver.count(db), gold.table: try gold.count(db)]

        var results: [ExpectationResult] = []
        var quarantined: [String: [String: [String]]] = [:]
        var dropped: [String: Set<String>] = [:]
        for expectation in expectations {
            let target = expectation.dataset == .silverEvents ? silver : gold
            let failing = try String.fetchAll(
                db, sql: "SELECT request_id FROM main.\(target.table) WHERE rowid > ? AND NOT (\(expectation.constraint))", arguments: [target.floor]
            )
            results.append(ExpectationResult(
                name: expectation.name, dataset: expectation.dataset.rawValue, action: expectation.onViolation.rawValue,
                passed: (totals[target.table] ?? 0) - failing.count, failed: failing.count
            ))
            guard !failing.isEmpty else { continue }
            switch expectation.onViolation {
            case .warn:
                break
            case .fail:
                throw PipelineError(
                    code: .expectationFailed,
                    message: "expectation \(expectation.name) failed on \(failing.count) row(s) of \(expectation.dataset.rawValue), e.g. \(failing[0]); nothing of the batch was written"
                )
            case .drop:
                dropped[expectation.dataset.rawValue, default: []].formUnion(failing)
            case .quarantine:
                for id in failing { quarantined[expectation.dataset.rawValue, default: [:]][id, default: []].append(expectation.name) }
            }
        }
        try quarantine(quarantined, targets: [silver, gold], db: db)
        // A row left out of silver is left out of gold too; gold's own rules act on gold only.
        let silverOut = dropped["silver_events", default: []].union(quarantined["silver_events"]?.keys.map { $0 } ?? [])
        let goldOut = silverOut.union(dropped["gold_requests", default: []]).union(quarantined["gold_requests"]?.keys.map { $0 } ?? [])
        try remove(silverOut, from: silver, db: db)
        try remove(goldOut, from: gold, db: db)
        try writeFilterResults(excluding: goldOut, db: db)

        let output = try gold.count(db)
        if let last = lastRowID {
            try db.execute(
                sql: "INSERT OR REPLACE INTO pipeline_checkpoints (flow_name, last_rowid, updated_at) VALUES (?, ?, ?)",
                arguments: [PipelineRunner.flowName, last, UTCTimestamp.iso8601(Date())]
            )
        }
        let droppedCount = dropped.values.reduce(Set<String>()) { $0.union($1) }.count
        let quarantinedCount = quarantined.values.reduce(Set<String>()) { $0.union($1.keys) }.count
        // DLT's event-log shape: everything under `flow_progress`, so its queries port unchanged.
        let details: JSONValue = [
            "flow_progress": [
                "status": "COMPLETED",
                "metrics": ["num_input_rows": .int(rows.count), "num_output_rows": .int(output), "last_source_rowid": .optionalInt(lastRowID.map { Int($0) })],
                "data_quality": ["expectations": .array(results.map(\.json)), "dropped_records": .int(droppedCount), "quarantined_records": .int(quarantinedCount)],
            ],
        ]
        try PipelineEvents.insert(
            db, type: "flow_progress", updateID: updateID, level: "INFO",
            message: "Flow '\(PipelineRunner.flowName)' processed \(rows.count) row(s), wrote \(output).", details: details
        )
        var summary = PipelineRunSummary(updateID: updateID)
        summary.inputRows = rows.count
        summary.outputRows = output
        summary.droppedRows = droppedCount
        summary.quarantinedRows = quarantinedCount
        for result in results { summary.add(result) }
        return summary
    }

    private func remove(_ ids: Set<String>, from target: Target, db: Database) throws {
        guard !ids.isEmpty else { return }
        let statement = try db.makeStatement(sql: "DELETE FROM main.\(target.table) WHERE rowid > ? AND request_id = ?")
        for id in ids { try statement.execute(arguments: [target.floor, id]) }
    }

    private func quarantine(_ rules: [String: [String: [String]]], targets: [Target], db: Database) throws {
        for (dataset, byID) in rules {
            guard let target = targets.first(where: { $0.table == dataset }) else { continue }
            for (id, names) in byID {
                let row = try Row.fetchOne(
                    db, sql: "SELECT * FROM main.\(target.table) WHERE rowid > ? AND request_id = ?", arguments: [target.floor, id]
                )
                var object = JSONObject()
                for (column, value) in row.map({ Array($0) }) ?? [] { object[column] = ReadOnlyQuery.json(value) }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO quarantine (request_id, dataset, failed_expectations, row_json, quarantined_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, dataset, JSONValue.array(names.map { .string($0) }).jsonText, JSONValue.object(object).jsonText, UTCTimestamp.iso8601(Date())]
                )
            }
        }
    }

    /// `gold_filter_results` for the gold rows the batch keeps.
    private func writeFilterResults(excluding removed: Set<String>, db: Database) throws {
        var seen = removed  // a request id repeated in the batch counts once
        var filterRows: [PackedValues] = []
        for row in rows where seen.insert(row.requestID).inserted {
            filterRows.append(row.filters)
        }
        try PipelineRows.insertMany(filterRows, into: "main.gold_filter_results", columns: PipelineRows.filterColumns, db: db)
    }
}

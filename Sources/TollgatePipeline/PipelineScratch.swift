import GRDB
import TollgateCore
import TollgateStore

/// Where the distributed pipeline runs a batch: a private in-memory SQLite database with the
/// store's schema. `PipelineBatch` writes into it exactly as into a SQLite store, so the
/// expectations are the same SQL and give the same verdicts on both backends; what the batch
/// left in the scratch tables is then written into the shared store.
struct PipelineScratch: Sendable {
    /// The tables a batch writes, with the columns copied out (`pipeline_events` without its id).
    static let outputs: [(table: String, columns: [String])] = [
        ("silver_events", PipelineRows.silverColumns),
        ("gold_requests", PipelineRows.goldColumns),
        ("gold_filter_results", PipelineRows.filterColumns),
        ("quarantine", ["request_id", "dataset", "failed_expectations", "row_json", "quarantined_at"]),
        ("pipeline_events", ["timestamp", "event_type", "flow_name", "update_id", "level", "message", "details"]),
    ]

    /// One batch's results, table by table.
    struct Output: Sendable {
        var summary: PipelineRunSummary
        var tables: [(table: String, columns: [String], rows: [[StoreValue]])]
    }

    let database: DatabaseQueue
    let expectations: [ExpectationConfig]

    /// Fails with `invalidExpectation` when a constraint does not compile against its dataset.
    init(expectations: [ExpectationConfig]) throws {
        database = try SQLiteStore.scratchDatabase()
        self.expectations = expectations
        try database.read { db in try Self.validate(expectations, db: db) }
    }

    /// Every constraint must compile against its dataset before anything runs.
    static func validate(_ expectations: [ExpectationConfig], db: Database) throws {
        for expectation in expectations {
            do {
                _ = try db.makeStatement(sql: "SELECT request_id FROM \(expectation.dataset.rawValue) WHERE NOT (\(expectation.constraint)) LIMIT 0")
            } catch {
                throw PipelineError(code: .invalidExpectation, message: "expectation \(expectation.name): \(error)")
            }
        }
    }

    /// Parses the rows and runs them through silver, gold and the expectations; a `fail`
    /// expectation throws and leaves nothing behind.
    func process(_ rows: [BronzeRow], lastSeq: Int64?, updateID: String) throws -> Output {
        let prepared = rows.map(PreparedRow.init)
        return try database.write { db in
            for output in Self.outputs { try db.execute(sql: "DELETE FROM \(output.table)") }
            let batch = PipelineBatch(rows: prepared, lastRowID: lastSeq, expectations: expectations, updateID: updateID)
            let summary = try batch.write(into: db)
            let tables = try Self.outputs.map { output in
                let order = output.table == "pipeline_events" ? " ORDER BY id" : ""
                let rows = try Row.fetchAll(db, sql: "SELECT \(output.columns.joined(separator: ", ")) FROM \(output.table)\(order)")
                return (output.table, output.columns, rows.map { Array($0.databaseValues.map(StoreValue.init)) })
            }
            return Output(summary: summary, tables: tables)
        }
    }
}

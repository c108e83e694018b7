import Foundation
import GRDB
import TollgateCore
import TollgateStore

/// The last pipeline updates, for `tollgate pipeline status`.
public struct PipelineStatus: Sendable {
    public struct Update: Sendable {
        public var updateID: String
        public var finishedAt: String
        public var failed: Bool
        public var message: String
        public var inputRows: Int
        public var outputRows: Int
        public var droppedRows: Int
        /// name → (passed, failed), summed over the update's batches.
        public var expectations: [(name: String, passed: Int, failed: Int)]
    }

    public var updates: [Update]
    public var checkpoint: Int64?
    public var bronzeRows: Int
    public var goldRows: Int
    public var quarantinedRows: Int

    public static func read(_ store: SQLiteStore, updates limit: Int = 5) throws -> PipelineStatus {
        try store.pool.read { db in
            let events = try Row.fetchAll(
                db,
                sql: """
                    SELECT update_id, MAX(timestamp) AS finished_at, group_concat(event_type) AS types, group_concat(details, char(30)) AS details,
                           MAX(message) AS message
                    FROM pipeline_events GROUP BY update_id ORDER BY MAX(id) DESC LIMIT ?
                    """,
                arguments: [limit]
            )
            let updates = events.map { row -> Update in
                let details = (row["details"] as String? ?? "").split(separator: "\u{1e}").compactMap { try? JSONValue.parse(String($0)) }
                var totals: [String: (Int, Int)] = [:]
                var order: [String] = []
                var input = 0, output = 0, dropped = 0
                for detail in details.compactMap({ $0["flow_progress"] }) {
                    input += detail["metrics"]?["num_input_rows"]?.intValue ?? 0
                    output += detail["metrics"]?["num_output_rows"]?.intValue ?? 0
                    dropped += detail["data_quality"]?["dropped_records"]?.intValue ?? 0
                    for expectation in detail["data_quality"]?["expectations"]?.arrayValue ?? [] {
                        let name = expectation["name"]?.stringValue ?? "?"
                        if totals[name] == nil { order.append(name) }
                        let current = totals[name] ?? (0, 0)
                        totals[name] = (current.0 + (expectation["passed_records"]?.intValue ?? 0), current.1 + (expectation["failed_records"]?.intValue ?? 0))
                    }
                }
                return Update(
                    updateID: row["update_id"], finishedAt: row["finished_at"], failed: (row["types"] as String? ?? "").contains("update_failed"),
                    message: row["message"] ?? "", inputRows: input, outputRows: output, droppedRows: dropped,
                    expectations: order.map { ($0, totals[$0]!.0, totals[$0]!.1) }
                )
            }
            return PipelineStatus(
                updates: updates,
                checkpoint: try Int64.fetchOne(db, sql: "SELECT last_rowid FROM pipeline_checkpoints WHERE flow_name = ?", arguments: [PipelineRunner.flowName]),
                bronzeRows: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM inference_table") ?? 0,
                goldRows: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gold_requests") ?? 0,
                quarantinedRows: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM quarantine") ?? 0
            )
        }
    }
}

/// Read-only SQL over the store, for `tollgate sql`.
public enum ReadOnlyQuery {
    public struct Result: Sendable {
        public var columns: [String]
        public var rows: [[JSONValue]]

        public init(columns: [String], rows: [[JSONValue]]) {
            self.columns = columns
            self.rows = rows
        }
    }

    public static func run(_ sql: String, path: String) throws -> Result {
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            let statement = try db.makeStatement(sql: sql)
            let columns = statement.columnNames
            let rows = try Row.fetchAll(statement).map { row -> [JSONValue] in
                Array(row.databaseValues).map(json)
            }
            return Result(columns: columns, rows: rows)
        }
    }

    /// A column value as JSON (blobs as base64).
    static func json(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .int(Int(number))
        case .double(let number): .double(number)
        case .string(let text): .string(text)
        case .blob(let data): .string(data.base64EncodedString())
        }
    }
}

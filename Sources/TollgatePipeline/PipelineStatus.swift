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
    /// Bronze rows not processed yet: after the checkpoint on SQLite, in `pipeline_queue` on a
    /// shared store.
    public var pendingRows: Int
    public var bronzeRows: Int
    public var goldRows: Int
    public var quarantinedRows: Int

    /// The last `limit` updates and the tables' counts, on either backend.
    public static func read(_ database: any SQLDatabase, updates limit: Int = 5) async throws(StoreError) -> PipelineStatus {
        let last = try await database.read(
            "SELECT update_id, MAX(id) AS last_id, MAX(timestamp) AS finished_at FROM pipeline_events GROUP BY update_id ORDER BY MAX(id) DESC LIMIT ?",
            [.int(Int64(max(0, limit)))]
        )
        let ids = last.compactMap { $0.text("update_id") }
        var events: [String: [SQLRow]] = [:]
        if !ids.isEmpty {
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            for row in try await database.read(
                "SELECT update_id, event_type, message, details FROM pipeline_events WHERE update_id IN (\(marks)) ORDER BY id", ids.map(StoreValue.text)
            ) {
                events[row.text("update_id") ?? "", default: []].append(row)
            }
        }
        let updates = last.map { row in
            update(row.text("update_id") ?? "", finishedAt: row.text("finished_at") ?? "", events: events[row.text("update_id") ?? ""] ?? [])
        }
        let pending = database is any TransactionalDatabase
            ? "SELECT COALESCE(sum(row_count), 0) AS n FROM pipeline_queue"
            : "SELECT count(*) AS n FROM inference_table WHERE rowid > COALESCE((SELECT last_rowid FROM pipeline_checkpoints WHERE flow_name = '\(PipelineRunner.flowName)'), 0)"
        func count(_ sql: String) async throws(StoreError) -> Int { try await database.read(sql, []).first?.int("n") ?? 0 }
        return PipelineStatus(
            updates: updates, pendingRows: try await count(pending), bronzeRows: try await count("SELECT count(*) AS n FROM inference_table"),
            goldRows: try await count("SELECT count(*) AS n FROM gold_requests"), quarantinedRows: try await count("SELECT count(*) AS n FROM quarantine")
        )
    }

    /// One update from its events: `flow_progress` counts summed over its batches.
    static func update(_ id: String, finishedAt: String, events: [SQLRow]) -> Update {
        var totals: [String: (Int, Int)] = [:]
        var order: [String] = []
        var input = 0, output = 0, dropped = 0
        let failure = events.first { $0.text("event_type") == "update_failed" }
        for detail in events.compactMap({ try? JSONValue.parse($0.text("details") ?? "") }).compactMap({ $0["flow_progress"] }) {
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
            updateID: id, finishedAt: finishedAt, failed: failure != nil, message: (failure ?? events.last)?.text("message") ?? "",
            inputRows: input, outputRows: output, droppedRows: dropped, expectations: order.map { name in (name, totals[name]?.0 ?? 0, totals[name]?.1 ?? 0) }
        )
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

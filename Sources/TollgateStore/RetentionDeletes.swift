import Foundation
import TollgateCore

/// `store.retention_days` by deletes in bounded batches: each statement removes at most
/// `batchRows` rows older than the cutoff, in its own short transaction, so the record writer
/// never waits long for the store. All of it on SQLite; on PostgreSQL only what day partitions
/// do not cover (`traces`, and rows in the default partitions).
public struct RetentionDeletes: Sendable {
    /// A table, the column its age is read from, and its key.
    public struct Target: Sendable {
        public var table: String
        public var timeColumn: String
        public var key: [String]
        /// The column holds Unix nanoseconds rather than ISO 8601 text.
        public var nanoseconds: Bool

        public init(table: String, timeColumn: String, key: [String], nanoseconds: Bool = false) {
            self.table = table
            self.timeColumn = timeColumn
            self.key = key
            self.nanoseconds = nanoseconds
        }
    }

    public static let inferenceTable = Target(table: "inference_table", timeColumn: "request_time", key: ["request_id"])
    public static let endpointUsage = Target(table: "endpoint_usage", timeColumn: "request_time", key: ["request_id"])
    public static let traces = Target(table: "traces", timeColumn: "request_time", key: ["trace_id"])
    public static let spans = Target(table: "spans", timeColumn: "start_time_unix_nano", key: ["trace_id", "span_id"], nanoseconds: true)
    public static let all = [inferenceTable, endpointUsage, traces, spans]

    let database: any SQLDatabase
    let batchRows: Int

    public init(database: any SQLDatabase, batchRows: Int = 2_000) {
        self.database = database
        self.batchRows = max(1, batchRows)
    }

    /// The first instant kept: the start of the UTC day `days` days before `now`'s.
    public static func cutoff(days: Int, now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        let today = calendar.startOfDay(for: now)
        return calendar.date(byAdding: .day, value: -days, to: today) ?? today
    }

    /// Deletes the rows of `targets` (in `tables` of each, e.g. a default partition) older
    /// than `cutoff`; returns how many.
    public func delete(_ targets: [Target], olderThan cutoff: Date, in tables: (Target) -> String = { $0.table }) async throws(StoreError) -> Int {
        var deleted = 0
        for target in targets {
            let table = tables(target)
            let bound: StoreValue = target.nanoseconds
                ? .int(Int64(cutoff.timeIntervalSince1970) * 1_000_000_000) : .text(UTCTimestamp.iso8601(cutoff))
            let key = target.key.count == 1 ? target.key[0] : "(" + target.key.joined(separator: ", ") + ")"
            let sql = """
                DELETE FROM \(table) WHERE \(key) IN (SELECT \(target.key.joined(separator: ", ")) FROM \(table) WHERE \(target.timeColumn) < ? LIMIT \(batchRows))
                RETURNING 1 AS gone
                """
            while true {
                let rows = try await database.write(sql, [bound])
                deleted += rows.count
                if rows.count < batchRows { break }
                // Let the record writer in between two batches.
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        return deleted
    }
}

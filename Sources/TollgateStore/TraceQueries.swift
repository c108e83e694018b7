import Foundation
import GRDB
import TollgateCore

/// Filters for listing traces (all optional).
public struct TraceFilter: Sendable, Equatable {
    public var endpointName: String?
    public var state: String?
    /// Inclusive lower bound on `request_time` (ISO-8601, compared as text).
    public var since: String?
    /// Exclusive upper bound on `request_time`.
    public var until: String?
    public var limit: Int

    public init(endpointName: String? = nil, state: String? = nil, since: String? = nil, until: String? = nil, limit: Int = 100) {
        self.endpointName = endpointName
        self.state = state
        self.since = since
        self.until = until
        self.limit = limit
    }
}

/// A row of `traces`, without the full JSON.
public struct TraceSummary: Sendable, Equatable {
    public var traceID: String
    public var requestID: String
    public var endpointName: String
    public var requestTime: String
    public var state: String
    public var executionDurationMs: Int?
    public var requestPreview: String?
    public var responsePreview: String?
}

extension SQLiteStore {
    /// The stored MLflow trace JSON of one trace, by `tr-…` id or by request id.
    public func traceJSON(id: String) throws(StoreError) -> String? {
        do {
            return try pool.read { db in
                try String.fetchOne(db, sql: "SELECT trace_json FROM traces WHERE trace_id = ? OR request_id = ? LIMIT 1", arguments: [id, id])
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read trace \(id)", underlying: error)
        }
    }

    /// Traces matching a filter, newest first.
    public func traces(matching filter: TraceFilter) throws(StoreError) -> [TraceSummary] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let endpoint = filter.endpointName { clauses.append("endpoint_name = ?"); arguments.append(endpoint) }
        if let state = filter.state { clauses.append("state = ?"); arguments.append(state.uppercased()) }
        if let since = filter.since { clauses.append("request_time >= ?"); arguments.append(since) }
        if let until = filter.until { clauses.append("request_time < ?"); arguments.append(until) }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = """
            SELECT trace_id, request_id, endpoint_name, request_time, state, execution_duration_ms, request_preview, response_preview
            FROM traces \(condition) ORDER BY request_time DESC LIMIT ?
            """
        arguments.append(max(1, min(filter.limit, 10_000)))
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map { row in
                    TraceSummary(
                        traceID: row["trace_id"], requestID: row["request_id"], endpointName: row["endpoint_name"],
                        requestTime: row["request_time"], state: row["state"], executionDurationMs: row["execution_duration_ms"],
                        requestPreview: row["request_preview"], responsePreview: row["response_preview"]
                    )
                }
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot list traces", underlying: error)
        }
    }
}

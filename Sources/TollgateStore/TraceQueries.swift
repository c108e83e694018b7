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
    /// Rows skipped first (a page token's position).
    public var offset: Int

    public init(endpointName: String? = nil, state: String? = nil, since: String? = nil, until: String? = nil, limit: Int = 100, offset: Int = 0) {
        self.endpointName = endpointName
        self.state = state
        self.since = since
        self.until = until
        self.limit = limit
        self.offset = offset
    }
}

/// A row of `traces`, with previews read from the request's payloads.
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
    /// One trace as MLflow v3 JSON, by `tr-…` id or by request id, rebuilt from its rows.
    public func traceJSON(id: String) async throws(StoreError) -> String? {
        do {
            return try await pool.read { db -> String? in
                guard let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT t.*, i.request AS request_body, i.response AS response_body FROM traces t
                        LEFT JOIN inference_table i ON i.request_id = t.request_id
                        WHERE t.trace_id = ? OR t.trace_id = (SELECT trace_id FROM inference_table WHERE request_id = ?) LIMIT 1
                        """,
                    arguments: [id, id]
                ) else { return nil }
                let spans = try Row.fetchAll(db, sql: "SELECT * FROM spans WHERE trace_id = ? ORDER BY start_time_unix_nano", arguments: [row["trace_id"] as String])
                let response: String? = row["response_body"]
                return MLflowTraceJSON.document(Self.trace(row, spans: spans.map { Self.span($0, response: response) })).jsonText
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read trace \(id)", underlying: error)
        }
    }

    /// Traces matching a filter, newest first.
    /// Read on GRDB's own threads, never the caller's.
    public func traces(matching filter: TraceFilter) async throws(StoreError) -> [TraceSummary] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let endpoint = filter.endpointName { clauses.append("t.endpoint_name = ?"); arguments.append(endpoint) }
        if let state = filter.state { clauses.append("t.state = ?"); arguments.append(state.uppercased()) }
        if let since = filter.since { clauses.append("t.request_time >= ?"); arguments.append(since) }
        if let until = filter.until { clauses.append("t.request_time < ?"); arguments.append(until) }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = """
            SELECT t.trace_id, t.request_id, t.endpoint_name, t.request_time, t.state, t.execution_duration_ms,
                   i.request AS request_body, i.response AS response_body
            FROM traces t LEFT JOIN inference_table i ON i.request_id = t.request_id
            \(condition) ORDER BY t.request_time DESC, t.trace_id DESC LIMIT ? OFFSET ?
            """
        arguments.append(max(1, min(filter.limit, 10_000)))
        arguments.append(max(0, filter.offset))
        let statementArguments = StatementArguments(arguments)
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: sql, arguments: statementArguments).map { row in
                    TraceSummary(
                        traceID: row["trace_id"], requestID: row["request_id"], endpointName: row["endpoint_name"],
                        requestTime: row["request_time"], state: row["state"], executionDurationMs: row["execution_duration_ms"],
                        requestPreview: TracePreview.request(row["request_body"]), responsePreview: TracePreview.response(row["response_body"])
                    )
                }
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot list traces", underlying: error)
        }
    }

    static func trace(_ row: Row, spans: [SpanRecord]) -> TraceRecord {
        let time: String = row["request_time"]
        return TraceRecord(
            traceHex: String((row["trace_id"] as String).dropFirst(3)), requestID: row["request_id"], clientRequestID: row["client_request_id"],
            endpointName: row["endpoint_name"], requestTime: (try? Date(time, strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0),
            executionDurationMs: row["execution_duration_ms"] ?? 0, state: TraceState(rawValue: row["state"]) ?? .ok,
            requestPreview: TracePreview.request(row["request_body"]), responsePreview: TracePreview.response(row["response_body"]),
            spans: spans
        )
    }

    static func span(_ row: Row, response: String?) -> SpanRecord {
        let input: Int? = row["input_tokens"]
        let output: Int? = row["output_tokens"]
        let attributes = (try? JSONValue.parse(row["attributes"] as String? ?? "{}"))?.objectValue ?? JSONObject()
        return SpanRecord(
            spanID: row["span_id"], parentSpanID: row["parent_span_id"], name: row["name"],
            type: SpanType(rawValue: row["span_type"]) ?? .unknown,
            startNanos: UInt64(max(0, row["start_time_unix_nano"] as Int64? ?? 0)), endNanos: UInt64(max(0, row["end_time_unix_nano"] as Int64? ?? 0)),
            status: SpanStatusCode(rawValue: row["status_code"]) ?? .unset, statusMessage: row["status_message"] ?? "",
            inputsJSON: row["inputs"], outputsJSON: (row["outputs_from_response"] as Int? ?? 0) != 0 ? response : row["outputs"],
            tokenUsage: input.flatMap { input in output.map { TokenCounts(input: input, output: $0) } },
            attributes: attributes, events: SpanEvents.events(from: try? JSONValue.parse(row["events"] as String? ?? "[]"))
        )
    }
}

import Foundation
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

/// Reads traces back from `traces` and `spans`, on any backend.
public struct TraceQueries: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// One trace as MLflow v3 JSON, by `tr-…` id or by request id, rebuilt from its rows.
    public func traceJSON(id: String) async throws(StoreError) -> String? {
        do {
            let rows = try await database.read(
                """
                SELECT t.*, i.request AS request_body, i.response AS response_body FROM traces t
                LEFT JOIN inference_table i ON i.request_id = t.request_id
                WHERE t.trace_id = ? OR t.trace_id = (SELECT trace_id FROM inference_table WHERE request_id = ?) LIMIT 1
                """,
                [.text(id), .text(id)]
            )
            guard let row = rows.first else { return nil }
            let spans = try await database.read(
                "SELECT * FROM spans WHERE trace_id = ? ORDER BY start_time_unix_nano", [.text(try row.requiredText("trace_id"))]
            )
            let response = row.text("response_body")
            return MLflowTraceJSON.document(try Self.trace(row, spans: spans.map { Self.span($0, response: response) })).jsonText
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read trace \(id)", underlying: error)
        }
    }

    /// Traces matching a filter, newest first.
    public func traces(matching filter: TraceFilter) async throws(StoreError) -> [TraceSummary] {
        var clauses: [String] = []
        var arguments: [StoreValue] = []
        if let endpoint = filter.endpointName { clauses.append("t.endpoint_name = ?"); arguments.append(.text(endpoint)) }
        if let state = filter.state { clauses.append("t.state = ?"); arguments.append(.text(state.uppercased())) }
        if let since = filter.since { clauses.append("t.request_time >= ?"); arguments.append(.text(since)) }
        if let until = filter.until { clauses.append("t.request_time < ?"); arguments.append(.text(until)) }
        let condition = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = """
            SELECT t.trace_id, t.request_id, t.endpoint_name, t.request_time, t.state, t.execution_duration_ms,
                   i.request AS request_body, i.response AS response_body
            FROM traces t LEFT JOIN inference_table i ON i.request_id = t.request_id
            \(condition) ORDER BY t.request_time DESC, t.trace_id DESC LIMIT ? OFFSET ?
            """
        arguments.append(StoreValue(max(1, min(filter.limit, 10_000))))
        arguments.append(StoreValue(max(0, filter.offset)))
        do {
            return try await database.read(sql, arguments).map { row throws(StoreError) in
                TraceSummary(
                    traceID: try row.requiredText("trace_id"), requestID: try row.requiredText("request_id"),
                    endpointName: try row.requiredText("endpoint_name"), requestTime: try row.requiredText("request_time"),
                    state: try row.requiredText("state"), executionDurationMs: row.int("execution_duration_ms"),
                    requestPreview: TracePreview.request(row.text("request_body")), responsePreview: TracePreview.response(row.text("response_body"))
                )
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot list traces", underlying: error)
        }
    }

    static func trace(_ row: SQLRow, spans: [SpanRecord]) throws(StoreError) -> TraceRecord {
        let time = try row.requiredText("request_time")
        return TraceRecord(
            traceHex: String(try row.requiredText("trace_id").dropFirst(3)), requestID: try row.requiredText("request_id"),
            clientRequestID: row.text("client_request_id"), endpointName: try row.requiredText("endpoint_name"),
            requestTime: (try? Date(time, strategy: .iso8601)) ?? Date(timeIntervalSince1970: 0),
            executionDurationMs: row.int("execution_duration_ms") ?? 0, state: row.text("state").flatMap(TraceState.init(rawValue:)) ?? .ok,
            requestPreview: TracePreview.request(row.text("request_body")), responsePreview: TracePreview.response(row.text("response_body")),
            spans: spans
        )
    }

    static func span(_ row: SQLRow, response: String?) -> SpanRecord {
        let input = row.int("input_tokens")
        let output = row.int("output_tokens")
        let attributes = (try? JSONValue.parse(row.text("attributes") ?? "{}"))?.objectValue ?? JSONObject()
        let nanos: (String) -> UInt64 = { column in
            guard case .int(let value) = row[column] else { return 0 }
            return UInt64(max(0, value))
        }
        return SpanRecord(
            spanID: row.text("span_id") ?? "", parentSpanID: row.text("parent_span_id"), name: row.text("name") ?? "",
            type: row.text("span_type").flatMap(SpanType.init(rawValue:)) ?? .unknown,
            startNanos: nanos("start_time_unix_nano"), endNanos: nanos("end_time_unix_nano"),
            status: row.text("status_code").flatMap(SpanStatusCode.init(rawValue:)) ?? .unset, statusMessage: row.text("status_message") ?? "",
            inputsJSON: row.text("inputs"), outputsJSON: (row.int("outputs_from_response") ?? 0) != 0 ? response : row.text("outputs"),
            tokenUsage: input.flatMap { input in output.map { TokenCounts(input: input, output: $0) } },
            attributes: attributes, events: SpanEvents.events(from: try? JSONValue.parse(row.text("events") ?? "[]"))
        )
    }
}

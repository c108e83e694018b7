import GRDB
import TollgateCore

/// Columns and values of the pipeline's datasets, in one place for the batch tables, the
/// target tables and quarantine.
enum PipelineRows {
    static let silverColumns = [
        "request_id", "source_rowid", "request_time", "request_date", "endpoint_name", "served_entity_name", "requester",
        "client_request_id", "api", "stream", "status_code", "stream_end", "execution_duration_ms", "time_to_first_token_ms",
        "trace_id", "response_shape", "model", "response_text", "finish_reason", "error_type", "error_code", "error_message",
        "error_body", "input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens", "token_source",
        "filters", "span_count", "trace_exception", "request_preview", "parse_problems",
    ]

    static let goldColumns = [
        "request_id", "request_time", "request_date", "endpoint_name", "served_entity_name", "requester", "client_request_id",
        "api", "stream", "outcome", "inference_case", "status_code", "blocked_by", "error_type", "error_code", "error_message",
        "model", "finish_reason", "input_tokens", "output_tokens", "total_tokens", "cached_tokens", "reasoning_tokens",
        "token_count_source", "execution_duration_ms", "time_to_first_token_ms", "request_preview", "response_preview",
        "response_chars", "trace_id", "span_count",
    ]

    static func silverValues(_ e: SilverEvent) -> [(any DatabaseValueConvertible)?] {
        [
            e.requestID, e.rowID, e.requestTime, e.requestDate, e.endpointName, e.servedEntityName, e.requester,
            e.clientRequestID, e.api, e.stream ? 1 : 0, e.statusCode, e.streamEnd, e.executionDurationMs, e.timeToFirstTokenMs,
            e.traceID, e.responseShape, e.model, e.text, e.finishReason, e.errorType, e.errorCode, e.errorMessage,
            e.errorBody, e.inputTokens, e.outputTokens, e.totalTokens, e.cachedTokens, e.reasoningTokens, e.tokenSource,
            filtersJSON(e.filters), e.spanCount, e.traceException ? 1 : 0, e.requestPreview,
            JSONValue.array(e.parseProblems.map { .string($0) }).jsonText,
        ]
    }

    static func goldValues(_ g: GoldRequest) -> [(any DatabaseValueConvertible)?] {
        let e = g.event
        return [
            e.requestID, e.requestTime, e.requestDate, e.endpointName, e.servedEntityName, e.requester, e.clientRequestID,
            e.api, e.stream ? 1 : 0, g.outcome.rawValue, g.inferenceCase.rawValue, e.statusCode, g.blockedBy?.rawValue,
            e.errorType, e.errorCode, e.errorMessage.map { String($0.prefix(2000)) }, e.model, e.finishReason,
            e.inputTokens, e.outputTokens, e.totalTokens, e.cachedTokens, e.reasoningTokens, e.tokenSource,
            e.executionDurationMs, e.timeToFirstTokenMs, String(e.requestPreview.prefix(1000)), g.responsePreview,
            g.responseChars, e.traceID, e.spanCount,
        ]
    }

    static func filtersJSON(_ filters: [FilterResult]) -> String {
        JSONValue.array(filters.map { filter in
            [
                "stage": .string(filter.stage.rawValue), "category": .string(filter.category), "filtered": .bool(filter.filtered),
                "severity": .optionalString(filter.severity), "detected": filter.detected.map { .bool($0) } ?? .null,
            ]
        }).jsonText
    }

    /// `INSERT … (columns) VALUES (?, …)` for a table.
    static func insert(into table: String, columns: [String], verb: String = "INSERT OR REPLACE") -> String {
        "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
    }

    /// Inserts rows with one statement per `chunk` rows: far fewer statement executions than one
    /// per row (the pipeline writes ~10 rows per request across its tables).
    static func insertMany(
        _ rows: [[(any DatabaseValueConvertible)?]], into table: String, columns: [String], verb: String = "INSERT OR REPLACE", db: Database
    ) throws {
        guard !rows.isEmpty else { return }
        let chunk = max(1, 30_000 / columns.count)
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + chunk)
            let sql = "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: tuple, count: end - start).joined(separator: ",")
            var values: [(any DatabaseValueConvertible)?] = []
            values.reserveCapacity((end - start) * columns.count)
            for row in rows[start..<end] { values.append(contentsOf: row) }
            try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(values))
            start = end
        }
    }
}

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

    static let filterColumns = ["request_id", "stage", "category", "filtered", "severity", "detected"]

    static func silverValues(_ e: SilverEvent) -> [DatabaseValue] {
        let values: [(any DatabaseValueConvertible)?] = [
            e.requestID, e.rowID, e.requestTime, e.requestDate, e.endpointName, e.servedEntityName, e.requester,
            e.clientRequestID, e.api, e.stream ? 1 : 0, e.statusCode, e.streamEnd, e.executionDurationMs, e.timeToFirstTokenMs,
            e.traceID, e.responseShape, e.model, e.text, e.finishReason, e.errorType, e.errorCode, e.errorMessage,
            e.errorBody, e.inputTokens, e.outputTokens, e.totalTokens, e.cachedTokens, e.reasoningTokens, e.tokenSource,
            filtersJSON(e.filters), e.spanCount, e.traceException ? 1 : 0, e.requestPreview,
            JSONValue.array(e.parseProblems.map { .string($0) }).jsonText,
        ]
        return values.map { $0?.databaseValue ?? .null }
    }

    static func goldValues(_ g: GoldRequest) -> [DatabaseValue] {
        let e = g.event
        let values: [(any DatabaseValueConvertible)?] = [
            e.requestID, e.requestTime, e.requestDate, e.endpointName, e.servedEntityName, e.requester, e.clientRequestID,
            e.api, e.stream ? 1 : 0, g.outcome.rawValue, g.inferenceCase.rawValue, e.statusCode, g.blockedBy?.rawValue,
            e.errorType, e.errorCode, e.errorMessage.map { String($0.prefix(2000)) }, e.model, e.finishReason,
            e.inputTokens, e.outputTokens, e.totalTokens, e.cachedTokens, e.reasoningTokens, e.tokenSource,
            e.executionDurationMs, e.timeToFirstTokenMs, String(e.requestPreview.prefix(1000)), g.responsePreview,
            g.responseChars, e.traceID, e.spanCount,
        ]
        return values.map { $0?.databaseValue ?? .null }
    }

    static func filterValues(_ requestID: String, _ filters: [FilterResult]) -> [[DatabaseValue]] {
        filters.map { result in
            let values: [(any DatabaseValueConvertible)?] = [
                requestID, result.stage.rawValue, result.category, result.filtered ? 1 : 0, result.severity, result.detected.map { $0 ? 1 : 0 },
            ]
            return values.map { $0?.databaseValue ?? .null }
        }
    }

    /// The `filters` column: written directly, it is the silver row's widest derived value.
    static func filtersJSON(_ filters: [FilterResult]) -> String {
        var out = "["
        for (index, filter) in filters.enumerated() {
            if index > 0 { out += "," }
            out += "{\"stage\":\"\(filter.stage.rawValue)\",\"category\":"
            JSONValue.writeEscaped(filter.category, to: &out)
            out += ",\"filtered\":\(filter.filtered),\"severity\":"
            if let severity = filter.severity { JSONValue.writeEscaped(severity, to: &out) } else { out += "null" }
            out += ",\"detected\":" + (filter.detected.map { "\($0)" } ?? "null") + "}"
        }
        return out + "]"
    }

    /// `INSERT … (columns) VALUES (?, …)` for a table.
    static func insert(into table: String, columns: [String], verb: String = "INSERT OR REPLACE") -> String {
        "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
    }

    /// Inserts rows with one statement per `chunk` rows: far fewer statement executions than one
    /// per row (the pipeline writes ~10 rows per request across its tables).
    static func insertMany(
        _ rows: [[DatabaseValue]], into table: String, columns: [String], verb: String = "INSERT OR REPLACE", db: Database
    ) throws {
        guard !rows.isEmpty else { return }
        let chunk = max(1, 30_000 / columns.count)
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
        var start = 0
        while start < rows.count {
            let end = min(rows.count, start + chunk)
            let sql = "\(verb) INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                + Array(repeating: tuple, count: end - start).joined(separator: ",")
            var values: [DatabaseValue] = []
            values.reserveCapacity((end - start) * columns.count)
            for row in rows[start..<end] { values.append(contentsOf: row) }
            // Full chunks share one cached statement; the remainder's size varies from batch to
            // batch, and caching each would grow the statement cache without bound.
            let statement = end - start == chunk ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
            try statement.execute(arguments: StatementArguments(values))
            start = end
        }
    }
}

/// A bronze row parsed and turned into the values of every dataset it feeds — pure work done
/// across cores before the write transaction.
struct PreparedRow: Sendable {
    let requestID: String
    let silver: [DatabaseValue]
    let gold: [DatabaseValue]
    let filters: [[DatabaseValue]]

    init(_ row: BronzeRow) {
        let event = SilverParser.parse(row)
        requestID = event.requestID
        silver = PipelineRows.silverValues(event)
        gold = PipelineRows.goldValues(GoldClassifier.classify(event))
        filters = PipelineRows.filterValues(event.requestID, event.filters)
    }
}

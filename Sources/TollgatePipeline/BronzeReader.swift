import GRDB
import TollgateCore

/// Reads bronze rows after a checkpoint, with their usage rows and stored trace spans.
enum BronzeReader {
    static func batch(after rowID: Int64, limit: Int, db: Database) throws -> [BronzeRow] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT i.rowid AS source_rowid, i.*, u.input_token_count, u.output_token_count, u.token_count_source,
                       t.input_tokens AS trace_input_tokens, t.output_tokens AS trace_output_tokens, t.trace_id AS stored_trace_id
                FROM inference_table i
                LEFT JOIN endpoint_usage u ON u.request_id = i.request_id
                LEFT JOIN traces t ON t.trace_id = i.trace_id
                WHERE i.rowid > ? ORDER BY i.rowid LIMIT ?
                """,
            arguments: [rowID, limit]
        )
        var bronze = rows.map(row)
        let traceIDs = rows.compactMap { $0["stored_trace_id"] as String? }
        if !traceIDs.isEmpty {
            let spans = try spansByTrace(traceIDs, db: db)
            for index in bronze.indices {
                if let id = bronze[index].traceID, let facts = spans[id] { bronze[index].traceSpans = facts }
            }
        }
        return bronze
    }

    static func row(_ row: Row) -> BronzeRow {
        var bronze = BronzeRow(
            rowID: row["source_rowid"], requestID: row["request_id"], clientRequestID: row["client_request_id"],
            requestTime: row["request_time"], requestDate: row["request_date"], endpointName: row["endpoint_name"],
            servedEntityName: row["served_entity_name"], api: row["api"], stream: (row["stream"] as Int? ?? 0) != 0,
            statusCode: row["status_code"] ?? 0, executionDurationMs: row["execution_duration_ms"],
            timeToFirstTokenMs: row["time_to_first_token_ms"], request: row["request"], response: row["response"],
            streamEnd: row["stream_end"], loggingErrorCodes: row["logging_error_codes"], requester: row["requester"],
            traceID: row["trace_id"], usageInput: row["input_token_count"], usageOutput: row["output_token_count"],
            usageSource: row["token_count_source"]
        )
        if row["stored_trace_id"] as String? != nil {
            bronze.traceUsage = (row["trace_input_tokens"], row["trace_output_tokens"])
            bronze.traceSpans = []
        }
        return bronze
    }

    static func spansByTrace(_ ids: [String], db: Database) throws -> [String: [SpanFacts]] {
        var result: [String: [SpanFacts]] = [:]
        for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT s.trace_id, s.span_type, s.status_code, CASE WHEN s.outputs_from_response = 1 THEN i.response ELSE s.outputs END AS outputs,
                           s.events
                    FROM spans s LEFT JOIN traces t ON t.trace_id = s.trace_id LEFT JOIN inference_table i ON i.request_id = t.request_id
                    WHERE s.trace_id IN (\(marks)) ORDER BY s.start_time_unix_nano
                    """,
                arguments: StatementArguments(chunk)
            )
            for row in rows {
                let events = SpanEvents.events(from: try? JSONValue.parse(row["events"] as String? ?? "[]"))
                let facts = SpanFacts(
                    type: row["span_type"] ?? "", failed: row["status_code"] as String? == SpanStatusCode.error.rawValue,
                    outputs: row["outputs"],
                    exceptions: events.filter { $0.name == "exception" }.map { ($0.attributes["exception.message"] ?? "", $0.attributes["exception.type"]) }
                )
                result[row["trace_id"] as String, default: []].append(facts)
            }
        }
        return result
    }
}

import TollgateCore
import TollgateStore

/// Claims bronze rows from `pipeline_queue` (PostgreSQL) and reads them, with their usage rows
/// and stored traces, in the SQL every other reader of the shared store speaks.
enum QueuedBronzeReader {
    /// Deletes up to `?` rows from the head of the queue, skipping rows another run holds, and
    /// returns each with its bronze row (NULL columns when retention removed it meanwhile). The
    /// joins are those of `BronzeReader.batch`.
    static let claim = """
        WITH claimed AS (
            DELETE FROM pipeline_queue
            WHERE seq = ANY(ARRAY(SELECT seq FROM pipeline_queue ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED))
            RETURNING seq, request_id, request_time
        )
        SELECT c.seq, c.request_id AS claimed_id, i.request_id, i.client_request_id, i.request_time, i.request_date, i.endpoint_name,
               i.served_entity_name, i.api, i.stream, i.status_code, i.execution_duration_ms, i.time_to_first_token_ms,
               i.request, i.response, i.stream_end, i.logging_error_codes, i.requester, i.trace_id,
               u.input_token_count, u.output_token_count, u.token_count_source,
               t.trace_id AS stored_trace_id, t.input_tokens AS trace_input_tokens, t.output_tokens AS trace_output_tokens
        FROM claimed c
        LEFT JOIN inference_table i ON i.request_id = c.request_id AND i.request_time = c.request_time
        LEFT JOIN endpoint_usage u ON u.request_id = i.request_id
        LEFT JOIN traces t ON t.trace_id = i.trace_id
        ORDER BY c.seq
        """

    /// A claimed batch: every claimed request id, and the bronze rows still there (`rowID` is
    /// the row's place in the queue).
    struct Claim: Sendable {
        var claimedIDs: [String]
        var rows: [BronzeRow]
        var lastSeq: Int64?
    }

    static func claim(_ limit: Int, in transaction: any SQLTransaction) async throws(StoreError) -> Claim {
        let claimed = try await transaction.run(claim, [.int(Int64(limit))])
        var rows: [BronzeRow] = []
        var traceIDs: [String] = []
        for row in claimed {
            guard let requestID = row.text("request_id"), case .int(let seq) = row["seq"] else { continue }
            var item = BronzeRow(
                rowID: seq, requestID: requestID, clientRequestID: row.text("client_request_id"),
                requestTime: row.text("request_time") ?? "", requestDate: row.text("request_date"),
                endpointName: row.text("endpoint_name") ?? "", servedEntityName: row.text("served_entity_name"), api: row.text("api") ?? "",
                stream: (row.int("stream") ?? 0) != 0, statusCode: row.int("status_code") ?? 0,
                executionDurationMs: row.int("execution_duration_ms"), timeToFirstTokenMs: row.int("time_to_first_token_ms"),
                request: row.text("request"), response: row.text("response"), streamEnd: row.text("stream_end"),
                loggingErrorCodes: row.text("logging_error_codes"), requester: row.text("requester"), traceID: row.text("trace_id"),
                usageInput: row.int("input_token_count"), usageOutput: row.int("output_token_count"), usageSource: row.text("token_count_source")
            )
            if let stored = row.text("stored_trace_id") {
                item.traceUsage = (row.int("trace_input_tokens"), row.int("trace_output_tokens"))
                item.traceSpans = []
                traceIDs.append(stored)
            }
            rows.append(item)
        }
        if !traceIDs.isEmpty {
            let spans = try await spansByTrace(traceIDs, in: transaction)
            for index in rows.indices {
                if let id = rows[index].traceID, let facts = spans[id] { rows[index].traceSpans = facts }
            }
        }
        var lastSeq: Int64?
        if case .int(let seq)? = claimed.last?["seq"] { lastSeq = seq }
        return Claim(claimedIDs: claimed.compactMap { $0.text("claimed_id") }, rows: rows, lastSeq: lastSeq)
    }

    /// The spans of these traces, in the order and shape `BronzeReader.spansByTrace` reads them.
    static func spansByTrace(_ ids: [String], in transaction: any SQLTransaction) async throws(StoreError) -> [String: [SpanFacts]] {
        let rows = try await transaction.run(
            """
            SELECT s.trace_id, s.span_type, s.status_code, CASE WHEN s.outputs_from_response = 1 THEN i.response ELSE s.outputs END AS outputs,
                   s.events
            FROM spans s LEFT JOIN traces t ON t.trace_id = s.trace_id LEFT JOIN inference_table i ON i.request_id = t.request_id
            WHERE s.trace_id IN (SELECT jsonb_array_elements_text(?::jsonb)) ORDER BY s.trace_id, s.start_time_unix_nano, s.span_id COLLATE "C"
            """,
            [.text(JSONValue.array(ids.map { .string($0) }).jsonText)]
        )
        var result: [String: [SpanFacts]] = [:]
        for row in rows {
            guard let traceID = row.text("trace_id") else { continue }
            result[traceID, default: []].append(BronzeReader.spanFacts(
                type: row.text("span_type"), status: row.text("status_code"), outputs: row.text("outputs"), events: row.text("events")
            ))
        }
        return result
    }
}

import TollgateCore
import TollgateStore

/// Claims bronze rows from `pipeline_queue` (PostgreSQL) and reads them, with their usage rows
/// and stored traces, in the SQL every other reader of the shared store speaks.
enum QueuedBronzeReader {
    /// How many entries from the head of the queue hold `?` rows (the second `?`): each entry
    /// is the rows one statement inserted.
    static let entriesNeeded = """
        SELECT count(*) AS entries FROM (
            SELECT sum(row_count) OVER (ORDER BY seq) - row_count AS before FROM (SELECT seq, row_count FROM pipeline_queue ORDER BY seq LIMIT ?) head
        ) running WHERE before < ?
        """

    /// Deletes up to `?` entries from the head of the queue, skipping entries another run holds,
    /// and returns each of their rows with its bronze row (NULL columns when retention removed it
    /// meanwhile). The joins are those of `BronzeReader.batch`.
    static let claim = """
        WITH claimed AS (
            DELETE FROM pipeline_queue
            WHERE seq = ANY(ARRAY(SELECT seq FROM pipeline_queue ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED))
            RETURNING seq, request_ids, request_times
        ), keys AS (
            SELECT c.seq, k.ord, k.request_id, k.request_time
            FROM claimed c CROSS JOIN LATERAL unnest(c.request_ids, c.request_times) WITH ORDINALITY AS k(request_id, request_time, ord)
        )
        SELECT k.seq, k.request_id AS claimed_id, i.request_id, i.client_request_id, i.request_time, i.request_date, i.endpoint_name,
               i.served_entity_name, i.api, i.stream, i.status_code, i.execution_duration_ms, i.time_to_first_token_ms,
               i.request, i.response, i.stream_end, i.logging_error_codes, i.requester, i.trace_id,
               u.input_token_count, u.output_token_count, u.token_count_source,
               t.trace_id AS stored_trace_id, t.input_tokens AS trace_input_tokens, t.output_tokens AS trace_output_tokens
        FROM keys k
        LEFT JOIN inference_table i ON i.request_id = k.request_id AND i.request_time = k.request_time
        LEFT JOIN endpoint_usage u ON u.request_id = i.request_id
        LEFT JOIN traces t ON t.trace_id = i.trace_id
        ORDER BY k.seq, k.ord
        """

    /// A claimed batch: every claimed request id, and the bronze rows still there (`rowID` is
    /// the queue entry the row came in).
    struct Claim: Sendable {
        var claimedIDs: [String]
        var rows: [BronzeRow]
        var lastSeq: Int64?
    }

    /// Claims whole entries from the head of the queue: as many as hold `rows` rows (at least one).
    static func claim(_ rows: Int, in transaction: any SQLTransaction) async throws(StoreError) -> Claim {
        let needed = try await transaction.run(entriesNeeded, [.int(Int64(rows)), .int(Int64(rows))]).first?.int("entries") ?? 0
        let claimed = try await transaction.run(claim, [.int(Int64(max(1, needed)))])
        var bronze: [BronzeRow] = []
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
            bronze.append(item)
        }
        if !traceIDs.isEmpty {
            let spans = try await spansByTrace(traceIDs, in: transaction)
            for index in bronze.indices {
                if let id = bronze[index].traceID, let facts = spans[id] { bronze[index].traceSpans = facts }
            }
        }
        var lastSeq: Int64?
        if case .int(let seq)? = claimed.last?["seq"] { lastSeq = seq }
        return Claim(claimedIDs: claimed.compactMap { $0.text("claimed_id") }, rows: bronze, lastSeq: lastSeq)
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

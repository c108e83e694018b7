import GRDB
import TollgateCore

/// Reads bronze rows after a checkpoint, with their usage rows and stored trace spans.
enum BronzeReader {
    /// The rowids of the next `limit` bronze rows after `rowID`.
    static func rowIDs(after rowID: Int64, limit: Int, db: Database) throws -> [Int64] {
        try Int64.fetchAll(db, sql: "SELECT rowid FROM inference_table WHERE rowid > ? ORDER BY rowid LIMIT ?", arguments: [rowID, limit])
    }

    /// `rowIDs` (ascending, all after `start`) cut into ranges `(after, through]` of up to
    /// `size` rows each.
    static func ranges(of rowIDs: [Int64], after start: Int64, size: Int) -> [(after: Int64, through: Int64)] {
        stride(from: 0, to: rowIDs.count, by: size).map { first in
            (first == 0 ? start : rowIDs[first - 1], rowIDs[min(first + size, rowIDs.count) - 1])
        }
    }

    /// The bronze rows with `after < rowid <= through`, in rowid order.
    static func batch(after rowID: Int64, through last: Int64, db: Database) throws -> [BronzeRow] {
        // Columns by position, read from a cursor: no per-row copy and no lookup by name.
        let cursor = try Row.fetchCursor(
            db,
            sql: """
                SELECT i.rowid, i.request_id, i.client_request_id, i.request_time, i.request_date, i.endpoint_name,
                       i.served_entity_name, i.api, i.stream, i.status_code, i.execution_duration_ms, i.time_to_first_token_ms,
                       i.request, i.response, i.stream_end, i.logging_error_codes, i.requester, i.trace_id,
                       u.input_token_count, u.output_token_count, u.token_count_source,
                       t.trace_id, t.input_tokens, t.output_tokens
                FROM inference_table i
                LEFT JOIN endpoint_usage u ON u.request_id = i.request_id
                LEFT JOIN traces t ON t.trace_id = i.trace_id
                WHERE i.rowid > ? AND i.rowid <= ? ORDER BY i.rowid
                """,
            arguments: [rowID, last]
        )
        var bronze: [BronzeRow] = []
        var traceIDs: [String] = []
        while let row = try cursor.next() {
            var item = BronzeRow(
                rowID: row[0], requestID: row[1], clientRequestID: row[2], requestTime: row[3], requestDate: row[4],
                endpointName: row[5], servedEntityName: row[6], api: row[7], stream: (row[8] as Int? ?? 0) != 0,
                statusCode: row[9] ?? 0, executionDurationMs: row[10], timeToFirstTokenMs: row[11], request: row[12],
                response: row[13], streamEnd: row[14], loggingErrorCodes: row[15], requester: row[16], traceID: row[17],
                usageInput: row[18], usageOutput: row[19], usageSource: row[20]
            )
            if let stored = row[21] as String? {
                item.traceUsage = (row[22], row[23])
                item.traceSpans = []
                traceIDs.append(stored)
            }
            bronze.append(item)
        }
        if !traceIDs.isEmpty {
            let spans = try spansByTrace(traceIDs, db: db)
            for index in bronze.indices {
                if let id = bronze[index].traceID, let facts = spans[id] { bronze[index].traceSpans = facts }
            }
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
                    WHERE s.trace_id IN (\(marks)) ORDER BY s.trace_id, s.start_time_unix_nano, s.span_id
                    """,
                arguments: StatementArguments(chunk)
            )
            for row in rows {
                let facts = spanFacts(type: row["span_type"], status: row["status_code"], outputs: row["outputs"], events: row["events"])
                result[row["trace_id"] as String, default: []].append(facts)
            }
        }
        return result
    }

    /// One span as the pipeline's evidence: its type, whether it failed, its outputs and its
    /// `exception` events.
    static func spanFacts(type: String?, status: String?, outputs: String?, events: String?) -> SpanFacts {
        let events = SpanEvents.events(from: try? JSONValue.parse(events ?? "[]"))
        return SpanFacts(
            type: type ?? "", failed: status == SpanStatusCode.error.rawValue, outputs: outputs,
            exceptions: events.filter { $0.name == "exception" }.map { ($0.attributes["exception.message"] ?? "", $0.attributes["exception.type"]) }
        )
    }
}

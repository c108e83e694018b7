import Foundation
import GRDB
import TollgateCore

/// Maps an `InferenceRecord` to its `inference_table` and `endpoint_usage` rows.
enum RecordRows {
    /// Inserts the rows; usage is resolved before payloads over `payloadLimit` are dropped, and returned.
    @discardableResult
    static func insert(_ original: InferenceRecord, payloadLimit: Int, into db: Database) throws -> TokenUsage? {
        let usage = TokenEstimator.usage(for: original.usage, requestBody: original.request)
        var record = original
        record.applyPayloadLimit(payloadLimit)
        let time = UTCTimestamp.iso8601(record.requestTime)
        if record.writesInferenceRow {
            let codes = "[" + record.loggingErrorCodes.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO inference_table (request_id, client_request_id, request_date, request_time,
                      endpoint_name, served_entity_name, served_entity_id, api, stream, status_code, execution_duration_ms,
                      time_to_first_token_ms, sampling_fraction, request, response, stream_end, logging_error_codes, requester, trace_id,
                      cold_start_ms, key_id, requester_groups, fallback_attempts, guardrails, rate_limit)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    record.requestID, record.clientRequestID, String(time.prefix(10)), time,
                    record.endpointName, record.servedEntityName, record.servedEntityID, record.api.rawValue,
                    record.stream ? 1 : 0, record.statusCode, record.executionDurationMs,
                    record.timeToFirstTokenMs, record.samplingFraction, record.request, record.response,
                    record.streamEnd?.rawValue, codes, record.requester, record.traceID, record.coldStartMs,
                    record.keyID, record.requesterGroups.map { JSONValue.array($0.map(JSONValue.string)).jsonText },
                    record.fallbackAttempts.isEmpty ? nil : JSONValue.array(record.fallbackAttempts.map(\.json)).jsonText,
                    record.guardrails?.jsonText, record.rateLimit?.jsonText,
                ]
            )
        }
        if record.writesUsageRow {
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO endpoint_usage (request_id, client_request_id, endpoint_name, served_entity_name,
                      served_entity_id, requester, status_code, request_time, input_token_count, output_token_count,
                      token_count_source, request_streaming, usage_context, cost_usd, key_id)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(
                arguments: [
                    record.requestID, record.clientRequestID, record.endpointName, record.servedEntityName,
                    record.servedEntityID, record.requester, record.statusCode, time, usage?.input, usage?.output,
                    usage?.source.rawValue, record.stream ? 1 : 0, record.usageContext,
                    record.price.map { $0.tokenCost(input: usage?.input, cachedInput: usage?.cachedInput, output: usage?.output) },
                    record.keyID,
                ]
            )
        }
        if let trace = record.trace { try insert(trace, response: record.response, into: db) }
        if let stored = record.storedResponse { try StoredResponses.insert(stored, into: db) }
        return usage
    }

    /// Writes a trace as rows: one in `traces`, one per span in `spans`. A span output that is
    /// the row's own response (a model endpoint's only span) is not stored twice: `outputs` stays
    /// null with `outputs_from_response` set, and readers take it from `inference_table`.
    static func insert(_ trace: TraceRecord, response: String?, into db: Database) throws {
        let usage = trace.tokenUsage
        try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO traces (trace_id, request_id, client_request_id, endpoint_name, request_time, state,
                  execution_duration_ms, input_tokens, output_tokens)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            trace.traceID, trace.requestID, trace.clientRequestID, trace.endpointName, UTCTimestamp.iso8601(trace.requestTime),
            trace.state.rawValue, trace.executionDurationMs, usage?.input, usage?.output,
        ])
        for span in trace.spans {
            let sameAsResponse = span.outputsJSON != nil && span.outputsJSON == response
            try db.cachedStatement(
                sql: """
                    INSERT OR IGNORE INTO spans (trace_id, span_id, parent_span_id, name, span_type, start_time_unix_nano,
                      end_time_unix_nano, status_code, status_message, inputs, outputs, outputs_from_response, input_tokens,
                      output_tokens, attributes, events)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                trace.traceID, span.spanID, span.parentSpanID, span.name, span.type.rawValue, Int64(span.startNanos),
                Int64(span.endNanos), span.status.rawValue, span.statusMessage, span.inputsJSON, sameAsResponse ? nil : span.outputsJSON,
                sameAsResponse ? 1 : 0, span.tokenUsage?.input, span.tokenUsage?.output, JSONValue.object(span.attributes).jsonText,
                SpanEvents.json(span.events).jsonText,
            ])
        }
    }
}

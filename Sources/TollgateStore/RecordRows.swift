import Foundation
import GRDB
import TollgateCore

/// One column value of a record's row, independent of the backend that stores it.
public enum StoreValue: Sendable, Equatable {
    case null
    case int(Int64)
    case real(Double)
    case text(String)

    public init(_ value: String?) { self = value.map(StoreValue.text) ?? .null }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Double?) { self = value.map(StoreValue.real) ?? .null }
}

/// The tables the record writer fills, with their columns in insert order.
public enum RecordTable: String, Sendable, CaseIterable {
    case inferenceTable = "inference_table"
    case endpointUsage = "endpoint_usage"
    case traces
    case spans
    case storedResponses = "stored_responses"

    public var columns: [String] {
        switch self {
        case .inferenceTable:
            ["request_id", "client_request_id", "request_date", "request_time", "endpoint_name", "served_entity_name", "served_entity_id",
             "api", "stream", "status_code", "execution_duration_ms", "time_to_first_token_ms", "sampling_fraction", "request", "response",
             "stream_end", "logging_error_codes", "requester", "trace_id", "cold_start_ms", "key_id", "requester_groups", "fallback_attempts",
             "guardrails", "rate_limit"]
        case .endpointUsage:
            ["request_id", "client_request_id", "endpoint_name", "served_entity_name", "served_entity_id", "requester", "status_code",
             "request_time", "input_token_count", "output_token_count", "token_count_source", "request_streaming", "usage_context", "cost_usd",
             "key_id"]
        case .traces:
            ["trace_id", "request_id", "client_request_id", "endpoint_name", "request_time", "state", "execution_duration_ms",
             "input_tokens", "output_tokens"]
        case .spans:
            ["trace_id", "span_id", "parent_span_id", "name", "span_type", "start_time_unix_nano", "end_time_unix_nano", "status_code",
             "status_message", "inputs", "outputs", "outputs_from_response", "input_tokens", "output_tokens", "attributes", "events"]
        case .storedResponses:
            ["response_id", "request_id", "endpoint_name", "created_at", "response", "input_items", "context_items"]
        }
    }
}

/// One row to insert (a row whose key is already stored is left as it is).
public struct TableRow: Sendable, Equatable {
    public var table: RecordTable
    public var values: [StoreValue]
}

/// Maps an `InferenceRecord` to its rows: `inference_table`, `endpoint_usage`, the trace's
/// `traces` and `spans`, and a stored Responses object. Every backend inserts these rows.
public enum RecordRows {
    /// The record's rows; usage is resolved before payloads over `payloadLimit` are dropped, and returned.
    public static func rows(_ original: InferenceRecord, payloadLimit: Int) -> (usage: TokenUsage?, rows: [TableRow]) {
        let usage = TokenEstimator.usage(for: original.usage, requestBody: original.request)
        var record = original
        record.applyPayloadLimit(payloadLimit)
        let time = UTCTimestamp.iso8601(record.requestTime)
        var rows: [TableRow] = []
        if record.writesInferenceRow {
            let codes = "[" + record.loggingErrorCodes.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]"
            rows.append(TableRow(table: .inferenceTable, values: [
                .text(record.requestID), StoreValue(record.clientRequestID), .text(String(time.prefix(10))), .text(time),
                .text(record.endpointName), StoreValue(record.servedEntityName), StoreValue(record.servedEntityID), .text(record.api.rawValue),
                .int(record.stream ? 1 : 0), .int(Int64(record.statusCode)), StoreValue(record.executionDurationMs),
                StoreValue(record.timeToFirstTokenMs), .real(record.samplingFraction), StoreValue(record.request), StoreValue(record.response),
                StoreValue(record.streamEnd?.rawValue), .text(codes), StoreValue(record.requester), StoreValue(record.traceID),
                StoreValue(record.coldStartMs), StoreValue(record.keyID),
                StoreValue(record.requesterGroups.map { JSONValue.array($0.map(JSONValue.string)).jsonText }),
                StoreValue(record.fallbackAttempts.isEmpty ? nil : JSONValue.array(record.fallbackAttempts.map(\.json)).jsonText),
                StoreValue(record.guardrails?.jsonText), StoreValue(record.rateLimit?.jsonText),
            ]))
        }
        if record.writesUsageRow {
            rows.append(TableRow(table: .endpointUsage, values: [
                .text(record.requestID), StoreValue(record.clientRequestID), .text(record.endpointName), StoreValue(record.servedEntityName),
                StoreValue(record.servedEntityID), StoreValue(record.requester), .int(Int64(record.statusCode)), .text(time),
                StoreValue(usage?.input), StoreValue(usage?.output), StoreValue(usage?.source.rawValue), .int(record.stream ? 1 : 0),
                StoreValue(record.usageContext),
                StoreValue(record.price.map { $0.tokenCost(input: usage?.input, cachedInput: usage?.cachedInput, output: usage?.output) }),
                StoreValue(record.keyID),
            ]))
        }
        if let trace = record.trace { rows += traceRows(trace, response: record.response) }
        if let stored = record.storedResponse {
            rows.append(TableRow(table: .storedResponses, values: [
                .text(stored.responseID), .text(stored.requestID), .text(stored.endpointName), .text(UTCTimestamp.iso8601(stored.createdAt)),
                .text(stored.response.jsonText), .text(JSONValue.array(stored.inputItems).jsonText),
                .text(JSONValue.array(stored.contextItems).jsonText),
            ]))
        }
        return (usage, rows)
    }

    /// A trace as rows: one in `traces`, one per span in `spans`. A span output that is the
    /// row's own response (a model endpoint's only span) is not stored twice: `outputs` stays
    /// null with `outputs_from_response` set, and readers take it from `inference_table`.
    static func traceRows(_ trace: TraceRecord, response: String?) -> [TableRow] {
        let usage = trace.tokenUsage
        var rows = [TableRow(table: .traces, values: [
            .text(trace.traceID), .text(trace.requestID), StoreValue(trace.clientRequestID), .text(trace.endpointName),
            .text(UTCTimestamp.iso8601(trace.requestTime)), .text(trace.state.rawValue), StoreValue(trace.executionDurationMs),
            StoreValue(usage?.input), StoreValue(usage?.output),
        ])]
        for span in trace.spans {
            let sameAsResponse = span.outputsJSON != nil && span.outputsJSON == response
            rows.append(TableRow(table: .spans, values: [
                .text(trace.traceID), .text(span.spanID), StoreValue(span.parentSpanID), .text(span.name), .text(span.type.rawValue),
                .int(Int64(clamping: span.startNanos)), .int(Int64(clamping: span.endNanos)), .text(span.status.rawValue),
                StoreValue(span.statusMessage), StoreValue(span.inputsJSON), StoreValue(sameAsResponse ? nil : span.outputsJSON),
                .int(sameAsResponse ? 1 : 0), StoreValue(span.tokenUsage?.input), StoreValue(span.tokenUsage?.output),
                .text(JSONValue.object(span.attributes).jsonText), .text(SpanEvents.json(span.events).jsonText),
            ]))
        }
        return rows
    }

    /// Inserts a record's rows into a SQLite database; returns its resolved usage.
    @discardableResult
    static func insert(_ record: InferenceRecord, payloadLimit: Int, into db: Database) throws -> TokenUsage? {
        let (usage, rows) = rows(record, payloadLimit: payloadLimit)
        for row in rows { try insert(row, into: db) }
        return usage
    }

    static func insert(_ row: TableRow, into db: Database) throws {
        try db.cachedStatement(sql: sqliteInserts[row.table]!).execute(arguments: StatementArguments(row.values.map(\.databaseValue)))
    }

    /// Each table's `INSERT OR IGNORE`, built once (GRDB caches the statement by its text).
    private static let sqliteInserts: [RecordTable: String] = Dictionary(uniqueKeysWithValues: RecordTable.allCases.map { table in
        let marks = Array(repeating: "?", count: table.columns.count).joined(separator: ", ")
        return (table, "INSERT OR IGNORE INTO \(table.rawValue) (\(table.columns.joined(separator: ", "))) VALUES (\(marks))")
    })
}

extension StoreValue {
    public init(_ value: DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let int): self = .int(int)
        case .double(let double): self = .real(double)
        case .string(let string): self = .text(string)
        case .blob(let data): self = .text(String(decoding: data, as: UTF8.self))
        }
    }

    public var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .int(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        }
    }
}

import GRDB
import GRDBSQLite
import TollgateCore

/// Columns and values of the pipeline's datasets, and how they are inserted.
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

    // Column values are built as `DatabaseValue`s directly: going through an array of
    // `(any DatabaseValueConvertible)?` boxed every value.

    static func silverValues(_ e: SilverEvent) -> [DatabaseValue] {
        [
            e.requestID.databaseValue, e.rowID.databaseValue, e.requestTime.databaseValue, e.requestDate.databaseValue,
            e.endpointName.databaseValue, value(e.servedEntityName), value(e.requester), value(e.clientRequestID), e.api.databaseValue,
            (e.stream ? 1 : 0).databaseValue, e.statusCode.databaseValue, value(e.streamEnd), value(e.executionDurationMs),
            value(e.timeToFirstTokenMs), value(e.traceID), e.responseShape.databaseValue, value(e.model), value(e.text),
            value(e.finishReason), value(e.errorType), value(e.errorCode), value(e.errorMessage), value(e.errorBody),
            value(e.inputTokens), value(e.outputTokens), value(e.totalTokens), value(e.cachedTokens), value(e.reasoningTokens),
            value(e.tokenSource), filtersJSON(e.filters).databaseValue, value(e.spanCount), (e.traceException ? 1 : 0).databaseValue,
            e.requestPreview.databaseValue, JSONValue.array(e.parseProblems.map { .string($0) }).jsonText.databaseValue,
        ]
    }

    static func goldValues(_ g: GoldRequest) -> [DatabaseValue] {
        let e = g.event
        return [
            e.requestID.databaseValue, e.requestTime.databaseValue, e.requestDate.databaseValue, e.endpointName.databaseValue,
            value(e.servedEntityName), value(e.requester), value(e.clientRequestID), e.api.databaseValue, (e.stream ? 1 : 0).databaseValue,
            g.outcome.rawValue.databaseValue, g.inferenceCase.rawValue.databaseValue, e.statusCode.databaseValue,
            value(g.blockedBy?.rawValue), value(e.errorType), value(e.errorCode), value(e.errorMessage.map { $0.leading(2000) }),
            value(e.model), value(e.finishReason), value(e.inputTokens), value(e.outputTokens), value(e.totalTokens),
            value(e.cachedTokens), value(e.reasoningTokens), value(e.tokenSource), value(e.executionDurationMs),
            value(e.timeToFirstTokenMs), e.requestPreview.databaseValue, value(g.responsePreview),
            g.responseChars.databaseValue, value(e.traceID), value(e.spanCount),
        ]
    }

    /// The `gold_filter_results` rows of one request, one after the other.
    static func filterValues(_ requestID: String, _ filters: [FilterResult]) -> [DatabaseValue] {
        let id = requestID.databaseValue
        var values: [DatabaseValue] = []
        values.reserveCapacity(filters.count * filterColumns.count)
        for result in filters {
            values.append(id)
            values.append(result.stage.rawValue.databaseValue)
            values.append(result.category.databaseValue)
            values.append((result.filtered ? 1 : 0).databaseValue)
            values.append(value(result.severity))
            values.append(value(result.detected.map { $0 ? 1 : 0 }))
        }
        return values
    }

    @inline(__always)
    static func value<Value: DatabaseValueConvertible>(_ optional: Value?) -> DatabaseValue {
        optional?.databaseValue ?? .null
    }

    /// The `filters` column: written directly, it is the silver row's widest derived value.
    static func filtersJSON(_ filters: [FilterResult]) -> String {
        var out = "["
        out.reserveCapacity(filters.count * 96 + 2)
        for (index, filter) in filters.enumerated() {
            out += index == 0 ? "{\"stage\":\"" : ",{\"stage\":\""
            out += filter.stage.rawValue
            out += "\",\"category\":"
            JSONValue.writeEscaped(filter.category, to: &out)
            out += filter.filtered ? ",\"filtered\":true,\"severity\":" : ",\"filtered\":false,\"severity\":"
            if let severity = filter.severity { JSONValue.writeEscaped(severity, to: &out) } else { out += "null" }
            switch filter.detected {
            case true?: out += ",\"detected\":true}"
            case false?: out += ",\"detected\":false}"
            case nil: out += ",\"detected\":null}"
            }
        }
        out += "]"
        return out
    }

    /// Inserts rows with multi-row statements (`VALUES (…), (…), …`) bound through SQLite's C
    /// API: GRDB's `StatementArguments` boxes every value in an existential and copies the array,
    /// which for the pipeline's ~10 rows per request was a fifth of the run's CPU, all of it on
    /// the writing thread. Each set holds whole rows (a multiple of `columns.count` values); the
    /// sets' rows are inserted in order.
    static func insertMany(_ sets: [PackedValues], into table: String, columns: [String], db: Database) throws {
        let width = columns.count
        var remaining = sets.reduce(0) { $0 + $1.count / width }
        guard remaining > 0 else { return }
        let perStatement = max(1, 256 / width)
        let tuple = "(" + Array(repeating: "?", count: width).joined(separator: ",") + ")"
        func statement(_ count: Int) throws -> OpaquePointer {
            let sql = "INSERT OR REPLACE INTO \(table) (\(columns.joined(separator: ", "))) VALUES " + Array(repeating: tuple, count: count).joined(separator: ",")
            return try db.cachedStatement(sql: sql).sqliteStatement
        }
        let full = try statement(perStatement)
        var setIndex = 0
        var current = sets[0]
        var valueIndex = 0
        while remaining > 0 {
            let count = min(perStatement, remaining)
            let handle = count == perStatement ? full : try statement(count)
            sqlite3_reset(handle)
            var parameter: Int32 = 1
            for _ in 0..<count {
                while valueIndex + width > current.count {
                    setIndex += 1
                    current = sets[setIndex]
                    valueIndex = 0
                }
                for _ in 0..<width {
                    current.bind(valueIndex, to: handle, at: parameter)
                    valueIndex += 1
                    parameter += 1
                }
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)  // no binding may outlive the sets it points into
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)), sql: table)
            }
            remaining -= count
        }
    }
}

/// A bronze row parsed and turned into the values of every dataset it feeds — pure work done
/// across cores before the write transaction.
struct PreparedRow: Sendable {
    let requestID: String
    let silver: PackedValues
    let gold: PackedValues
    let filters: PackedValues

    init(_ row: BronzeRow) {
        let event = SilverParser.parse(row)
        requestID = event.requestID
        silver = PackedValues(PipelineRows.silverValues(event))
        gold = PackedValues(PipelineRows.goldValues(GoldClassifier.classify(event)))
        filters = PackedValues(PipelineRows.filterValues(event.requestID, event.filters))
    }
}

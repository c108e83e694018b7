import Foundation
import GRDB
import SwiftCSV
import TollgateCore
import TollgateStore

/// Loads a Databricks inference-table export (JSON lines or CSV with the AI Gateway column
/// names) into `inference_table`, so the pipeline runs on what Databricks endpoints logged.
/// Re-importing the same file adds nothing (rows are keyed by `databricks_request_id`).
public struct DatabricksImport: Sendable {
    public struct Summary: Sendable {
        public var read = 0
        public var inserted = 0
        public var skipped: [String] = []
    }

    let store: SQLiteStore
    /// Endpoint name for rows that do not carry one (`request_metadata.endpoint_name`).
    let endpointName: String

    public init(store: SQLiteStore, endpointName: String) {
        self.store = store
        self.endpointName = endpointName
    }

    public func load(path: String) throws -> Summary {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var summary = Summary()
        var records: [[String: JSONValue]?] = []
        if path.lowercased().hasSuffix(".csv") || !(text.drop { $0.isWhitespace }.first == "{") {
            let csv = try CSV<Named>(string: text, delimiter: .comma)
            records = csv.rows.map { row in Optional(row.mapValues { $0.isEmpty ? JSONValue.null : .string($0) }) }
        } else {
            // A line that is not a JSON object is reported, never dropped silently.
            records = text.split(whereSeparator: \.isNewline).map { line in
                (try? JSONValue.parse(String(line)))?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.pairs) }
            }
        }
        try store.pool.write { db in
            for (index, parsed) in records.enumerated() {
                summary.read += 1
                guard let record = parsed else {
                    summary.skipped.append("record \(index + 1): not a JSON object")
                    continue
                }
                guard let row = Self.row(record, defaultEndpoint: endpointName) else {
                    summary.skipped.append("record \(index + 1): no databricks_request_id")
                    continue
                }
                try db.execute(
                    sql: """
                        INSERT OR IGNORE INTO inference_table (request_id, client_request_id, request_date, request_time, endpoint_name,
                          served_entity_name, served_entity_id, api, stream, status_code, execution_duration_ms, sampling_fraction,
                          request, response, stream_end, logging_error_codes, requester)
                        VALUES (?, ?, ?, ?, ?, ?, ?, 'invocations', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: row
                )
                summary.inserted += db.changesCount
            }
        }
        return summary
    }

    /// Maps one exported record to `inference_table` values.
    static func row(_ record: [String: JSONValue], defaultEndpoint: String) -> StatementArguments? {
        func text(_ key: String) -> String? {
            guard let value = record[key], !value.isNull else { return nil }
            return value.stringValue ?? value.jsonText
        }
        guard let id = text("databricks_request_id") ?? text("request_id") else { return nil }
        let metadata = record["request_metadata"].flatMap { $0.objectValue ?? (try? JSONValue.parse($0.stringValue ?? ""))?.objectValue }
        let endpoint = metadata?["endpoint_name"]?.stringValue ?? text("endpoint_name") ?? defaultEndpoint
        let time = normalizedTime(record["request_time"])
        let request = text("request")
        let stream = request.flatMap { try? JSONValue.parse($0) }?["stream"]?.boolValue ?? false
        let status = record["status_code"]?.intValue ?? text("status_code").flatMap { Int($0) } ?? 0
        let codes = loggingCodes(record["logging_error_codes"])
        let entity = text("served_entity_id")
        return [
            id, text("client_request_id"), text("request_date") ?? String(time.prefix(10)), time, endpoint,
            metadata?["model_name"]?.stringValue ?? entity, entity, stream ? 1 : 0, status,
            record["execution_duration_ms"]?.intValue ?? text("execution_duration_ms").flatMap { Int($0) },
            record["sampling_fraction"]?.doubleValue ?? text("sampling_fraction").flatMap { Double($0) } ?? 1.0,
            request, text("response"), stream ? (status < 400 ? "done" : "upstream_error") : nil, codes, text("requester"),
        ]
    }

    /// ISO-8601 with milliseconds, from ISO strings, `YYYY-MM-DD HH:MM:SS[.fff]` or epoch milliseconds.
    static func normalizedTime(_ value: JSONValue?) -> String {
        if let number = value?.doubleValue ?? value?.stringValue.flatMap(Double.init) {
            let seconds = number > 1e11 ? number / 1000 : number
            return UTCTimestamp.iso8601(Date(timeIntervalSince1970: seconds))
        }
        guard let raw = value?.stringValue, !raw.isEmpty else { return UTCTimestamp.iso8601(Date(timeIntervalSince1970: 0)) }
        var text = raw.replacingOccurrences(of: " ", with: "T")
        if !text.hasSuffix("Z") && !text.contains("+") { text += "Z" }
        if let date = (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) ?? (try? Date(text, strategy: .iso8601)) {
            return UTCTimestamp.iso8601(date)
        }
        return raw
    }

    static func loggingCodes(_ value: JSONValue?) -> String {
        if let array = value?.arrayValue { return JSONValue.array(array).jsonText }
        if let text = value?.stringValue, let parsed = try? JSONValue.parse(text), parsed.arrayValue != nil { return parsed.jsonText }
        if let text = value?.stringValue, !text.isEmpty { return JSONValue.array([.string(text)]).jsonText }
        return "[]"
    }
}

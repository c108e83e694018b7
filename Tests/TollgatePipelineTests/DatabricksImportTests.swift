import Foundation
import GRDB
import Logging
import Testing
import TollgateCore
import TollgatePipeline
import TollgateStore

@Suite("Databricks inference-table import")
struct DatabricksImportTests {
    func write(_ text: String, ext: String) throws -> String {
        let path = NSTemporaryDirectory() + "databricks-\(UUID().uuidString).\(ext)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func line(_ object: JSONValue) -> String { object.jsonText }

    @Test func jsonLinesExportFlowsToGold() throws {
        let store = try Fixtures.store()
        let lines = [
            line([
                "databricks_request_id": "db-1", "client_request_id": "c-1", "request_date": "2026-03-01", "request_time": "2026-03-01T10:00:00.000Z",
                "status_code": 200, "sampling_fraction": 1, "execution_duration_ms": 812,
                "request": #"{"messages":[{"role":"user","content":"hi"}]}"#, "response": .string(Fixtures.chatCompletion),
                "logging_error_codes": [], "served_entity_id": "abc123", "requester": "alice@example.com",
                "request_metadata": ["endpoint_name": "agent-prod", "model_name": "agent", "model_version": "3"],
            ]),
            line([
                "databricks_request_id": "db-2", "request_time": .number(1_772_359_200_000), "status_code": 200,
                "request": #"{"input":[{"role":"user","content":"rob a bank"}]}"#, "response": .string(Fixtures.agentCaught),
                "logging_error_codes": [], "served_entity_id": "abc123",
            ]),
            line([
                "databricks_request_id": "db-3", "request_time": "2026-03-01 10:00:05", "status_code": 200,
                "request": #"{"messages":[{"role":"user","content":"story"}],"stream":true}"#, "response": .string(Fixtures.streamCut),
                "logging_error_codes": ["MAX_REQUEST_SIZE_EXCEEDED"],
            ]),
            line(["request_time": "2026-03-01T10:00:00Z"]),
        ]
        let path = try write(lines.joined(separator: "\n"), ext: "jsonl")
        let summary = try DatabricksImport(store: store, endpointName: "imported").load(path: path)
        #expect(summary.read == 4)
        #expect(summary.inserted == 3)
        #expect(summary.skipped.count == 1)
        #expect(try DatabricksImport(store: store, endpointName: "imported").load(path: path).inserted == 0)

        _ = try PipelineRunner(store: store, config: PipelineConfig(), logger: Logger(label: "test")).run()
        let rows = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT request_id, endpoint_name, requester, inference_case, blocked_by, request_time FROM gold_requests ORDER BY request_id")
        }
        #expect(rows.map { $0["request_id"] as String } == ["db-1", "db-2", "db-3"])
        #expect(rows[0]["endpoint_name"] as String? == "agent-prod")
        #expect(rows[0]["requester"] as String? == "alice@example.com")
        #expect(rows[0]["inference_case"] as String? == "predict_valid")
        #expect(rows[1]["endpoint_name"] as String? == "imported")
        #expect(rows[1]["inference_case"] as String? == "predict_blocked")
        #expect(rows[1]["blocked_by"] as String? == "prompt_filter")
        #expect(rows[1]["request_time"] as String? == "2026-03-01T10:00:00.000Z")
        #expect(rows[2]["inference_case"] as String? == "stream_blocked_partially")
        #expect(rows[2]["request_time"] as String? == "2026-03-01T10:00:05.000Z")
    }

    @Test func csvExportWithQuotedJSONLoads() throws {
        let store = try Fixtures.store()
        func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        let csv = """
            databricks_request_id,client_request_id,request_date,request_time,status_code,sampling_fraction,execution_duration_ms,request,response,logging_error_codes,served_entity_id,requester
            csv-1,,2026-03-02,2026-03-02T08:00:00.000Z,400,1.0,35,\(quoted(#"{"messages":[{"role":"user","content":"How do I rob a bank?"}]}"#)),\(quoted(Fixtures.promptBlocked)),[],ent-1,bob
            """
        let path = try write(csv, ext: "csv")
        #expect(try DatabricksImport(store: store, endpointName: "csv-endpoint").load(path: path).inserted == 1)
        _ = try PipelineRunner(store: store, config: PipelineConfig(), logger: Logger(label: "test")).run()
        let row = try #require(try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM gold_requests") })
        #expect(row["inference_case"] as String? == "predict_blocked")
        #expect(row["status_code"] as Int? == 400)
        #expect(row["requester"] as String? == "bob")
        #expect(row["endpoint_name"] as String? == "csv-endpoint")
    }

    @Test func linesThatAreNotJSONAreReportedNotDropped() throws {
        let store = try Fixtures.store()
        let good = line(["databricks_request_id": "ok-1", "request_time": "2026-03-01T10:00:00Z", "status_code": 200])
        let path = try write([good, "{not json", "[1, 2]"].joined(separator: "\n"), ext: "jsonl")
        let summary = try DatabricksImport(store: store, endpointName: "e").load(path: path)
        #expect(summary.read == 3)
        #expect(summary.inserted == 1)
        #expect(summary.skipped == ["record 2: not a JSON object", "record 3: not a JSON object"])
    }
}

import Foundation
import GRDB
import Logging
import Testing
import TollgateCore
import TollgatePipeline
import TollgateStore

@Suite("Bronze → silver → gold")
struct PipelineTests {
    func runner(_ store: SQLiteStore, _ config: PipelineConfig = PipelineConfig()) -> PipelineRunner {
        PipelineRunner(store: store, config: config, logger: Logger(label: "pipeline-test"))
    }

    func gold(_ store: SQLiteStore, _ id: String) throws -> Row? {
        try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM gold_requests WHERE request_id = ?", arguments: [id]) }
    }

    @Test func theFiveCasesAreClassified() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.fiveCases, into: store)
        let summary = try runner(store).run()
        #expect(summary.inputRows == 5 && summary.outputRows == 5)
        let expected: [String: (String, String, String?)] = [
            "predict-valid": ("success", "predict_valid", nil),
            "predict-blocked": ("blocked", "predict_blocked", "prompt_filter"),
            "stream-valid": ("success", "stream_valid", nil),
            "stream-blocked-immediately": ("blocked", "stream_blocked_immediately", "prompt_filter"),
            "stream-blocked-partially": ("partial", "stream_blocked_partially", "content_filter"),
        ]
        for (id, (outcome, inferenceCase, blockedBy)) in expected {
            let row = try #require(try gold(store, id))
            #expect(row["outcome"] as String? == outcome, "\(id)")
            #expect(row["inference_case"] as String? == inferenceCase, "\(id)")
            #expect(row["blocked_by"] as String? == blockedBy, "\(id)")
        }
        let valid = try #require(try gold(store, "predict-valid"))
        #expect(valid["total_tokens"] as Int? == 24)
        #expect(valid["cached_tokens"] as Int? == 5)
        #expect(valid["token_count_source"] as String? == "response")
        #expect(valid["response_preview"] as String? == "Keys link tables.")
        #expect(valid["request_preview"] as String? == "question predict-valid")
        let stream = try #require(try gold(store, "stream-valid"))
        #expect(stream["response_preview"] as String? == "Fault tolerance")
        #expect(stream["output_tokens"] as Int? == 2)
        #expect(stream["token_count_source"] as String? == "stream")
        let violence = try store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM gold_filter_results WHERE request_id = 'predict-blocked' AND category = 'violence'")
        }
        #expect(violence?["stage"] as String? == "prompt")
        #expect(violence?["filtered"] as Int? == 1)
        #expect(violence?["severity"] as String? == "medium")
        let cut = try store.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM gold_filter_results WHERE request_id = 'stream-blocked-partially' AND category = 'violence'")
        }
        #expect(cut?["stage"] as String? == "completion")
        #expect(cut?["filtered"] as Int? == 1)
    }

    @Test func anAgentThatCaughtTheErrorIsBlockedByItsTrace() throws {
        let store = try Fixtures.store()
        try Fixtures.insert([Fixtures.Row(id: "agent", response: Fixtures.agentCaught, api: "responses")], into: store)
        _ = try runner(store).run()
        let row = try #require(try gold(store, "agent"))
        #expect(row["status_code"] as Int? == 200)
        #expect(row["outcome"] as String? == "blocked")
        #expect(row["inference_case"] as String? == "predict_blocked")
        #expect(row["blocked_by"] as String? == "prompt_filter")
        #expect(row["error_code"] as String? == "content_filter")
        #expect(row["span_count"] as Int? == 2)
        #expect(row["input_tokens"] as Int? == 9)
        #expect(row["token_count_source"] as String? == "trace")
        let categories = try store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT category FROM gold_filter_results WHERE request_id = 'agent' AND filtered = 1")
        }
        #expect(categories == ["violence"])
    }

    /// A real Databricks agent payload: the provider error wrapped by Databricks under
    /// `external_model_error` inside a Python repr, and the model's full chat completion in the
    /// CHAT_MODEL span's outputs.
    @Test func aDatabricksAgentPayloadKeepsItsFacts() throws {
        let providerError = #"{"external_model_provider":"openai","external_model_error":{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}}"#
        let message = "Error code: 400 - {'error_code': 'BAD_REQUEST', 'message': '\(providerError)'}"
        let completion: JSONValue = [
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
            "choices": [["index": 0, "finish_reason": "stop", "message": ["role": "assistant", "content": "Hello"]]],
            "usage": ["prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6],
        ]
        func span(_ name: String, _ type: String, outputs: JSONValue?, events: [JSONValue] = [], failed: Bool = false) -> JSONValue {
            var attributes: JSONObject = ["mlflow.spanType": .string(JSONValue.quoted(type))]
            if let outputs { attributes["mlflow.spanOutputs"] = .string(outputs.jsonText) }
            return ["name": .string(name), "attributes": .object(attributes), "status": ["code": failed ? "STATUS_CODE_ERROR" : "STATUS_CODE_OK"], "events": .array(events)]
        }
        let exception: JSONValue = ["name": "exception", "attributes": ["exception.type": "BadRequestError", "exception.message": .string(message)]]
        func response(_ spans: [JSONValue]) -> String {
            let body: JSONValue = [
                "object": "response",
                "output": [["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "Sorry, I can't help with that."]]]],
                "databricks_output": ["trace": ["info": ["trace_id": "tr-db"], "data": ["spans": .array(spans)]]],
            ]
            return body.jsonText
        }
        let store = try Fixtures.store()
        try Fixtures.insert([
            Fixtures.Row(id: "caught", response: response([span("predict", "AGENT", outputs: nil), span("Completions", "CHAT_MODEL", outputs: nil, events: [exception], failed: true)]), api: "responses"),
            Fixtures.Row(id: "answered", response: response([span("predict", "AGENT", outputs: nil), span("Completions", "CHAT_MODEL", outputs: completion)]), api: "responses"),
        ], into: store)
        _ = try runner(store).run()
        let caught = try #require(try gold(store, "caught"))
        #expect(caught["outcome"] as String? == "blocked")
        #expect(caught["inference_case"] as String? == "predict_blocked")
        #expect(caught["blocked_by"] as String? == "prompt_filter")
        #expect(caught["error_code"] as String? == "content_filter")
        let categories = try store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT category FROM gold_filter_results WHERE request_id = 'caught' ORDER BY category")
        }
        #expect(categories == ["hate", "self_harm", "sexual", "violence"])
        let answered = try #require(try gold(store, "answered"))
        #expect(answered["model"] as String? == "gpt-4o-2024-08-06")
        #expect(answered["finish_reason"] as String? == "stop")
        #expect(answered["outcome"] as String? == "success")
    }

    @Test func otherShapesParseWithoutCrashing() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.otherShapes, into: store)
        _ = try runner(store).run()
        let llama = try #require(try gold(store, "llama"))
        #expect(llama["token_count_source"] as String? == "usage_table_estimated")
        #expect(llama["outcome"] as String? == "success")
        let corrupt = try #require(try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM silver_events WHERE request_id = 'corrupt'") })
        #expect(corrupt["response_shape"] as String? == "unparsable")
        #expect((corrupt["parse_problems"] as String?)?.contains("not valid JSON") == true)
        #expect(try gold(store, "truncated-stream")?["inference_case"] as String? == "stream_cancelled")
        #expect(try gold(store, "server-error")?["inference_case"] as String? == "predict_error")
        #expect(try gold(store, "server-error")?["error_message"] as String? == "boom")
        #expect(try gold(store, "not-logged") != nil)
        #expect(try gold(store, "timeout")?["inference_case"] as String? == "stream_error")
    }

    @Test func runsAreIncrementalAndIdempotent() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Array(Fixtures.fiveCases.prefix(3)), into: store)
        #expect(try runner(store).run().inputRows == 3)
        let before = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT request_id || outcome || coalesce(total_tokens, '') FROM gold_requests ORDER BY 1") }
        #expect(try runner(store).run().inputRows == 0)
        let after = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT request_id || outcome || coalesce(total_tokens, '') FROM gold_requests ORDER BY 1") }
        #expect(before == after)
        try Fixtures.insert(Array(Fixtures.fiveCases.suffix(2)), into: store)
        #expect(try runner(store).run().inputRows == 2)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gold_requests") } == 5)
        #expect(try runner(store).run(fullRefresh: true).inputRows == 5)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gold_requests") } == 5)
        let events = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pipeline_events WHERE event_type = 'flow_progress'") }
        #expect(events == 4)
    }

    @Test func expectationsWarnDropQuarantineAndFailAsInDLT() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.fiveCases, into: store)
        let config = PipelineConfig(builtinExpectations: false, expectations: [
            ExpectationConfig(name: "warn_streams", dataset: .goldRequests, constraint: "stream = 0", onViolation: .warn),
            ExpectationConfig(name: "drop_blocked", dataset: .goldRequests, constraint: "outcome <> 'blocked'", onViolation: .drop),
            ExpectationConfig(name: "quarantine_partial", dataset: .goldRequests, constraint: "outcome <> 'partial'", onViolation: .quarantine),
        ])
        let summary = try runner(store, config).run()
        #expect(summary.expectations["warn_streams"]?.failed == 3)
        #expect(summary.expectations["drop_blocked"]?.failed == 2)
        #expect(summary.droppedRows == 2)
        #expect(summary.quarantinedRows == 1)
        let kept = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT request_id FROM gold_requests ORDER BY 1") }
        #expect(kept == ["predict-valid", "stream-valid"])
        let quarantined = try store.pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM quarantine") }
        #expect(quarantined?["request_id"] as String? == "stream-blocked-partially")
        #expect(quarantined?["failed_expectations"] as String? == #"["quarantine_partial"]"#)
        let details = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT details FROM pipeline_events WHERE event_type = 'flow_progress'") }
        let text = try #require(details)
        let json = try #require(try JSONValue.parse(text)["flow_progress"])
        #expect(json["status"] == "COMPLETED")
        let warn = json["data_quality"]?["expectations"]?.arrayValue?.first { $0["name"]?.stringValue == "warn_streams" }
        #expect(warn?["passed_records"]?.intValue == 2)
        #expect(warn?["failed_records"]?.intValue == 3)
        #expect(json["data_quality"]?["dropped_records"]?.intValue == 2)
        #expect(json["metrics"]?["num_output_rows"]?.intValue == 2)
        // A DLT event-log query, unchanged but for SQLite's JSON syntax.
        let dlt = try store.pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT json_extract(details, '$.flow_progress.status') AS status,
                       json_extract(details, '$.flow_progress.metrics.num_output_rows') AS output,
                       json_extract(details, '$.flow_progress.data_quality.dropped_records') AS dropped
                FROM pipeline_events WHERE event_type = 'flow_progress'
                """)
        }
        #expect(dlt?["status"] as String? == "COMPLETED")
        #expect(dlt?["output"] as Int? == 2)
        #expect(dlt?["dropped"] as Int? == 2)
    }

    @Test func aFailingExpectationWritesNothingOfTheBatch() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.fiveCases, into: store)
        let config = PipelineConfig(expectations: [
            ExpectationConfig(name: "no_blocks", dataset: .goldRequests, constraint: "blocked_by IS NULL", onViolation: .fail),
        ])
        #expect(throws: PipelineError.self) { try runner(store, config).run() }
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM gold_requests") } == 0)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM silver_events") } == 0)
        #expect(try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pipeline_checkpoints") } == 0)
        let failed = try store.pool.read { db in try String.fetchOne(db, sql: "SELECT event_type FROM pipeline_events ORDER BY id DESC") }
        #expect(failed == "update_failed")
        let bad = PipelineConfig(expectations: [ExpectationConfig(name: "bad", dataset: .goldRequests, constraint: "no_such_column = 1")])
        #expect(throws: PipelineError.self) { try runner(store, bad).run() }
    }

    @Test func builtinExpectationsPassOnCleanData() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.fiveCases, into: store)
        let summary = try runner(store).run()
        for name in ["stream_rows_have_stream_end", "tokens_add_up", "blocked_rows_name_their_cause", "valid_status_code"] {
            #expect(summary.expectations[name]?.failed == 0, "\(name)")
        }
    }

    /// Batches big enough to be parsed on several cores keep every row and its classification.
    @Test func largeBatchesKeepEveryRow() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.cycledCases(1500, tag: ""), into: store)
        let summary = try runner(store, PipelineConfig(batchSize: 1200)).run()
        #expect(summary.inputRows == 1500)
        let counts = try store.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT inference_case, COUNT(*) AS n FROM gold_requests GROUP BY 1")
        }
        #expect(counts.count == 5)
        #expect(counts.allSatisfy { $0["n"] as Int? == 300 })
    }

    /// Rows are read in rowid ranges across threads: gaps in the rowids (deleted bronze rows)
    /// neither lose nor repeat a row, and each batch still ends where the checkpoint says.
    @Test func gapsInBronzeRowidsLoseNothing() throws {
        let store = try Fixtures.store()
        try Fixtures.insert(Fixtures.cycledCases(1000, tag: "gap-"), into: store)
        try store.pool.write { db in try db.execute(sql: "DELETE FROM inference_table WHERE rowid % 7 = 0 OR rowid BETWEEN 300 AND 450") }
        let expected = try store.pool.read { db in try String.fetchSet(db, sql: "SELECT request_id FROM inference_table") }
        let summary = try runner(store, PipelineConfig(batchSize: 250)).run()
        #expect(summary.inputRows == expected.count)
        let gold = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT request_id FROM gold_requests") }
        #expect(gold.count == expected.count)
        #expect(Set(gold) == expected)
        #expect(try runner(store, PipelineConfig(batchSize: 250)).run().inputRows == 0)
    }
}

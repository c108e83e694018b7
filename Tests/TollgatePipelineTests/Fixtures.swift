import Foundation
import GRDB
import TollgateCore
import TollgateStore

/// Bronze rows of every shape the pipeline must survive, written into a real SQLite store.
enum Fixtures {
    static let promptFilters = #"{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}"#
    static let blockedFilters = #"{"hate":{"filtered":false,"severity":"safe"},"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}"#

    static let chatCompletion = #"{"id":"c1","object":"chat.completion","model":"gpt-4o","prompt_filter_results":[{"prompt_index":0,"content_filter_results":\#(promptFilters)}],"choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Keys link tables."},"content_filter_results":\#(promptFilters)}],"usage":{"prompt_tokens":20,"completion_tokens":4,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":5}}}"#
    static let promptBlocked = #"{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":\#(blockedFilters)}}}"#
    static let streamValid = #"[{"id":"","object":"","created":0,"model":"","choices":[],"prompt_filter_results":[{"prompt_index":0,"content_filter_results":\#(promptFilters)}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Fault"},"finish_reason":null}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":" tolerance"},"finish_reason":null}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[],"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14}}]"#
    static let streamCut = #"[{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"Once"},"finish_reason":null}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":" upon"},"finish_reason":null}]},{"id":"s","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{},"finish_reason":"content_filter","content_filter_results":\#(blockedFilters)}]}]"#
    static let llamaStream = #"[{"id":"l","object":"chat.completion.chunk","model":"smollm2","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]},{"id":"l","object":"chat.completion.chunk","model":"smollm2","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}]"#
    /// An agent that caught the content-filter error: HTTP 200 with a canned answer, the
    /// evidence only in its trace (the exception message holds the provider error as a Python repr).
    static let agentCaught = #"{"object":"response","output":[{"type":"message","role":"assistant","content":[{"type":"output_text","text":"Sorry, I can't help."}]}],"databricks_output":{"trace":{"info":{"trace_id":"tr-abc","trace_metadata":{"mlflow.trace.tokenUsage":"{\"input_tokens\": 9, \"output_tokens\": 0, \"total_tokens\": 9}"}},"data":{"spans":[{"name":"predict","attributes":{"mlflow.spanType":"\"AGENT\""},"status":{"code":"STATUS_CODE_OK"},"events":[]},{"name":"Completions","attributes":{"mlflow.spanType":"\"CHAT_MODEL\""},"status":{"code":"STATUS_CODE_ERROR"},"events":[{"name":"exception","attributes":{"exception.type":"BadRequestError","exception.message":"Error code: 400 - {'error': {'message': 'filtered', 'type': None, 'param': 'prompt', 'code': 'content_filter', 'status': 400, 'innererror': {'code': 'ResponsibleAIPolicyViolation', 'content_filter_result': {'violence': {'filtered': True, 'severity': 'high'}, 'hate': {'filtered': False, 'severity': 'safe'}}}}}"}}]}]}}}}"#

    struct Row {
        var id: String
        var stream = false
        var status = 200
        var response: String?
        var streamEnd: String?
        var api = "chat"
        var usage: (Int, Int, String)?
        var codes = "[]"
    }

    /// `count` rows cycling through the five cases, ids made unique with `tag` and the index.
    static func cycledCases(_ count: Int, tag: String) -> [Row] {
        (0..<count).map { index in
            var row = fiveCases[index % 5]
            row.id += "-\(tag)\(index)"
            return row
        }
    }

    static let fiveCases: [Row] = [
        Row(id: "predict-valid", response: chatCompletion),
        Row(id: "predict-blocked", status: 400, response: promptBlocked),
        Row(id: "stream-valid", stream: true, response: streamValid, streamEnd: "done"),
        Row(id: "stream-blocked-immediately", stream: true, status: 400, response: promptBlocked, streamEnd: "upstream_error"),
        Row(id: "stream-blocked-partially", stream: true, response: streamCut, streamEnd: "done"),
    ]

    /// Shapes beyond the five cases: an estimated-usage llama stream, a corrupt body, a stream the
    /// client cancelled, a server error, a response too large to log, a stream that timed out.
    static let otherShapes: [Row] = [
        Row(id: "llama", stream: true, response: llamaStream, streamEnd: "done", usage: (10, 1, "estimated")),
        Row(id: "corrupt", response: #"{"choices": [ oops"#),
        Row(id: "truncated-stream", stream: true, response: #"[{"choices":[{"delta":{"content":"Hi"}}]}"#, streamEnd: "client_cancelled"),
        Row(id: "server-error", status: 500, response: #"{"error":{"message":"boom","type":"server_error","code":"internal_error"}}"#),
        Row(id: "not-logged", response: nil, codes: #"["MAX_RESPONSE_SIZE_EXCEEDED"]"#),
        Row(
            id: "timeout", stream: true, status: 200, response: #"[{"error":{"message":"timed out","type":"upstream_error","code":"upstream_timeout"}}]"#,
            streamEnd: "timeout"
        ),
    ]

    static func insert(_ rows: [Row], into store: SQLiteStore, at time: String = "2026-11-25T10:00:00.000Z") throws {
        try store.pool.write { db in
            for row in rows {
                try db.execute(
                    sql: """
                        INSERT INTO inference_table (request_id, request_date, request_time, endpoint_name, served_entity_name, api, stream,
                          status_code, execution_duration_ms, request, response, stream_end, logging_error_codes)
                        VALUES (?, ?, ?, 'ep', 'ep-1', ?, ?, ?, 42, ?, ?, ?, ?)
                        """,
                    arguments: [
                        row.id, String(time.prefix(10)), time, row.api, row.stream ? 1 : 0, row.status,
                        #"{"model":"ep","messages":[{"role":"user","content":"question \#(row.id)"}]}"#, row.response, row.streamEnd, row.codes,
                    ]
                )
                if let usage = row.usage {
                    try db.execute(
                        sql: """
                            INSERT INTO endpoint_usage (request_id, endpoint_name, status_code, request_time, input_token_count,
                              output_token_count, token_count_source, request_streaming) VALUES (?, 'ep', ?, ?, ?, ?, ?, ?)
                            """,
                        arguments: [row.id, row.status, time, usage.0, usage.1, usage.2, row.stream ? 1 : 0]
                    )
                }
            }
        }
    }

    static func store() throws -> SQLiteStore {
        try SQLiteStore(path: NSTemporaryDirectory() + "tollgate-pipeline-\(UUID().uuidString).db")
    }
}

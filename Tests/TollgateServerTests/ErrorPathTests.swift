import AsyncHTTPClient
import Foundation
import HTTPTypes
import GRDB
import NIOHTTP1
import Testing
import TollgateCore

@Suite("Bad input and failing upstreams: clear errors, nothing lost")
struct ErrorPathTests {
    func expectEnvelope(_ answer: LiveGateway.Answer, status: Int, code: String) {
        #expect(answer.status == status)
        #expect(answer.json?["error"]?["code"]?.stringValue == code)
        #expect(answer.json?["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(answer.json?["error"]?["type"]?.stringValue != nil)
        #expect(!answer.requestID.isEmpty)
    }

    @Test func malformedJSONGets400AndARow() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let answer = try await gateway.post("/v1/chat/completions", body: #"{"model":"sim","messages":[{"#)
        expectEnvelope(answer, status: 400, code: "invalid_json")
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect(row["status_code"] as Int? == 400)
        #expect(row["request"] as String? == #"{"model":"sim","messages":[{"#)
        let responses = try await gateway.post("/v1/responses", body: "not json")
        expectEnvelope(responses, status: 400, code: "invalid_json")
        try await gateway.stop()
    }

    @Test func unknownEndpointRouteAndMethod() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let unknown = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("x", endpoint: "nope"))
        expectEnvelope(unknown, status: 404, code: "endpoint_not_found")
        #expect(try await gateway.rows(for: unknown.requestID).inference?["endpoint_name"] as String? == "nope")
        let invocation = try await gateway.post("/serving-endpoints/nope/invocations", body: #"{"messages":[]}"#)
        expectEnvelope(invocation, status: 404, code: "endpoint_not_found")
        expectEnvelope(try await gateway.post("/v2/whatever", body: "{}"), status: 404, code: "not_found")
        expectEnvelope(try await gateway.post("/v1/chat/completions", body: "", method: .GET), status: 405, code: "method_not_allowed")
        expectEnvelope(try await gateway.post("/v1/models", body: "{}"), status: 405, code: "method_not_allowed")
        try await gateway.stop()
    }

    @Test func oversizedBodyGets413AndARow() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(limits: "max_request_bytes: 1000"))
        let big = TestConfigs.chat(String(repeating: "a", count: 5000), endpoint: "sim")
        let answer = try await gateway.post("/serving-endpoints/sim/invocations", body: big)
        expectEnvelope(answer, status: 413, code: "request_too_large")
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect(row["status_code"] as Int? == 413)
        #expect(row["endpoint_name"] as String? == "sim")
        #expect(row["logging_error_codes"] as String? == #"["MAX_REQUEST_SIZE_EXCEEDED"]"#)
        try await gateway.stop()
    }

    @Test func payloadsOverTheLogLimitAreStoredNullWithCodes() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(limits: "log_payload_limit_bytes: 300"))
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat(String(repeating: "word ", count: 100)))
        #expect(answer.status == 200)
        let rows = try await gateway.rows(for: answer.requestID)
        let row = try #require(rows.inference)
        #expect(row["request"] as String? == nil)
        #expect(row["response"] as String? == nil)
        #expect(row["logging_error_codes"] as String? == #"["MAX_REQUEST_SIZE_EXCEEDED","MAX_RESPONSE_SIZE_EXCEEDED"]"#)
        #expect(rows.usage?["token_count_source"] as String? == "reported")
        try await gateway.stop()
    }

    @Test func refusedUpstreamGets502() async throws {
        let yaml = """
            store: STORE
            providers: [{name: down, kind: openai, base_url: "http://127.0.0.1:1/v1"}]
            endpoints:
              - {name: down, config: {served_entities: [{name: d, external_model: {provider: down, name: m}}]}}
            """
        let gateway = try await LiveGateway.start(yaml: yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("x", endpoint: "down"))
        expectEnvelope(answer, status: 502, code: "upstream_unreachable")
        let stream = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("x", endpoint: "down", stream: true))
        expectEnvelope(stream, status: 502, code: "upstream_unreachable")
        let row = try #require(try await gateway.rows(for: stream.requestID).inference)
        #expect(row["stream_end"] as String? == "upstream_error")
        try await gateway.stop()
    }

    @Test func stalledUpstreamGets504() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(limits: "upstream_timeout_seconds: 0.5"))
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("sim:stall"))
        expectEnvelope(answer, status: 504, code: "upstream_timeout")
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect(row["status_code"] as Int? == 504)
        try await gateway.stop()
    }

    @Test func invalidUpstreamJSONGets502WithRawBytesKept() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("sim:invalid_json"))
        expectEnvelope(answer, status: 502, code: "upstream_invalid_response")
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect((row["response"] as String?)?.contains("upstream proxy error: not json") == true)
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("sim:invalid_json", stream: true))
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        #expect(events.last.flatMap { try? JSONValue.parse($0.data) }?["error"]?["code"]?.stringValue == "upstream_invalid_response")
        let streamRow = try #require(try await gateway.rows(for: requestID).inference)
        #expect(streamRow["stream_end"] as String? == "upstream_error")
        #expect((streamRow["response"] as String?)?.contains("oops not json") == true)
        try await gateway.stop()
    }

    /// A stream whose first event is broken fails before any byte reached the client: a plain 502.
    @Test func streamBrokenBeforeItsFirstChunkGets502() async throws {
        let yaml = TestConfigs.simulator(simulator: "{scenarios: [{match: garbage, outcome: invalid_json, after_chunks: 0}]}")
        let gateway = try await LiveGateway.start(yaml: yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("garbage", stream: true))
        expectEnvelope(answer, status: 502, code: "upstream_invalid_response")
        #expect(answer.headers["content-type"] == "application/json")
        let row = try #require(try await gateway.rows(for: answer.requestID).inference)
        #expect(row["status_code"] as Int? == 502)
        #expect(row["stream_end"] as String? == "upstream_error")
        #expect((row["response"] as String?)?.contains("oops not json") == true)
        let responses = try await gateway.post("/v1/responses", body: #"{"model":"sim","input":"garbage","stream":true}"#)
        expectEnvelope(responses, status: 502, code: "upstream_invalid_response")
        try await gateway.stop()
    }

    @Test func upstreamErrorsPassThroughWithTheirStatus() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let blocked = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("How do I rob a bank without getting caught?"))
        #expect(blocked.status == 400)
        #expect(blocked.json?["error"]?["code"]?.stringValue == "content_filter")
        #expect(blocked.json?["error"]?["innererror"]?["content_filter_result"]?["violence"]?["filtered"]?.boolValue == true)
        let limited = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("sim:rate_limited", stream: true))
        #expect(limited.status == 429)
        let row = try #require(try await gateway.rows(for: limited.requestID).inference)
        #expect(row["status_code"] as Int? == 429)
        #expect(row["stream"] as Int? == 1)
        let (_, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("a story about planning a crime", stream: true))
        let chunks = try await reader.all().dropLast().compactMap { try? JSONValue.parse($0.data) }
        #expect(chunks.compactMap(ChatCompletionText.finishReason(of:)).last == "content_filter")
        try await gateway.stop()
    }

    @Test func secretsNeverReachTheStore() async throws {
        let yaml = """
            store: STORE
            providers: [{name: sim, kind: simulator, api_key: "${UPSTREAM_KEY}"}]
            endpoints:
              - {name: sim, config: {served_entities: [{name: s, external_model: {provider: sim, name: m}}]}}
            """
        let gateway = try await LiveGateway.start(yaml: yaml, environment: ["UPSTREAM_KEY": "sk-upstream-secret-123"])
        let answer = try await gateway.post(
            "/v1/chat/completions", body: TestConfigs.chat("hi"), headers: ["authorization": "Bearer sk-client-secret-456"]
        )
        #expect(answer.status == 200)
        _ = try await gateway.rows(for: answer.requestID)
        try await gateway.stop()
        for file in [gateway.dbPath, gateway.dbPath + "-wal"] {
            let bytes = String(decoding: FileManager.default.contents(atPath: file) ?? Data(), as: UTF8.self)
            #expect(!bytes.contains("sk-upstream-secret-123"))
            #expect(!bytes.contains("sk-client-secret-456"))
        }
    }
}

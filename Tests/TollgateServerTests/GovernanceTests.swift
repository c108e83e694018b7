import Foundation
import GRDB
import Testing
import TollgateCore

/// Keys and permissions, rate limits, guardrails, fallbacks and metrics over real sockets.
@Suite("Governance")
struct GovernanceTests {
    static let admin = ["authorization": "Bearer test-admin"]

    static func config(auth: String = "keys", gateway: String = "{}", permissions: String = "[]", extraEndpoints: String = "") -> String {
        """
        store: STORE
        server: {admin_token: test-admin, auth: \(auth)}
        providers:
          - name: sim
            kind: simulator
            simulator:
              scenarios:
                - {match: "pick a lock", reply: "UNSAFE"}
                - {match: "Text:", reply: "SAFE"}
          - name: down
            kind: openai
            base_url: http://127.0.0.1:1/v1
        endpoints:
          - name: sim
            permissions: \(permissions)
            ai_gateway: \(gateway)
            config:
              served_entities:
                - name: sim-a
                  external_model: {provider: sim, name: gpt-sim}
        \(extraEndpoints)
        """
    }

    static func key(_ gateway: LiveGateway, owner: String, groups: [String] = []) async throws -> (key: String, id: String) {
        let groupList = groups.map { JSONValue.quoted($0) }.joined(separator: ",")
        let answer = try await gateway.post("/api/2.0/tollgate/keys", body: #"{"owner":"\#(owner)","groups":[\#(groupList)]}"#, headers: admin)
        let json = try #require(answer.json)
        return (try #require(json["key"]?.stringValue), try #require(json["key_id"]?.stringValue))
    }

    @Test func keysAuthenticateAndFillTheRequester() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.config())
        let missing = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"))
        #expect(missing.status == 401)
        #expect(missing.json?["error"]?["code"]?.stringValue == "invalid_api_key")
        #expect(try await gateway.rows(for: missing.requestID).inference?["status_code"] as Int? == 401)
        let repeated = try await gateway.post("/api/2.0/tollgate/keys", body: #"{"owner":"a@example.com","owner":"b@example.com"}"#, headers: Self.admin)
        #expect(repeated.status == 400)
        let wrong = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"), headers: ["authorization": "Bearer tg-nope"])
        #expect(wrong.status == 401)
        let (key, id) = try await Self.key(gateway, owner: "alice@example.com", groups: ["data-eng"])
        #expect(key.hasPrefix("tg-") && key.count >= 35)
        let ok = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"), headers: ["api-key": key])
        #expect(ok.status == 200)
        let rows = try await gateway.rows(for: ok.requestID)
        #expect(rows.inference?["requester"] as String? == "alice@example.com")
        #expect(rows.inference?["key_id"] as String? == id)
        #expect(rows.inference?["requester_groups"] as String? == #"["data-eng"]"#)
        #expect(rows.usage?["requester"] as String? == "alice@example.com")
        #expect(rows.usage?["key_id"] as String? == id)
        let stored = try await DatabaseQueue(path: gateway.dbPath).read { db in try String.fetchAll(db, sql: "SELECT key_hash FROM api_keys") }
        #expect(stored.count == 1 && stored[0].count == 64 && !stored[0].contains(key))
        let revoked = try await gateway.post("/api/2.0/tollgate/keys/\(id)", body: "", headers: Self.admin, method: .DELETE)
        #expect(revoked.status == 200)
        let after = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"), headers: ["authorization": "Bearer \(key)"])
        #expect(after.status == 401)
        try await gateway.stop()
    }

    @Test func permissionsRefuseAndFilterTheModelList() async throws {
        let other = """
          - name: open
            config:
              served_entities:
                - name: open-a
                  external_model: {provider: sim, name: gpt-sim}
        """
        let gateway = try await LiveGateway.start(yaml: Self.config(permissions: "[{group: data-eng, level: CAN_QUERY}, {user: bob@example.com, level: CAN_VIEW}]", extraEndpoints: other))
        let (alice, _) = try await Self.key(gateway, owner: "alice@example.com", groups: ["data-eng"])
        let (bob, _) = try await Self.key(gateway, owner: "bob@example.com")
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi"), headers: ["authorization": "Bearer \(alice)"]).status == 200)
        let denied = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi"), headers: ["authorization": "Bearer \(bob)"])
        #expect(denied.status == 403)
        #expect(denied.json?["error"]?["code"]?.stringValue == "permission_denied")
        #expect(try await gateway.rows(for: denied.requestID).inference?["requester"] as String? == "bob@example.com")
        let listed = try await gateway.post("/v1/models", body: "", headers: ["authorization": "Bearer \(bob)"], method: .GET)
        #expect(listed.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["open"])
        let all = try await gateway.post("/v1/models", body: "", headers: ["authorization": "Bearer \(alice)"], method: .GET)
        #expect(all.json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } == ["open", "sim"])
        #expect(try await gateway.post("/v1/models", body: "", method: .GET).status == 401)
        // A stored response is read only by who may query the endpoint that stored it.
        let stored = try await gateway.post("/v1/responses", body: #"{"model":"sim","input":"hi"}"#, headers: ["authorization": "Bearer \(alice)"])
        let id = try #require(stored.json?["id"]?.stringValue)
        #expect(try await gateway.post("/v1/responses/\(id)", body: "", headers: ["authorization": "Bearer \(alice)"], method: .GET).status == 200)
        #expect(try await gateway.post("/v1/responses/\(id)", body: "", headers: ["authorization": "Bearer \(bob)"], method: .GET).status == 404)
        #expect(try await gateway.post("/v1/responses/\(id)", body: "", method: .GET).status == 401)
        let continued = #"{"model":"open","input":"more","previous_response_id":"\#(id)"}"#
        #expect(try await gateway.post("/v1/responses", body: continued, headers: ["authorization": "Bearer \(bob)"]).status == 404)
        // Names that are not endpoints share one metric label.
        _ = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "no-such-endpoint-7"), headers: ["authorization": "Bearer \(alice)"])
        let metrics = try await gateway.post("/metrics", body: "", method: .GET)
        #expect(!metrics.body.contains("no-such-endpoint-7") && metrics.body.contains(#"endpoint="(unknown)""#))
        try await gateway.stop()
    }

    @Test func aCallLimitAdmitsExactlyItsCallsUnderConcurrency() async throws {
        let limit = 25
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: "{rate_limits: [{key: endpoint, calls: \(limit), renewal_period: minute}]}"))
        // 64 connections for 10 seconds (a load, not a timing assertion).
        let until = ContinuousClock.now + .seconds(10)
        let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var seen: [Int] = []
                    while ContinuousClock.now < until {
                        seen.append(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello")).status)
                    }
                    return seen
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(statuses.filter { $0 == 200 }.count == limit)
        #expect(statuses.filter { $0 == 429 }.count == statuses.count - limit)
        let refused = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"))
        #expect(refused.status == 429)
        #expect(refused.json?["error"]?["code"]?.stringValue == "rate_limit_exceeded")
        #expect(Int(refused.headers["retry-after"] ?? "") ?? 0 >= 1)
        #expect(refused.headers["x-ratelimit-limit-requests"] == String(limit))
        #expect(refused.headers["x-ratelimit-remaining-requests"] == "0")
        #expect(refused.headers["x-ratelimit-reset-requests"] != nil)
        let row = try #require(try await gateway.rows(for: refused.requestID).inference)
        #expect(row["status_code"] as Int? == 429)
        let fired = try JSONValue.parse(try #require(row["rate_limit"] as String?))
        #expect(fired["key"]?.stringValue == "endpoint" && fired["dimension"]?.stringValue == "calls" && fired["limit"]?.intValue == limit)
        try await gateway.stop()
    }

    @Test func aTokenLimitHoldsWithinTwoPercentUnderConcurrency() async throws {
        let limit = 3000
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: "{rate_limits: [{key: endpoint, tokens: \(limit)}]}"))
        let body = TestConfigs.chat("hello there", extra: #","max_tokens":20"#)
        let admitted = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<64 {
                group.addTask {
                    var ids: [String] = []
                    for _ in 0..<4 {
                        let answer = try await gateway.post("/v1/chat/completions", body: body)
                        if answer.status == 200 { ids.append(answer.requestID) }
                    }
                    return ids
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let rows = try await gateway.waitForRows("SELECT input_token_count + output_token_count AS t FROM endpoint_usage WHERE status_code = 200", count: admitted.count)
        let used = rows.reduce(0) { $0 + ($1["t"] as Int? ?? 0) }
        #expect(rows.count == admitted.count && admitted.count > 10)
        #expect(Double(used) <= Double(limit) * 1.02)
        #expect(Double(used) >= Double(limit) * 0.98)
        try await gateway.stop()
    }

    @Test func aTokenLimitCutsAStreamThatRunsPastIt() async throws {
        // The request names no max_tokens: 5 are reserved, and the answer runs past the 40 allowed.
        let yaml = "limits: {default_output_tokens: 5}\n" + Self.config(auth: "none", gateway: "{rate_limits: [{key: endpoint, tokens: 40}]}")
        let gateway = try await LiveGateway.start(yaml: yaml)
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("tell me a long story", stream: true))
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        #expect(response.headers.first(name: "x-ratelimit-limit-tokens") == "40")
        let events = try await reader.all()
        #expect(events.contains { $0.data.contains("rate_limit_exceeded") })
        #expect(events.last?.data == "[DONE]")
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["stream_end"] as String? == "rate_limited")
        try await gateway.stop()
    }

    @Test func inputGuardrailsMaskBeforeTheUpstreamAndBlockInAzureShape() async throws {
        let rails = "{guardrails: {input: {pii: {behavior: MASK}, invalid_keywords: [heist]}}}"
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: rails))
        let masked = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("mail bob@example.com or call +44 20 7946 0958"))
        #expect(masked.status == 200)
        let echoed = ChatCompletionText.text(ofCompletion: try #require(masked.json))
        #expect(echoed.contains("[EMAIL]") && echoed.contains("[PHONE_NUMBER]") && !echoed.contains("bob@example.com"))
        let row = try #require(try await gateway.rows(for: masked.requestID).inference)
        let recorded = try JSONValue.parse(try #require(row["guardrails"] as String?))
        #expect(recorded["input"]?["pii"]?["action"]?.stringValue == "MASK")
        let blocked = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("plan the heist"))
        #expect(blocked.status == 400)
        #expect(blocked.json?["error"]?["code"]?.stringValue == "content_filter")
        #expect(blocked.json?["error"]?["innererror"]?["content_filter_result"]?["invalid_keywords"]?["filtered"]?.boolValue == true)
        try await gateway.stop()
    }

    @Test func theJudgeBlocksUnsafeInputAndFailsClosed() async throws {
        let rails = "{guardrails: {input: {safety: true, judge: {endpoint: judge}}}}"
        let judge = """
          - name: judge
            config:
              served_entities:
                - name: judge-a
                  external_model: {provider: sim, name: judge-model}
        """
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: rails, extraEndpoints: judge))
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("how do I pick a lock")).status == 400)
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("what is the weather")).status == 200)
        let judged = try await gateway.waitForRows("SELECT * FROM inference_table WHERE requester = 'tollgate-guardrail'", count: 2)
        #expect(judged.count == 2)
        try await gateway.stop()
    }

    @Test func outputGuardrailsMaskAndCutStreams() async throws {
        let rails = "{guardrails: {output: {pii: {behavior: MASK}, invalid_keywords: [forbidden]}}}"
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: rails))
        let (_, maskedReader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("write to carol@example.com please", stream: true))
        let text = try await maskedReader.all().compactMap { try? JSONValue.parse($0.data) }.map(ChatCompletionText.delta(ofChunk:)).joined()
        #expect(text.contains("[EMAIL]") && !text.contains("carol@example.com"))
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("say the forbidden word now", stream: true))
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        let chunks = events.compactMap { try? JSONValue.parse($0.data) }
        #expect(chunks.compactMap(ChatCompletionText.finishReason(of:)).last == "content_filter")
        #expect(!chunks.map(ChatCompletionText.delta(ofChunk:)).joined().contains("forbidden"))
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["stream_end"] as String? == "content_filter")
        try await gateway.stop()
    }

    @Test func anOutputGuardrailEndsAResponsesStreamAsIncomplete() async throws {
        let rails = "{guardrails: {output: {invalid_keywords: [forbidden]}}}"
        let gateway = try await LiveGateway.start(yaml: Self.config(auth: "none", gateway: rails))
        let body = #"{"model":"sim","stream":true,"input":"say the forbidden word now"}"#
        let (response, reader) = try await gateway.openStream("/v1/responses", body: body)
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        #expect(events.last?.event == "response.incomplete")
        let final = try JSONValue.parse(try #require(events.last?.data))
        #expect(final["response"]?["incomplete_details"]?["reason"]?.stringValue == "content_filter")
        #expect(!events.contains { $0.event == "response.output_text.delta" && $0.data.contains("forbidden") })
        #expect(try await gateway.rows(for: requestID).inference?["stream_end"] as String? == "content_filter")
        let health = try await gateway.post("/health/live", body: "", method: .GET)
        #expect(health.headers["x-tollgate-overhead-ms"] != nil)
        try await gateway.stop()
    }

    @Test func aFailingEntityFallsBackToTheNextOne() async throws {
        let yaml = Self.config(auth: "none", gateway: "{fallback_config: {enabled: true}}").replacingOccurrences(of: """
                - name: sim-a
                  external_model: {provider: sim, name: gpt-sim}
        """, with: """
                - name: broken
                  external_model: {provider: down, name: gpt-down}
                - name: sim-a
                  external_model: {provider: sim, name: gpt-sim}
              traffic_config: {routes: [{served_entity_name: broken, traffic_percentage: 100}, {served_entity_name: sim-a, traffic_percentage: 0}]}
        """)
        let gateway = try await LiveGateway.start(yaml: yaml)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello"))
        #expect(answer.status == 200)
        #expect(answer.headers["served-model-name"] == "sim-a")
        let rows = try await gateway.rows(for: answer.requestID)
        #expect(rows.inference?["served_entity_name"] as String? == "sim-a")
        #expect(rows.usage?["served_entity_name"] as String? == "sim-a")
        let attempts = try JSONValue.parse(try #require(rows.inference?["fallback_attempts"] as String?)).arrayValue ?? []
        #expect(attempts.compactMap { $0["entity"]?.stringValue } == ["broken", "sim-a"])
        #expect(attempts.first?["status"]?.intValue == 502)
        let metrics = try await gateway.post("/metrics", body: "", method: .GET)
        #expect(metrics.body.contains("tollgate_fallbacks_total{"))
        #expect(metrics.body.contains("tollgate_requests_total{"))
        #expect(answer.headers["x-tollgate-overhead-ms"] != nil)
        try await gateway.stop()
    }
}

import AsyncHTTPClient
import Foundation
import HTTPTypes
import GRDB
import Testing
import TollgateCore

@Suite("Chat, Responses and invocations over real sockets")
struct ChatAndStreamTests {
    @Test func chatCompletionIsRelayedAndRecorded() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello there"))
        #expect(answer.status == 200)
        #expect(answer.headers["served-model-name"] == "sim-a")
        #expect(answer.json?["object"]?.stringValue == "chat.completion")
        #expect(answer.json?["prompt_filter_results"] != nil)
        let rows = try await gateway.rows(for: answer.requestID)
        let row = try #require(rows.inference)
        #expect(row["endpoint_name"] as String? == "sim")
        #expect(row["served_entity_id"] as String? == "sim-a/1")
        #expect(row["api"] as String? == "chat")
        #expect(row["stream"] as Int? == 0)
        #expect(row["status_code"] as Int? == 200)
        #expect(row["response"] as String? == answer.body)
        #expect(row["stream_end"] as String? == nil)
        #expect(row["logging_error_codes"] as String? == "[]")
        let requestTime = try #require(row["request_time"] as String?)
        #expect(requestTime.hasSuffix("Z"))
        #expect(row["request_date"] as String? == String(requestTime.prefix(10)))
        let usage = try #require(rows.usage)
        #expect(usage["token_count_source"] as String? == "reported")
        #expect((usage["output_token_count"] as Int? ?? 0) > 0)
        try await gateway.stop()
    }

    @Test func streamIsRelayedEventByEventAndRecordedInOrder() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("tell me", stream: true))
        #expect(response.headers.first(name: "content-type") == "text/event-stream")
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        #expect(events.last?.data == "[DONE]")
        let payloads = events.dropLast().map(\.data)
        let rows = try await gateway.rows(for: requestID)
        let row = try #require(rows.inference)
        #expect(row["stream"] as Int? == 1)
        #expect(row["stream_end"] as String? == "done")
        let stored = try JSONValue.parse(try #require(row["response"] as String?)).arrayValue ?? []
        #expect(stored.count == payloads.count)
        #expect(stored == payloads.map { try! JSONValue.parse($0) })
        #expect((row["time_to_first_token_ms"] as Int?) != nil)
        #expect(rows.usage?["token_count_source"] as String? == "estimated")
        try await gateway.stop()
    }

    /// The upstream sends two chunks and then stalls: the client must already have them.
    @Test func chunksArriveBeforeTheUpstreamFinishes() async throws {
        let yaml = TestConfigs.simulator(limits: "upstream_timeout_seconds: 2", simulator: "{scenarios: [{match: hold, outcome: stall, after_chunks: 2}]}")
        let gateway = try await LiveGateway.start(yaml: yaml)
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("hold on", stream: true))
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        var content = ""
        var received = 0
        while received < 2, let event = try await reader.next() {
            if let delta = (try? JSONValue.parse(event.data)).map(ChatCompletionText.delta(ofChunk:)), !delta.isEmpty {
                content += delta
                received += 1
            }
        }
        #expect(received == 2)
        #expect(content == "This is")
        let rest = try await reader.all()
        #expect(rest.last.flatMap { try? JSONValue.parse($0.data) }?["error"]?["code"]?.stringValue == "upstream_timeout")
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["stream_end"] as String? == "timeout")
        try await gateway.stop()
    }

    @Test func clientDisconnectMidStreamIsRecorded() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(simulator: "{tokens_per_second: 20}"))
        let requestID: String
        do {
            let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("go slowly", stream: true))
            requestID = try #require(response.headers.first(name: "x-request-id"))
            var contentChunks = 0
            while contentChunks < 2, let event = try await reader.next() {
                if (try? JSONValue.parse(event.data)).map(ChatCompletionText.delta(ofChunk:))?.isEmpty == false { contentChunks += 1 }
            }
        }
        // The response and its reader are gone: the client has hung up.
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["stream_end"] as String? == "client_cancelled")
        let stored = try JSONValue.parse(try #require(row["response"] as String?)).arrayValue ?? []
        #expect(stored.count >= 3)
        #expect(stored.count < 20)
        try await gateway.stop()
    }

    @Test func responsesStreamEmitsTheFullEventSequence() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let body = #"{"model":"sim","input":"Say something","stream":true}"#
        let (response, reader) = try await gateway.openStream("/v1/responses", body: body)
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        let types = events.compactMap(\.event)
        var distinct: [String] = []
        for type in types where distinct.last != type { distinct.append(type) }
        #expect(distinct == [
            "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            "response.output_text.delta", "response.output_text.done", "response.content_part.done",
            "response.output_item.done", "response.completed",
        ])
        let sequence = events.compactMap { try? JSONValue.parse($0.data)["sequence_number"]?.intValue }
        #expect(sequence == Array(0..<events.count))
        let deltas = events.filter { $0.event == "response.output_text.delta" }.compactMap { try? JSONValue.parse($0.data)["delta"]?.stringValue }.joined()
        let done = events.first { $0.event == "response.output_item.done" }.flatMap { try? JSONValue.parse($0.data) }
        #expect(done?["item"]?["content"]?[0]?["text"]?.stringValue == deltas)
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["api"] as String? == "responses")
        #expect(row["stream_end"] as String? == "done")
        try await gateway.stop()
    }

    @Test func invocationsRecordDatabricksFields() async throws {
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator())
        let body = #"{"messages":[{"role":"user","content":"hi"}],"client_request_id":"abc-1","usage_context":{"team":"data"}}"#
        let answer = try await gateway.post("/serving-endpoints/sim/invocations", body: body)
        #expect(answer.status == 200)
        #expect(answer.json?["choices"] != nil)
        let rows = try await gateway.rows(for: answer.requestID)
        #expect(rows.inference?["client_request_id"] as String? == "abc-1")
        #expect(rows.inference?["api"] as String? == "invocations")
        #expect(rows.usage?["usage_context"] as String? == #"{"team":"data"}"#)
        let responses = try await gateway.post("/serving-endpoints/sim/invocations", body: #"{"input":[{"role":"user","content":"hi"}]}"#)
        #expect(responses.json?["object"]?.stringValue == "response")
        try await gateway.stop()
    }

    @Test func trafficSplitUsesEveryRoutedEntity() async throws {
        let yaml = """
            store: STORE
            providers: [{name: sim, kind: simulator}]
            endpoints:
              - name: split
                config:
                  served_entities:
                    - {name: a, external_model: {provider: sim, name: m}}
                    - {name: b, external_model: {provider: sim, name: m}}
                    - {name: c, external_model: {provider: sim, name: m}}
                  traffic_config:
                    routes:
                      - {served_entity_name: a, traffic_percentage: 50}
                      - {served_entity_name: b, traffic_percentage: 50}
                      - {served_entity_name: c, traffic_percentage: 0}
            """
        let gateway = try await LiveGateway.start(yaml: yaml)
        var seen: [String: Int] = [:]
        for _ in 0..<40 {
            let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("x", endpoint: "split"))
            seen[answer.headers["served-model-name"] ?? "", default: 0] += 1
        }
        #expect(seen["a", default: 0] > 0)
        #expect(seen["b", default: 0] > 0)
        #expect(seen["c"] == nil)
        try await gateway.stop()
    }

    /// Requests in flight when shutdown starts still complete, and every row reaches the store.
    @Test func shutdownFinishesInFlightRequestsAndDrainsEveryRow() async throws {
        let yaml = TestConfigs.simulator(simulator: "{latency_ms: 1000}") + "\nserver: {admin_token: t}"
        let gateway = try await LiveGateway.start(yaml: yaml)
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<6 {
                group.addTask { try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("n\(index)")).status }
            }
            // Stop once all six are in flight (on a busy machine some take a while to connect; six and
            // this poll stay within the HTTP client's eight connections per host).
            for _ in 0..<400 {
                let versions = try await gateway.post(
                    "/api/2.0/serving-endpoints/sim/versions", body: "", headers: ["authorization": "Bearer t"], method: .GET
                )
                if versions.json?["versions"]?[0]?["in_flight"]?.intValue == 6 { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            try await gateway.stop()
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 6))
        #expect(try gateway.count("inference_table") == 6)
        #expect(try gateway.count("endpoint_usage") == 6)
    }
}

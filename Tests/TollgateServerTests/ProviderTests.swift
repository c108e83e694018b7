import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Testing
import TollgateCore

/// A scripted Azure OpenAI and Anthropic upstream on 127.0.0.1:0 that checks what the gateway sends.
enum FakeUpstream {
    static func start() async throws -> (port: Int, task: Task<Void, any Error>) {
        let router = Router()
        router.post("/openai/deployments/{deployment}/chat/completions") { request, context -> Response in
            guard request.headers[HTTPField.Name("api-key")!] == "azure-key",
                  request.uri.queryParameters.get("api-version") == "2024-10-21",
                  context.parameters.get("deployment") == "gpt-4o-deploy"
            else { return json(401, #"{"error":{"message":"bad azure request","type":"invalid_request_error","code":"401"}}"#) }
            return json(200, #"{"id":"c1","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"azure says hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}"#)
        }
        router.post("/openai/deployments/{deployment}/embeddings") { request, context -> Response in
            guard request.headers[HTTPField.Name("api-key")!] == "azure-key", request.uri.queryParameters.get("api-version") == "2024-10-21",
                  context.parameters.get("deployment") == "gpt-4o-deploy"
            else { return json(401, #"{"error":{"message":"bad azure request","type":"invalid_request_error","code":"401"}}"#) }
            return json(200, #"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.6,0.8]}],"model":"ada","usage":{"prompt_tokens":3,"total_tokens":3}}"#)
        }
        router.post("/v1/chat/completions") { _, _ -> Response in
            json(200, #"{"id":"c2","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"cached"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":100,"total_tokens":1100,"prompt_tokens_details":{"cached_tokens":400}}}"#)
        }
        router.post("/v1/messages") { request, _ -> Response in
            guard request.headers[HTTPField.Name("x-api-key")!] == "anthropic-key",
                  request.headers[HTTPField.Name("anthropic-version")!] != nil
            else { return json(401, #"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#) }
            let body = try await request.body.collect(upTo: 1 << 20)
            let parsed = try JSONValue.parse(body.readableBytesView)
            guard parsed["system"]?.stringValue == "be brief", parsed["max_tokens"]?.intValue == 1024 else {
                return json(400, #"{"type":"error","error":{"type":"invalid_request_error","message":"unexpected body"}}"#)
            }
            if parsed["messages"]?[0]?["content"]?.stringValue == "overload" {
                return json(529, #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            }
            if parsed["stream"]?.boolValue == true {
                let events = [
                    ("message_start", #"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":7,"output_tokens":1}}}"#),
                    ("content_block_start", #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#),
                    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}"#),
                    ("content_block_delta", #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" world"}}"#),
                    ("content_block_stop", #"{"type":"content_block_stop","index":0}"#),
                    ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":2}}"#),
                    ("message_stop", #"{"type":"message_stop"}"#),
                ]
                let text = events.map { "event: \($0.0)\ndata: \($0.1)\n\n" }.joined()
                var headers = HTTPFields()
                headers[.contentType] = "text/event-stream"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            return json(200, #"{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"text","text":"Hello world"}],"stop_reason":"end_turn","usage":{"input_tokens":7,"output_tokens":2}}"#)
        }
        var logger = Logger(label: "fake-upstream")
        logger.logLevel = .warning
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger
        )
        let task = Task { try await app.run() }
        for await port in ports { return (port, task) }
        return (0, task)
    }

    static func json(_ status: Int, _ body: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

@Suite("Azure OpenAI and Anthropic providers")
struct ProviderTests {
    func gateway(upstreamPort: Int) async throws -> LiveGateway {
        let yaml = """
            store: STORE
            providers:
              - {name: azure, kind: azure-openai, base_url: "http://127.0.0.1:\(upstreamPort)", api_key: "${AZ_KEY}", api_version: "2024-10-21"}
              - {name: claude, kind: anthropic, base_url: "http://127.0.0.1:\(upstreamPort)", api_key: "${AN_KEY}"}
            endpoints:
              - {name: az, config: {served_entities: [{name: az-1, external_model: {provider: azure, name: gpt-4o-deploy}}]}}
              - {name: claude, config: {served_entities: [{name: claude-1, external_model: {provider: claude, name: claude-x}}]}}
            """
        return try await LiveGateway.start(yaml: yaml, environment: ["AZ_KEY": "azure-key", "AN_KEY": "anthropic-key"])
    }

    @Test func azureUsesDeploymentURLVersionAndKeyHeader() async throws {
        let upstream = try await FakeUpstream.start()
        let gateway = try await gateway(upstreamPort: upstream.port)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "az"))
        #expect(answer.status == 200)
        #expect(ChatCompletionText.text(ofCompletion: try #require(answer.json)) == "azure says hi")
        // Embeddings go to the deployment's embeddings path, with the same version and key.
        let embedded = try await gateway.post("/v1/embeddings", body: #"{"model":"az","input":"vector"}"#)
        #expect(embedded.status == 200)
        #expect(embedded.json?["data"]?[0]?["embedding"]?[1]?.doubleValue == 0.8)
        let usage = try #require(try await gateway.rows(for: embedded.requestID).usage)
        #expect(usage["input_token_count"] as Int? == 3)
        #expect(usage["output_token_count"] as Int? == 0)
        // Anthropic has no embeddings API: refused before any call.
        #expect(try await gateway.post("/v1/embeddings", body: #"{"model":"claude","input":"x"}"#).status == 400)
        try await gateway.stop()
        upstream.task.cancel()
    }

    @Test func anthropicIsTranslatedBothWays() async throws {
        let upstream = try await FakeUpstream.start()
        let gateway = try await gateway(upstreamPort: upstream.port)
        let body = #"{"model":"claude","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"#
        let answer = try await gateway.post("/v1/chat/completions", body: body)
        #expect(answer.status == 200)
        let json = try #require(answer.json)
        #expect(json["object"]?.stringValue == "chat.completion")
        #expect(ChatCompletionText.text(ofCompletion: json) == "Hello world")
        #expect(json["usage"]?["total_tokens"]?.intValue == 9)

        let streamBody = #"{"model":"claude","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"#
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: streamBody)
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        let events = try await reader.all()
        #expect(events.last?.data == "[DONE]")
        let chunks = events.dropLast().compactMap { try? JSONValue.parse($0.data) }
        #expect(chunks.map(ChatCompletionText.delta(ofChunk:)).joined() == "Hello world")
        #expect(chunks.compactMap(ChatCompletionText.finishReason(of:)) == ["stop"])
        let usage = try #require(try await gateway.rows(for: requestID).usage)
        #expect(usage["token_count_source"] as String? == "reported")
        #expect(usage["input_token_count"] as Int? == 7)
        #expect(usage["output_token_count"] as Int? == 2)

        let overloaded = try await gateway.post(
            "/v1/chat/completions", body: #"{"model":"claude","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"overload"}]}"#
        )
        #expect(overloaded.status == 529)
        #expect(overloaded.json?["error"]?["message"]?.stringValue == "Overloaded")
        try await gateway.stop()
        upstream.task.cancel()
    }
}

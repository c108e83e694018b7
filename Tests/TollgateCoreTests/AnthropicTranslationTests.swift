import Testing
@testable import TollgateCore

@Suite("Anthropic translation")
struct AnthropicTranslationTests {
    private func request(_ body: JSONValue) -> JSONObject { body.objectValue! }

    // MARK: - Requests

    @Test func systemAndDeveloperMessagesMergeIntoSystemAndMaxTokensDefaults() {
        let out = AnthropicTranslation.messagesRequest(fromChat: request([
            "model": "claude",
            "messages": [
                ["role": "system", "content": "Be brief."],
                ["role": "developer", "content": [["type": "text", "text": "Answer in French."]]],
                ["role": "user", "content": "Hi"],
            ],
        ]), upstreamModel: "claude-sonnet-4-5")
        #expect(JSONValue.object(out) == [
            "model": "claude-sonnet-4-5",
            "system": "Be brief.\n\nAnswer in French.",
            "messages": [["role": "user", "content": "Hi"]],
            "max_tokens": 1024,
        ])
    }

    @Test func assistantToolCallsAndToolMessagesBecomeToolUseAndMergedToolResults() {
        let parameters: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]
        let out = AnthropicTranslation.messagesRequest(fromChat: request([
            "model": "claude",
            "messages": [
                ["role": "user", "content": "Weather in Paris and Rome?"],
                ["role": "assistant", "content": nil, "tool_calls": [
                    ["id": "call_1", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\"}"]],
                    ["id": "call_2", "type": "function", "function": ["name": "get_weather", "arguments": "{\"city\":\"Rome\"}"]],
                ]],
                ["role": "tool", "tool_call_id": "call_1", "content": "18C"],
                ["role": "tool", "tool_call_id": "call_2", "content": "21C"],
            ],
            "tools": [["type": "function", "function": [
                "name": "get_weather", "description": "Current weather", "parameters": parameters,
            ]]],
            "tool_choice": "required",
            "max_completion_tokens": 300,
        ]), upstreamModel: "claude-sonnet-4-5")
        #expect(out["messages"] == [
            ["role": "user", "content": "Weather in Paris and Rome?"],
            ["role": "assistant", "content": [
                ["type": "tool_use", "id": "call_1", "name": "get_weather", "input": ["city": "Paris"]],
                ["type": "tool_use", "id": "call_2", "name": "get_weather", "input": ["city": "Rome"]],
            ]],
            ["role": "user", "content": [
                ["type": "tool_result", "tool_use_id": "call_1", "content": "18C"],
                ["type": "tool_result", "tool_use_id": "call_2", "content": "21C"],
            ]],
        ])
        #expect(out["tools"] == [["name": "get_weather", "description": "Current weather", "input_schema": parameters]])
        #expect(out["tool_choice"] == ["type": "any"])
        #expect(out["max_tokens"] == 300)
    }

    @Test(arguments: [
        ("auto", ["type": "auto"]),
        ("none", ["type": "none"]),
        ("required", ["type": "any"]),
        (["type": "function", "function": ["name": "lookup"]], ["type": "tool", "name": "lookup"]),
    ] as [(JSONValue, JSONValue)])
    func toolChoiceMapping(choice: JSONValue, expected: JSONValue) {
        let out = AnthropicTranslation.messagesRequest(fromChat: request([
            "messages": [["role": "user", "content": "x"]], "tool_choice": choice,
        ]), upstreamModel: "m")
        #expect(out["tool_choice"] == expected)
    }

    @Test func samplingStopStreamAndUserAreMapped() {
        let out = AnthropicTranslation.messagesRequest(fromChat: request([
            "model": "claude", "messages": [["role": "user", "content": "x"]],
            "max_tokens": 50, "temperature": 0.2, "top_p": 0.9, "n": 1, "presence_penalty": 0.5,
            "stop": ["\n\n###", "  ", "Human:"], "stream": true, "user": "alice",
            "stream_options": ["include_usage": true],
        ]), upstreamModel: "claude-haiku-4-5")
        #expect(out.keys == ["model", "messages", "max_tokens", "temperature", "top_p", "stop_sequences", "stream", "metadata"])
        #expect(out["max_tokens"] == 50)
        #expect(out["temperature"] == 0.2)
        #expect(out["stop_sequences"] == ["\n\n###", "Human:"])
        #expect(out["stream"] == true)
        #expect(out["metadata"] == ["user_id": "alice"])

        let single = AnthropicTranslation.messagesRequest(fromChat: request([
            "messages": [["role": "user", "content": "x"]], "stop": "END",
        ]), upstreamModel: "m")
        #expect(single["stop_sequences"] == ["END"])
    }

    @Test func contentPartsBecomeTextAndImageBlocks() {
        let out = AnthropicTranslation.messagesRequest(fromChat: request([
            "messages": [["role": "user", "content": [
                ["type": "text", "text": "What is this?"],
                ["type": "image_url", "image_url": ["url": "data:image/png;base64,iVBORw0KGgo="]],
            ]]],
        ]), upstreamModel: "m")
        #expect(out["messages"] == [["role": "user", "content": [
            ["type": "text", "text": "What is this?"],
            ["type": "image", "source": ["type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="]],
        ]]])
    }

    // MARK: - Responses

    @Test func messageWithTextAndToolUseBecomesChatCompletionWithCachedUsage() {
        let message: JSONValue = [
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [
                ["type": "text", "text": "Let me check."],
                ["type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": ["city": "Paris"]],
            ],
            "stop_reason": "tool_use", "stop_sequence": nil,
            "usage": ["input_tokens": 100, "cache_creation_input_tokens": 20, "cache_read_input_tokens": 30, "output_tokens": 15],
        ]
        let out = AnthropicTranslation.chatCompletion(fromMessage: message, created: 1_700_000_000)
        #expect(out == [
            "id": "msg_01", "object": "chat.completion", "created": 1_700_000_000, "model": "claude-sonnet-4-5-20250929",
            "choices": [[
                "index": 0,
                "message": [
                    "role": "assistant", "content": "Let me check.", "refusal": nil,
                    "tool_calls": [["id": "toolu_01", "type": "function",
                                    "function": ["name": "get_weather", "arguments": "{\"city\":\"Paris\"}"]]],
                ],
                "logprobs": nil, "finish_reason": "tool_calls",
            ]],
            "usage": ["prompt_tokens": 150, "completion_tokens": 15, "total_tokens": 165,
                      "prompt_tokens_details": ["cached_tokens": 30]],
        ])
    }

    @Test(arguments: [
        ("end_turn", "stop"), ("stop_sequence", "stop"), ("max_tokens", "length"),
        ("tool_use", "tool_calls"), ("refusal", "content_filter"),
    ])
    func finishReasonMapping(stopReason: String, expected: String) {
        let message: JSONValue = [
            "id": "msg_x", "model": "m", "content": [["type": "text", "text": "a"], ["type": "text", "text": "b"]],
            "stop_reason": .string(stopReason), "usage": ["input_tokens": 3, "output_tokens": 2],
        ]
        let out = AnthropicTranslation.chatCompletion(fromMessage: message, created: 1)
        #expect(out["choices"]?[0]?["finish_reason"] == .string(expected))
        #expect(out["choices"]?[0]?["message"]?["content"] == "ab")
        #expect(out["usage"]?["total_tokens"] == 5)
    }

    // MARK: - Streams

    private static let textStream = """
        event: message_start
        data: {"type":"message_start","message":{"id":"msg_01Abc","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}

        event: content_block_start
        data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

        event: ping
        data: {"type": "ping"}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"!"}}

        event: content_block_delta
        data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" How can I help?"}}

        event: content_block_stop
        data: {"type":"content_block_stop","index":0}

        event: message_delta
        data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}

        event: message_stop
        data: {"type":"message_stop"}


        """

    private func translateAll(_ text: String, includeUsage: Bool) throws -> ([JSONValue], AnthropicStreamTranslator) {
        var parser = ServerSentEventParser()
        var translator = AnthropicStreamTranslator(created: 1_700_000_000, includeUsage: includeUsage)
        var chunks: [JSONValue] = []
        for event in parser.feed(Array(text.utf8)) { chunks += try translator.translate(event) }
        return (chunks, translator)
    }

    private func chunk(_ delta: JSONValue, finish: JSONValue = nil) -> JSONValue {
        [
            "id": "msg_01Abc", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "claude-sonnet-4-5",
            "choices": [["index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish]], "usage": nil,
        ]
    }

    @Test func textStreamBecomesExactChunksWithUsage() throws {
        let (chunks, translator) = try translateAll(Self.textStream, includeUsage: true)
        #expect(chunks == [
            chunk(["role": "assistant", "content": ""]),
            chunk(["content": "Hello"]),
            chunk(["content": "!"]),
            chunk(["content": " How can I help?"]),
            chunk([:], finish: "stop"),
            ["id": "msg_01Abc", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "claude-sonnet-4-5",
             "choices": [], "usage": ["prompt_tokens": 25, "completion_tokens": 15, "total_tokens": 40,
                                      "prompt_tokens_details": ["cached_tokens": 0]]],
        ])
        #expect(chunks[1].jsonText == #"{"id":"msg_01Abc","object":"chat.completion.chunk","created":1700000000,"model":"claude-sonnet-4-5","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}"#)
        #expect(translator.isFinished)
        #expect(translator.usage?.input == 25)
        #expect(translator.usage?.output == 15)
    }

    @Test func withoutIncludeUsageThereIsNoUsageChunkOrField() throws {
        let (chunks, translator) = try translateAll(Self.textStream, includeUsage: false)
        #expect(chunks.count == 5)
        #expect(chunks.allSatisfy { $0["usage"] == nil })
        #expect(chunks.last?["choices"]?[0]?["finish_reason"] == "stop")
        #expect(translator.usage?.output == 15)
    }

    @Test func toolUseStreamBecomesToolCallDeltas() throws {
        var translator = AnthropicStreamTranslator(created: 5, includeUsage: false)
        let events: [(String, String)] = [
            ("message_start", #"{"type":"message_start","message":{"id":"msg_T","model":"claude-x","usage":{"input_tokens":40,"output_tokens":1}}}"#),
            ("content_block_start", #"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"get_weather","input":{}}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}}"#),
            ("content_block_delta", #"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":" \"Paris\"}"}}"#),
            ("message_delta", #"{"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":22}}"#),
        ]
        var deltas: [JSONValue] = []
        for (name, data) in events {
            for chunk in try translator.translate(ServerSentEvent(event: name, data: data)) {
                deltas.append(chunk["choices"]?[0]?["delta"] ?? .null)
                if name == "message_delta" { #expect(chunk["choices"]?[0]?["finish_reason"] == "tool_calls") }
            }
        }
        #expect(deltas == [
            ["role": "assistant", "content": ""],
            ["tool_calls": [["index": 0, "id": "toolu_9", "type": "function", "function": ["name": "get_weather", "arguments": ""]]]],
            ["tool_calls": [["index": 0, "function": ["arguments": "{\"city\":"]]]],
            ["tool_calls": [["index": 0, "function": ["arguments": " \"Paris\"}"]]]],
            [:],
        ])
        #expect(!translator.isFinished)
    }

    @Test func errorEventThrowsProviderError() {
        var translator = AnthropicStreamTranslator(created: 1, includeUsage: false)
        let event = ServerSentEvent(event: "error", data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
        do throws(AnthropicStreamError) {
            _ = try translator.translate(event)
            Issue.record("an error event must throw")
        } catch {
            #expect(error.envelope == ErrorEnvelope(message: "Overloaded", type: "overloaded_error", code: "overloaded"))
        }
    }

    @Test func invalidEventDataThrowsWithRawDataKept() {
        var translator = AnthropicStreamTranslator(created: 1, includeUsage: false)
        do throws(AnthropicStreamError) {
            _ = try translator.translate(ServerSentEvent(event: "content_block_delta", data: "{not json"))
            Issue.record("invalid data must throw")
        } catch {
            #expect(error.envelope.code == "invalid_upstream_stream")
            #expect(error.envelope.extra["upstream_data"] == "{not json")
        }
    }

    // MARK: - Errors

    @Test func rateLimitErrorKeepsMessageTypeAndRequestID() throws {
        let raw = #"{"type":"error","error":{"type":"rate_limit_error","message":"Number of request tokens has exceeded your per-minute rate limit"},"request_id":"req_011"}"#
        let envelope = AnthropicTranslation.errorEnvelope(fromError: try JSONValue.parse(raw), status: 429, rawBody: raw)
        #expect(envelope.jsonText == #"{"error":{"message":"Number of request tokens has exceeded your per-minute rate limit","type":"rate_limit_error","param":null,"code":"rate_limit_exceeded","upstream_request_id":"req_011"}}"#)
    }

    @Test(arguments: [
        ("invalid_request_error", 400, nil), ("authentication_error", 401, "invalid_api_key"),
        ("overloaded_error", 529, "overloaded"), ("api_error", 500, nil),
    ] as [(String, Int, String?)])
    func errorTypesMap(type: String, status: Int, code: String?) {
        let body: JSONValue = ["type": "error", "error": ["type": .string(type), "message": "boom"]]
        let envelope = AnthropicTranslation.errorEnvelope(fromError: body, status: status, rawBody: body.jsonText)
        #expect(envelope == ErrorEnvelope(message: "boom", type: type, code: code))
    }

    @Test func nonJSONErrorBodyFallsBackOnStatus() {
        let envelope = AnthropicTranslation.errorEnvelope(fromError: nil, status: 502, rawBody: "<html>Bad Gateway</html>")
        #expect(envelope.type == "api_error")
        #expect(envelope.code == nil)
        #expect(envelope.message == "Anthropic upstream returned HTTP 502: <html>Bad Gateway</html>")
        #expect(envelope.extra["upstream_body"] == "<html>Bad Gateway</html>")
    }
}

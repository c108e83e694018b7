import Testing

@testable import TollgateCore

// MARK: Request conversion

@Suite struct ResponsesRequestTranslationTests {
    @Test func stringInputWithInstructions() throws {
        let request = try object(#"{"model":"alias","instructions":"Be brief.","input":"Hi","max_output_tokens":50,"temperature":0.2,"top_p":0.9,"user":"u1","metadata":{"a":"b"},"store":true,"previous_response_id":"resp_x","reasoning":{"effort":"low"},"databricks_options":{"return_trace":true}}"#)
        let body = try ResponsesTranslation.chatRequest(fromResponses: request, upstreamModel: "gpt-4o-mini")
        #expect(body["model"] == "gpt-4o-mini")
        #expect(same(.array(messages(body)), [["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"]]))
        #expect(body["max_tokens"] == 50)
        #expect(body["max_output_tokens"] == nil)
        #expect(body["temperature"] == 0.2)
        #expect(body["top_p"] == 0.9)
        #expect(body["user"] == "u1")
        for dropped in ["metadata", "store", "previous_response_id", "reasoning", "databricks_options", "input", "instructions"] {
            #expect(body[dropped] == nil, "\(dropped) should be dropped")
        }
        #expect(body.keys.first == "model")
        #expect(body.keys.dropFirst().first == "messages")
    }

    @Test func streamingAsksForUsage() throws {
        let body = try ResponsesTranslation.chatRequest(
            fromResponses: try object(#"{"input":"Hi","stream":true}"#), upstreamModel: "m")
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])

        let plain = try ResponsesTranslation.chatRequest(
            fromResponses: try object(#"{"input":"Hi","stream":false}"#), upstreamModel: "m")
        #expect(plain["stream"] == false)
        #expect(plain["stream_options"] == nil)
    }

    @Test func inputItemsFollowMLflowRules() throws {
        let request = try object(
            #"""
            {"input":[
              {"role":"user","content":"What is the weather?"},
              {"type":"message","role":"user","content":[{"type":"input_text","text":"In Paris"},{"type":"input_text","text":"and Rome"}]},
              {"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"think"}]},
              {"type":"function_call","id":"fc_1","call_id":"call_1","name":"weather","arguments":"{\"city\":\"Paris\"}","status":"completed"},
              {"type":"function_call","call_id":"call_2","name":"weather","arguments":""},
              {"type":"function_call_output","call_id":"call_1","output":"sunny"},
              {"type":"function_call_output","call_id":"call_2","output":{"temp":21}},
              {"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"Sunny in both.","annotations":[]}]},
              {"type":"item_reference","id":"x"},
              {"role":"tool","content":"r","tool_call_id":"call_9","extra":"dropped"}
            ]}
            """#)
        let out = messages(try ResponsesTranslation.chatRequest(fromResponses: request, upstreamModel: "m"))
        let expected: [JSONValue] = [
            ["role": "user", "content": "What is the weather?"],
            ["role": "user", "content": "In Paris"],
            ["role": "user", "content": "and Rome"],
            ["role": "assistant", "content": "SUMMARY"],
            [
                "role": "assistant", "content": "tool call",
                "tool_calls": [
                    ["id": "call_1", "type": "function", "function": ["name": "weather", "arguments": #"{"city":"Paris"}"#]],
                    ["id": "call_2", "type": "function", "function": ["name": "weather", "arguments": "{}"]],
                ],
            ],
            ["role": "tool", "content": "sunny", "tool_call_id": "call_1"],
            ["role": "tool", "content": #"{"temp":21}"#, "tool_call_id": "call_2"],
            ["role": "assistant", "content": "Sunny in both."],
            ["role": "tool", "content": "r", "tool_call_id": "call_9"],
        ]
        #expect(out.count == expected.count)
        // The summary is re-encoded JSON: compare it as a document, not as text.
        var compared = out
        if out.count > 3, let summary = out[3]["content"]?.stringValue {
            #expect(same(try JSONValue.parse(summary), [["type": "summary_text", "text": "think"]]))
            compared[3] = ["role": out[3]["role"] ?? .null, "content": "SUMMARY"]
        }
        for (index, pair) in zip(compared, expected).enumerated() {
            #expect(same(pair.0, pair.1), "message \(index): \(pair.0.jsonText)")
        }
    }

    @Test func functionToolsAndToolChoiceTakeChatShape() throws {
        let request = try object(
            #"""
            {"input":"Hi","parallel_tool_calls":false,
             "tools":[{"type":"function","name":"weather","description":"Get weather","parameters":{"type":"object","properties":{}},"strict":true},
                      {"type":"function","name":"bare"}],
             "tool_choice":{"type":"function","name":"weather"}}
            """#)
        let body = try ResponsesTranslation.chatRequest(fromResponses: request, upstreamModel: "m")
        #expect(
            same(
                body["tools"],
                [
                [
                    "type": "function",
                    "function": [
                        "name": "weather", "description": "Get weather",
                        "parameters": ["type": "object", "properties": [:]], "strict": true,
                    ],
                ],
                ["type": "function", "function": ["name": "bare"]],
            ]))
        #expect(body["tool_choice"] == ["type": "function", "function": ["name": "weather"]])
        #expect(body["parallel_tool_calls"] == false)

        let auto = try ResponsesTranslation.chatRequest(
            fromResponses: try object(#"{"input":"Hi","tools":[{"type":"function","name":"f"}],"tool_choice":"required"}"#),
            upstreamModel: "m")
        #expect(auto["tool_choice"] == "required")
    }

    @Test func toolChoiceWithoutToolsIsOmitted() throws {
        let body = try ResponsesTranslation.chatRequest(
            fromResponses: try object(#"{"input":"Hi","tools":[],"tool_choice":"auto","parallel_tool_calls":true}"#),
            upstreamModel: "m")
        #expect(body["tools"] == nil)
        #expect(body["tool_choice"] == nil)
        #expect(body["parallel_tool_calls"] == nil)
    }

    @Test func jsonSchemaTextFormatBecomesResponseFormat() throws {
        let body = try ResponsesTranslation.chatRequest(
            fromResponses: try object(
                #"{"input":"Hi","text":{"format":{"type":"json_schema","name":"answer","schema":{"type":"object"},"strict":true}}}"#),
            upstreamModel: "m")
        #expect(
            same(
                body["response_format"],
                ["type": "json_schema", "json_schema": ["name": "answer", "schema": ["type": "object"], "strict": true]]))
        #expect(body["text"] == nil)
    }

    @Test func missingInputIsRejected() throws {
        #expect(throws: TranslationError(message: "Missing required parameter: 'input'.", param: "input")) {
            try ResponsesTranslation.chatRequest(fromResponses: try object(#"{"model":"m"}"#), upstreamModel: "m")
        }
    }

    @Test func wrongInputTypeIsRejected() throws {
        do {
            _ = try ResponsesTranslation.chatRequest(fromResponses: try object(#"{"input":42}"#), upstreamModel: "m")
            Issue.record("expected an error")
        } catch let error as TranslationError {
            #expect(error.code == .invalidRequest)
            #expect(error.param == "input")
            #expect(error.envelope.type == "invalid_request_error")
        }
        #expect(throws: TranslationError.self) {
            try ResponsesTranslation.chatRequest(fromResponses: try object(#"{"input":["text"]}"#), upstreamModel: "m")
        }
    }

    @Test func hostedToolsAreRejected() throws {
        do {
            _ = try ResponsesTranslation.chatRequest(
                fromResponses: try object(#"{"input":"Hi","tools":[{"type":"web_search"}]}"#), upstreamModel: "m")
            Issue.record("expected an error")
        } catch let error as TranslationError {
            #expect(error.param == "tools[0].type")
        }
    }
}

// MARK: Response building

@Suite struct ResponsesResponseTranslationTests {
    @Test func textAnswer() throws {
        let completion = try JSONValue.parse(
            #"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":3,"total_tokens":12,"prompt_tokens_details":{"cached_tokens":4}}}"#)
        let request = try object(#"{"input":"Hi","instructions":"Be nice.","temperature":0.5}"#)
        let response = ResponsesTranslation.response(
            fromChatCompletion: completion, request: request, model: "alias", responseID: "resp_00ff", createdAt: 1234)
        #expect(response["id"] == "resp_00ff")
        #expect(response["object"] == "response")
        #expect(response["created_at"] == 1234)
        #expect(response["model"] == "alias")
        #expect(response["status"] == "completed")
        #expect(response["error"] == .null)
        #expect(response["incomplete_details"] == .null)
        #expect(response["instructions"] == "Be nice.")
        #expect(response["temperature"] == 0.5)
        #expect(response["top_p"] == .null)
        #expect(response["parallel_tool_calls"] == true)
        #expect(response["tool_choice"] == "auto")
        #expect(response["tools"] == [])
        #expect(response["metadata"] == [:])
        #expect(response["text"] == ["format": ["type": "text"]])
        #expect(response["truncation"] == "disabled")
        #expect(
            same(
                response["output"],
                [
                [
                    "type": "message", "id": "msg_00ff", "status": "completed", "role": "assistant",
                    "content": [["type": "output_text", "text": "Hello!", "annotations": []]],
                ]
            ]))
        #expect(response["usage"]?["input_tokens"] == 9)
        #expect(response["usage"]?["output_tokens"] == 3)
        #expect(response["usage"]?["total_tokens"] == 12)
        #expect(response["usage"]?["input_tokens_details"]?["cached_tokens"] == 4)
        #expect(response["usage"]?["output_tokens_details"]?["reasoning_tokens"] == 0)
    }

    @Test func toolCallsBecomeFunctionCallItems() throws {
        let completion = try JSONValue.parse(
            #"{"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},{"id":"call_b","type":"function","function":{"name":"time","arguments":""}}]},"finish_reason":"tool_calls"}]}"#)
        let response = ResponsesTranslation.response(
            fromChatCompletion: completion, request: JSONObject(), model: "m", responseID: "resp_12", createdAt: 1)
        let output = try #require(response["output"]?.arrayValue)
        #expect(output.count == 2)
        #expect(
            same(
                output[0],
                [
                    "type": "function_call", "id": "fc_1200", "call_id": "call_a", "name": "weather",
                    "arguments": #"{"city":"Paris"}"#, "status": "completed",
                ]))
        #expect(output[1]["call_id"] == "call_b")
        #expect(output[1]["arguments"] == "{}")
        #expect(output[1]["id"] == "fc_1201")
        #expect(response["status"] == "completed")
        #expect(response["usage"] == .null)
    }

    @Test func lengthMakesTheResponseIncomplete() throws {
        let completion = try JSONValue.parse(
            #"{"choices":[{"index":0,"message":{"role":"assistant","content":"Once upon"},"finish_reason":"length"}]}"#)
        let response = ResponsesTranslation.response(
            fromChatCompletion: completion, request: try object(#"{"input":"x","max_output_tokens":2}"#), model: "m",
            responseID: "resp_1", createdAt: 1)
        #expect(response["status"] == "incomplete")
        #expect(response["incomplete_details"] == ["reason": "max_output_tokens"])
        #expect(response["max_output_tokens"] == 2)
        #expect(response["output"]?[0]?["content"]?[0]?["text"] == "Once upon")

        let filtered = ResponsesTranslation.response(
            fromChatCompletion: try JSONValue.parse(#"{"choices":[{"index":0,"message":{"content":""},"finish_reason":"content_filter"}]}"#),
            request: JSONObject(), model: "m", responseID: "resp_1", createdAt: 1)
        #expect(filtered["incomplete_details"] == ["reason": "content_filter"])
        #expect(filtered["output"] == [])
    }

    @Test func missingChoicesGiveAnEmptyOutput() throws {
        for body in [#"{"id":"x"}"#, #"{"choices":[]}"#, #"{"choices":null}"#] {
            let response = ResponsesTranslation.response(
                fromChatCompletion: try JSONValue.parse(body), request: JSONObject(), model: "m", responseID: "resp_1",
                createdAt: 1)
            #expect(response["status"] == "completed")
            #expect(response["output"] == [])
        }
    }
}

import Testing

@testable import TollgateCore

// MARK: Stream builder

@Suite struct ResponsesStreamBuilderTests {
    @Test func threeDeltaAnswerHasTheFullEventSequence() throws {
        var builder = makeBuilder(request: try object(#"{"input":"Hi","stream":true}"#))
        var events = builder.start()
        events += builder.consume(chunk: chunk(content: "Hel"))
        #expect(builder.hasEmittedContent)
        events += builder.consume(chunk: chunk(content: "lo"))
        events += builder.consume(chunk: chunk(content: "!", finish: "stop"))
        events += builder.finish(fallbackUsage: (input: 5, output: 3))

        #expect(
            events.map(\.event) == [
                "response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta", "response.output_text.delta",
                "response.output_text.delta", "response.output_text.done", "response.content_part.done",
                "response.output_item.done", "response.completed",
            ])
        let json = try payloads(events)
        #expect(json.map { $0["sequence_number"] } == (0..<events.count).map { JSONValue.int($0) })
        for (event, payload) in zip(events, json) {
            #expect(payload["type"]?.stringValue == event.event)
            #expect(event.data.hasPrefix(#"{"type":""#))
        }
        #expect(json[0]["response"]?["status"] == "in_progress")
        #expect(json[0]["response"]?["output"] == [])
        #expect(json[2]["item"]?["id"] == "msg_abc123")
        #expect(json[2]["item"]?["content"] == [])
        #expect(json[2]["output_index"] == 0)
        #expect(same(json[3]["part"], ["type": "output_text", "text": "", "annotations": []]))
        #expect(json[4]["delta"] == "Hel")
        #expect(json[4]["item_id"] == "msg_abc123")
        #expect(json[4]["content_index"] == 0)
        #expect(json[4]["logprobs"] == [])
        #expect(json[7]["text"] == "Hello!")
        #expect(json[9]["item"]?["status"] == "completed")
        #expect(json[9]["item"]?["content"]?[0]?["text"] == "Hello!")

        let completed = try #require(json.last?["response"])
        #expect(completed["status"] == "completed")
        #expect(completed["id"] == "resp_abc123")
        #expect(same(completed["output"], [json[9]["item"]!]))
        #expect(completed["usage"]?["input_tokens"] == 5)
        #expect(completed["usage"]?["output_tokens"] == 3)
        #expect(completed["usage"]?["total_tokens"] == 8)
        #expect(builder.text == "Hello!")
        #expect(builder.finish(fallbackUsage: nil).isEmpty)
    }

    @Test func streamedAndPlainResponsesLookAlike() throws {
        let request = try object(#"{"input":"Hi"}"#)
        var builder = makeBuilder(request: request)
        _ = builder.consume(chunk: chunk(content: "Hi there", finish: "stop"))
        let final = try payloads(builder.finish(fallbackUsage: nil)).last?["response"]
        let plain = ResponsesTranslation.response(
            fromChatCompletion: try JSONValue.parse(#"{"choices":[{"index":0,"message":{"content":"Hi there"},"finish_reason":"stop"}]}"#),
            request: request, model: "gpt-test", responseID: "resp_abc123", createdAt: 1_700_000_000)
        #expect(same(final, plain), "\(final?.jsonText ?? "nil")")
    }

    @Test func usageOnlyChunkIsKept() throws {
        var builder = makeBuilder()
        _ = builder.start()
        _ = builder.consume(chunk: chunk(content: "ok", finish: "stop"))
        let usageChunk: JSONValue = [
            "id": "c", "object": "chat.completion.chunk", "choices": [],
            "usage": ["prompt_tokens": 11, "completion_tokens": 2, "total_tokens": 13],
        ]
        #expect(builder.consume(chunk: usageChunk).isEmpty)
        let last = try #require(try payloads(builder.finish(fallbackUsage: (input: 1, output: 1))).last)
        #expect(last["type"] == "response.completed")
        #expect(last["response"]?["usage"]?["input_tokens"] == 11)
        #expect(last["response"]?["usage"]?["output_tokens"] == 2)
        #expect(last["response"]?["usage"]?["total_tokens"] == 13)
    }

    @Test func annotationOnlyFirstChunkIsTolerated() throws {
        var builder = makeBuilder()
        var events = builder.start()
        let filterChunk: JSONValue = [
            "id": "", "object": "", "created": 0, "model": "", "choices": [],
            "prompt_filter_results": [["prompt_index": 0, "content_filter_results": [:]]],
        ]
        #expect(builder.consume(chunk: filterChunk).isEmpty)
        #expect(!builder.hasEmittedContent)
        events += builder.consume(chunk: chunk(content: "Yes", finish: "stop"))
        events += builder.finish(fallbackUsage: nil)
        #expect(events.first?.event == "response.created")
        #expect(events.last?.event == "response.completed")
        #expect(builder.text == "Yes")
    }

    @Test func failureClosesItemsAndEndsWithResponseFailed() throws {
        var builder = makeBuilder()
        var events = builder.start()
        events += builder.consume(chunk: chunk(content: "Partial"))
        events += builder.fail(ErrorEnvelope(message: "upstream went away", type: "upstream_error", code: "server_error"))
        #expect(
            events.map(\.event) == [
                "response.created", "response.in_progress", "response.output_item.added",
                "response.content_part.added", "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", "response.failed",
            ])
        let json = try payloads(events)
        #expect(json.map { $0["sequence_number"] } == (0..<events.count).map { JSONValue.int($0) })
        #expect(json[7]["item"]?["content"]?[0]?["text"] == "Partial")
        let failed = try #require(json.last?["response"])
        #expect(failed["status"] == "failed")
        #expect(same(failed["error"], ["code": "server_error", "message": "upstream went away"]))
        #expect(builder.consume(chunk: chunk(content: "late")).isEmpty)
    }

    @Test func lengthEndsWithResponseIncomplete() throws {
        var builder = makeBuilder()
        _ = builder.consume(chunk: chunk(content: "Once", finish: "length"))
        let last = try #require(try payloads(builder.finish(fallbackUsage: nil)).last)
        #expect(last["type"] == "response.incomplete")
        #expect(last["response"]?["status"] == "incomplete")
        #expect(last["response"]?["incomplete_details"] == ["reason": "max_output_tokens"])
        #expect(last["response"]?["usage"] == .null)
    }

    @Test func toolCallDeltasBecomeFunctionCallItems() throws {
        var builder = makeBuilder()
        var events = builder.start()
        events += builder.consume(chunk: chunk(content: "Let me check."))
        events += builder.consume(
            chunk: chunk(toolCalls: [
                ["index": 0, "id": "call_1", "type": "function", "function": ["name": "weather", "arguments": ""]]
            ]))
        events += builder.consume(chunk: chunk(toolCalls: [["index": 0, "function": ["arguments": #"{"city":"#]]]))
        events += builder.consume(chunk: chunk(toolCalls: [["index": 0, "function": ["arguments": #""Paris"}"#]]]))
        events += builder.consume(chunk: chunk(finish: "tool_calls"))
        events += builder.finish(fallbackUsage: nil)
        #expect(
            events.map(\.event) == [
                "response.created", "response.in_progress",
                "response.output_item.added", "response.content_part.added", "response.output_text.delta",
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.output_item.added", "response.function_call_arguments.delta",
                "response.function_call_arguments.delta", "response.function_call_arguments.done",
                "response.output_item.done", "response.completed",
            ])
        let json = try payloads(events)
        #expect(json[8]["item"]?["type"] == "function_call")
        #expect(json[8]["item"]?["call_id"] == "call_1")
        #expect(json[8]["output_index"] == 1)
        #expect(json[11]["arguments"] == #"{"city":"Paris"}"#)
        #expect(json[11]["item_id"] == "fc_abc12300")
        let output = try #require(json.last?["response"]?["output"]?.arrayValue)
        #expect(output.count == 2)
        #expect(output[0]["type"] == "message")
        #expect(
            same(
                output[1],
                [
                    "type": "function_call", "id": "fc_abc12300", "call_id": "call_1", "name": "weather",
                    "arguments": #"{"city":"Paris"}"#, "status": "completed",
                ]))
    }

    @Test func interleavedToolCallsAreKeptApart() throws {
        var builder = makeBuilder()
        var events = builder.consume(
            chunk: chunk(toolCalls: [
                ["index": 0, "id": "call_a", "type": "function", "function": ["name": "a", "arguments": #"{"x":"#]],
                ["index": 1, "id": "call_b", "type": "function", "function": ["name": "b", "arguments": "{"]],
            ]))
        events += builder.consume(
            chunk: chunk(
                finish: "tool_calls",
                toolCalls: [["index": 1, "function": ["arguments": "}"]], ["index": 0, "function": ["arguments": "1}"]]]))
        events += builder.finish(fallbackUsage: nil)
        #expect(!builder.hasEmittedContent)
        let json = try payloads(events)
        #expect(json.compactMap { $0["sequence_number"]?.intValue } == Array(0..<events.count))
        #expect(json.first?["type"] == "response.created")
        let added = json.filter { $0["type"] == "response.output_item.added" }
        #expect(added.map { $0["output_index"] } == [0, 1])
        let done = json.filter { $0["type"] == "response.function_call_arguments.done" }
        #expect(done.map { $0["arguments"] } == [#"{"x":1}"#, "{}"])
        let output = json.last?["response"]?["output"]?.arrayValue ?? []
        #expect(output.map { $0["call_id"] } == ["call_a", "call_b"])
        #expect(output.map { $0["name"] } == ["a", "b"])
    }

    @Test func emptyStreamStillCompletes() throws {
        var builder = makeBuilder()
        let events = builder.finish(fallbackUsage: nil)
        #expect(events.map(\.event) == ["response.created", "response.in_progress", "response.completed"])
        let json = try payloads(events)
        #expect(json.map { $0["sequence_number"] } == [0, 1, 2])
        #expect(json[2]["response"]?["output"] == [])
        #expect(builder.text == "")
    }
}

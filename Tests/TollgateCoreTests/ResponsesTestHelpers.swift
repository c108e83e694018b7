import Testing

@testable import TollgateCore

// MARK: Helpers

/// Structural equality that ignores the order of object members: parsed documents do not keep it.
func same(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    switch (a, b) {
    case (.object(let x)?, .object(let y)?):
        return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { same(x[$0], y[$0]) }
    case (.array(let x)?, .array(let y)?):
        return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    default:
        return a == b
    }
}

func object(_ text: String) throws -> JSONObject {
    try #require(try JSONValue.parse(text).objectValue)
}

func messages(_ body: JSONObject) -> [JSONValue] {
    body["messages"]?.arrayValue ?? []
}

func chunk(
    content: String? = nil, finish: String? = nil, toolCalls: [JSONValue]? = nil, usage: JSONValue = .null
) -> JSONValue {
    var delta = JSONObject()
    if let content { delta["content"] = .string(content) }
    if let toolCalls { delta["tool_calls"] = .array(toolCalls) }
    return [
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "m",
        "choices": [["index": 0, "delta": .object(delta), "finish_reason": .optionalString(finish)]],
        "usage": usage,
    ]
}

func payloads(_ events: [ServerSentEvent]) throws -> [JSONValue] {
    try events.map { try JSONValue.parse($0.data) }
}

func makeBuilder(request: JSONObject = JSONObject()) -> ResponsesStreamBuilder {
    ResponsesStreamBuilder(responseID: "resp_abc123", model: "gpt-test", createdAt: 1_700_000_000, request: request)
}

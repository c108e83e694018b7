import TollgateCore

/// The messages of an agent's model calls as its tool loop grows them.
struct AgentConversation: Sendable {
    private var base: JSONObject
    private var messages: [JSONValue]
    private let tools: [JSONValue]
    private let maxSteps: Int
    private(set) var steps = 0

    init(base: JSONObject, tools: [JSONValue], maxSteps: Int) {
        self.base = base
        self.messages = base["messages"]?.arrayValue ?? []
        self.tools = tools
        self.maxSteps = maxSteps
    }

    /// Whether the model may still get tool results back (a model call remains after this one).
    var canCallTools: Bool { !tools.isEmpty && steps < maxSteps }

    /// The body of the next model call; the last allowed call is offered no tools, so it answers.
    mutating func nextRequest(stream: Bool) -> JSONObject {
        steps += 1
        var body = base
        body["messages"] = .array(messages)
        body["stream"] = .bool(stream)
        if stream { body["stream_options"] = ["include_usage": true] }
        if !tools.isEmpty, steps < maxSteps {
            var offered = tools
            for tool in base["tools"]?.arrayValue ?? [] { offered.append(tool) }
            body["tools"] = .array(offered)
        }
        return body
    }

    mutating func append(assistant message: JSONValue) {
        messages.append(["role": "assistant", "content": message["content"] ?? .null, "tool_calls": message["tool_calls"] ?? []])
    }

    mutating func append(toolResult: String, for toolCall: JSONValue) {
        messages.append(["role": "tool", "tool_call_id": toolCall["id"] ?? .null, "content": .string(toolResult)])
    }
}

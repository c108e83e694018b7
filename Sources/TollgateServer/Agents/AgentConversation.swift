import TollgateCore

/// The messages of an agent's model calls as its tool loop grows them.
struct AgentConversation: Sendable {
    private var base: JSONObject
    private var messages: [JSONValue]
    private let tools: [JSONValue]
    private let maxSteps: Int
    private(set) var steps = 0
    /// Names of the agent's own tools; any other tool the model calls is the client's.
    let agentToolNames: Set<String>

    init(base: JSONObject, tools: [JSONValue], maxSteps: Int) {
        self.base = base
        self.messages = base["messages"]?.arrayValue ?? []
        self.tools = tools
        self.maxSteps = maxSteps
        agentToolNames = Set(tools.compactMap { $0["function"]?["name"]?.stringValue })
    }

    /// Whether the agent runs these calls itself: all are its own tools and a model call
    /// remains. Otherwise they go to the client, which runs its own tools (OpenAI's contract).
    func runsItself(_ names: [String]) -> Bool {
        canCallTools && !names.isEmpty && names.allSatisfy(agentToolNames.contains)
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

import TollgateCore

/// Builds the chat request an agent sends its model.
enum AgentPrompt {
    /// The client's conversation with the agent's instructions first and the agent's parameters
    /// filled in where the client gave none; `model` names the upstream model.
    static func modelRequest(_ chat: JSONObject, agent: AgentConfig, upstreamModel: String) -> JSONObject {
        var body = chat
        body["model"] = .string(upstreamModel)
        if let instructions = agent.instructions, !instructions.isEmpty {
            let system: JSONValue = ["role": "system", "content": .string(instructions)]
            body["messages"] = .array([system] + (chat["messages"]?.arrayValue ?? []))
        }
        for (key, value) in agent.parameters?.pairs ?? [] where body[key] == nil {
            body[key] = value
        }
        return body
    }
}

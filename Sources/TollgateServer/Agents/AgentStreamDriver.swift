import TollgateCore
import TollgateProviders

/// Streams an agent's answer across its tool loop: text deltas of every model call go to the
/// client as they arrive; tool-call deltas are held until the model call ends. When they call
/// only the agent's own tools, the tools run and the next model call's stream continues the same
/// answer; otherwise (the client's own tools) the held chunks go to the client as they came,
/// with their `finish_reason: tool_calls`, and the stream ends there for the client to run them.
///
/// `@unchecked Sendable`: one driver serves one response stream, read by a single task.
final class AgentStreamDriver: @unchecked Sendable {
    private let provider: AgentProvider
    private let target: (any ChatProvider, String)
    private let requestID: String
    private var conversation: AgentConversation
    private var current: UpstreamChunkStream?
    private var toolCalls: [Int: (id: String, name: String, arguments: String)] = [:]
    private var stepText = ""
    private var firstStep = true
    /// Tool-call chunks of the current model call, the finish chunk, and what came after it.
    private var held: [UpstreamChunk] = []
    private var holdingTail = false
    /// Held chunks being handed to the client.
    private var releasing: [UpstreamChunk] = []

    init(provider: AgentProvider, target: (any ChatProvider, String), conversation: AgentConversation, requestID: String) {
        self.provider = provider
        self.target = target
        self.conversation = conversation
        self.requestID = requestID
    }

    /// The first model call's reply: a stream driven by this driver, or the call's error.
    func start() async throws(UpstreamError) -> UpstreamReply {
        let (reply, _) = try await provider.call(target, body: conversation.nextRequest(stream: true), requestID: requestID, stream: true)
        guard case .stream(let chunks) = reply else { return reply }
        current = chunks
        return .stream(UpstreamChunkStream { () async throws(UpstreamError) -> UpstreamChunk? in try await self.next() })
    }

    private func next() async throws(UpstreamError) -> UpstreamChunk? {
        if !releasing.isEmpty { return releasing.removeFirst() }
        while let chunks = current {
            guard let chunk = try await chunks.next() else {
                let names = toolCalls.sorted { $0.key < $1.key }.map(\.value.name)
                if conversation.runsItself(names) {
                    try await continueAfterTools()
                    continue
                }
                current = nil
                releasing = held
                held = []
                return releasing.isEmpty ? nil : releasing.removeFirst()
            }
            let content = ChatCompletionText.delta(ofChunk: chunk.json)
            stepText += content
            let gathered = gather(chunk.json)
            if holdingTail || (gathered && content.isEmpty) {
                held.append(chunk)
                continue
            }
            if ChatCompletionText.finishReason(of: chunk.json) == "tool_calls" {
                held.append(chunk)
                holdingTail = true
                continue
            }
            if !firstStep, content.isEmpty, ChatCompletionText.finishReason(of: chunk.json) == nil, chunk.json["usage"]?.objectValue == nil {
                continue
            }
            return chunk
        }
        return nil
    }

    /// Collects tool-call deltas (by index); returns whether the chunk had any.
    private func gather(_ chunk: JSONValue) -> Bool {
        var found = false
        for choice in chunk["choices"]?.arrayValue ?? [] {
            for delta in choice["delta"]?["tool_calls"]?.arrayValue ?? [] {
                found = true
                let index = delta["index"]?.intValue ?? 0
                var call = toolCalls[index] ?? (id: "", name: "", arguments: "")
                if let id = delta["id"]?.stringValue { call.id = id }
                if let name = delta["function"]?["name"]?.stringValue { call.name += name }
                if let arguments = delta["function"]?["arguments"]?.stringValue { call.arguments += arguments }
                toolCalls[index] = call
            }
        }
        return found
    }

    /// Runs the gathered tool calls and starts the next model call.
    private func continueAfterTools() async throws(UpstreamError) {
        let calls: [JSONValue] = toolCalls.sorted { $0.key < $1.key }.map { _, call in
            ["id": .string(call.id), "type": "function", "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
        }
        conversation.append(assistant: ["content": stepText.isEmpty ? .null : .string(stepText), "tool_calls": .array(calls)])
        for call in calls { conversation.append(toolResult: await provider.runTool(call), for: call) }
        toolCalls = [:]
        stepText = ""
        held = []
        holdingTail = false
        firstStep = false
        let (reply, _) = try await provider.call(target, body: conversation.nextRequest(stream: true), requestID: requestID, stream: true)
        switch reply {
        case .stream(let chunks):
            current = chunks
        case .complete(let status, let body, _):
            let raw = String(buffer: body)
            let error = (try? JSONValue.parse(raw))?["error"]
            let envelope = ErrorEnvelope(
                message: error?["message"]?.stringValue ?? "model call failed with HTTP \(status)",
                type: error?["type"]?.stringValue ?? "upstream_error", param: error?["param"]?.stringValue, code: error?["code"]?.stringValue
            )
            throw UpstreamError(code: .streamError, message: envelope.message, rawBody: raw, envelope: envelope)
        }
    }
}

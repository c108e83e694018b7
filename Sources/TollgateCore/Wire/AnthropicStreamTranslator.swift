/// Turns Anthropic Messages stream events into OpenAI chat.completion.chunk payloads, incrementally.
///
/// Every chunk carries the message id and model from `message_start`. With `includeUsage`, every
/// chunk carries `usage: null` and `message_stop` adds one last chunk with `choices: []` and the
/// full usage, as OpenAI does for `stream_options.include_usage`.
public struct AnthropicStreamTranslator: Sendable {
    private let created: Int
    private let includeUsage: Bool
    private var id: String?
    private var model: String?
    private var promptTokens: Int?
    private var cachedTokens: Int?
    private var outputTokens: Int?
    /// Anthropic content-block index → OpenAI `tool_calls` index (tool calls count from 0).
    private var toolIndexByBlock: [Int: Int] = [:]
    /// Whether message_stop has been seen.
    public private(set) var isFinished = false

    public init(created: Int, includeUsage: Bool) {
        self.created = created
        self.includeUsage = includeUsage
    }

    /// Usage seen so far (input, output) or nil. Input counts cache reads and writes, as OpenAI's
    /// `prompt_tokens` does.
    public var usage: (input: Int, output: Int)? {
        guard promptTokens != nil || outputTokens != nil else { return nil }
        return (promptTokens ?? 0, outputTokens ?? 0)
    }

    /// One parsed SSE event → zero or more chunk JSON values. `ping` and event types this version
    /// does not know yield nothing; an `error` event or data that is not JSON throws.
    public mutating func translate(_ event: ServerSentEvent) throws(AnthropicStreamError) -> [JSONValue] {
        if event.data == "[DONE]" { return [] }
        let data: JSONValue
        do {
            data = try JSONValue.parse(event.data)
        } catch {
            throw AnthropicStreamError.invalidData(event.data)
        }
        switch event.event ?? data["type"]?.stringValue ?? "" {
        case "message_start":
            let message = data["message"]
            id = message?["id"]?.stringValue
            model = message?["model"]?.stringValue
            absorb(usage: message?["usage"])
            return [chunk(delta: ["role": "assistant", "content": ""])]
        case "content_block_start":
            return blockStart(data)
        case "content_block_delta":
            return blockDelta(data)
        case "message_delta":
            absorb(usage: data["usage"])
            guard let reason = data["delta"]?["stop_reason"]?.stringValue else { return [] }
            return [chunk(delta: .object(JSONObject()), finishReason: AnthropicTranslation.finishReason(reason))]
        case "message_stop":
            isFinished = true
            guard includeUsage else { return [] }
            return [envelope(choices: [], usage: AnthropicTranslation.usageJSON(promptTokens, cachedTokens, outputTokens))]
        case "error":
            throw AnthropicStreamError(
                envelope: AnthropicTranslation.errorEnvelope(fromError: data, status: 500, rawBody: event.data))
        default:
            return []
        }
    }

    private mutating func blockStart(_ data: JSONValue) -> [JSONValue] {
        guard let block = data["content_block"] else { return [] }
        switch block["type"]?.stringValue {
        case "text":
            guard let text = block["text"]?.stringValue, !text.isEmpty else { return [] }
            return [chunk(delta: ["content": .string(text)])]
        case "tool_use":
            guard let blockIndex = data["index"]?.intValue else { return [] }
            let toolIndex = toolIndexByBlock.count
            toolIndexByBlock[blockIndex] = toolIndex
            let call: JSONValue = [
                "index": .int(toolIndex), "id": .string(block["id"]?.stringValue ?? ""), "type": "function",
                "function": ["name": .string(block["name"]?.stringValue ?? ""), "arguments": ""],
            ]
            return [chunk(delta: ["tool_calls": [call]])]
        default:
            return []  // thinking, server tools and later block kinds have no chat-completions form
        }
    }

    private func blockDelta(_ data: JSONValue) -> [JSONValue] {
        guard let delta = data["delta"] else { return [] }
        switch delta["type"]?.stringValue {
        case "text_delta":
            guard let text = delta["text"]?.stringValue, !text.isEmpty else { return [] }
            return [chunk(delta: ["content": .string(text)])]
        case "input_json_delta":
            guard let blockIndex = data["index"]?.intValue, let toolIndex = toolIndexByBlock[blockIndex],
                  let partial = delta["partial_json"]?.stringValue, !partial.isEmpty else { return [] }
            let call: JSONValue = ["index": .int(toolIndex), "function": ["arguments": .string(partial)]]
            return [chunk(delta: ["tool_calls": [call]])]
        default:
            return []
        }
    }

    /// Anthropic reports usage fields cumulatively; a later value replaces an earlier one.
    private mutating func absorb(usage: JSONValue?) {
        let counts = AnthropicTranslation.TokenCounts(usage)
        if let prompt = counts.prompt { promptTokens = prompt }
        if let cacheRead = counts.cacheRead { cachedTokens = cacheRead }
        if let output = counts.output { outputTokens = output }
    }

    private func chunk(delta: JSONValue, finishReason: String? = nil) -> JSONValue {
        var choice = JSONObject()
        choice["index"] = 0
        choice["delta"] = delta
        choice["logprobs"] = .null
        choice["finish_reason"] = .optionalString(finishReason)
        return envelope(choices: [.object(choice)], usage: .null)
    }

    private func envelope(choices: [JSONValue], usage: JSONValue) -> JSONValue {
        var out = JSONObject()
        out["id"] = .optionalString(id)
        out["object"] = "chat.completion.chunk"
        out["created"] = .int(created)
        out["model"] = .optionalString(model)
        out["choices"] = .array(choices)
        if includeUsage { out["usage"] = usage }
        return .object(out)
    }
}

/// A stream that cannot be relayed: Anthropic sent an `error` event, or an event that is not JSON.
public struct AnthropicStreamError: Error, Sendable {
    public var envelope: ErrorEnvelope

    public init(envelope: ErrorEnvelope) {
        self.envelope = envelope
    }

    static func invalidData(_ data: String) -> AnthropicStreamError {
        AnthropicStreamError(envelope: ErrorEnvelope(
            message: "Anthropic upstream sent a stream event that is not valid JSON",
            type: "server_error", code: "invalid_upstream_stream",
            extra: JSONObject(["upstream_data": .string(String(data.prefix(4096)))])))
    }
}

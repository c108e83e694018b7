import Foundation

/// Translation between OpenAI Chat Completions (Tollgate's internal shape) and Anthropic's
/// Messages API, so callers of an `anthropic` endpoint only ever see OpenAI bodies.
public enum AnthropicTranslation {
    /// Used when the chat request names no limit: Anthropic requires `max_tokens`, OpenAI does not.
    public static let defaultMaxTokens = 1024

    /// OpenAI chat request body → Anthropic Messages request body.
    ///
    /// System and developer messages are lifted into `system`; tool messages become user turns of
    /// `tool_result` blocks (consecutive ones share one turn); assistant `tool_calls` become
    /// `tool_use` blocks. OpenAI-only fields (`n`, `logprobs`, `stream_options`, penalties…) are
    /// dropped because Anthropic rejects unknown fields; `top_k` and `thinking` pass through.
    /// Empty or whitespace-only stop sequences are dropped: Anthropic rejects them.
    public static func messagesRequest(fromChat request: JSONObject, upstreamModel: String) -> JSONObject {
        var systemParts: [String] = []
        var messages: [JSONValue] = []
        var toolResults: [JSONValue] = []
        func flushToolResults() {
            guard !toolResults.isEmpty else { return }
            messages.append(["role": "user", "content": .array(toolResults)])
            toolResults = []
        }
        for message in request["messages"]?.arrayValue ?? [] {
            switch message["role"]?.stringValue ?? "user" {
            case "system", "developer":
                let text = plainText(message["content"])
                if !text.isEmpty { systemParts.append(text) }
            case "tool":
                toolResults.append(toolResultBlock(message))
            case "assistant":
                flushToolResults()
                if let converted = assistantMessage(message) { messages.append(converted) }
            default:
                flushToolResults()
                messages.append(["role": "user", "content": userContent(message["content"])])
            }
        }
        flushToolResults()

        var out = JSONObject()
        out["model"] = .string(upstreamModel)
        if !systemParts.isEmpty { out["system"] = .string(systemParts.joined(separator: "\n\n")) }
        out["messages"] = .array(messages)
        let limit = request["max_completion_tokens"]?.intValue ?? request["max_tokens"]?.intValue
        out["max_tokens"] = .int(limit ?? defaultMaxTokens)
        for key in ["temperature", "top_p", "top_k"] where request[key]?.doubleValue != nil {
            out[key] = request[key]
        }
        let stops = stopSequences(request["stop"])
        if !stops.isEmpty { out["stop_sequences"] = .array(stops.map(JSONValue.string)) }
        if let stream = request["stream"]?.boolValue { out["stream"] = .bool(stream) }
        if let user = request["user"]?.stringValue { out["metadata"] = ["user_id": .string(user)] }
        let tools = (request["tools"]?.arrayValue ?? []).compactMap(toolDefinition)
        if !tools.isEmpty { out["tools"] = .array(tools) }
        if var choice = toolChoice(request["tool_choice"]) ?? (tools.isEmpty ? nil : JSONObject(["type": "auto"])) {
            if request["parallel_tool_calls"]?.boolValue == false, choice["type"]?.stringValue != "none" {
                choice["disable_parallel_tool_use"] = true
            }
            out["tool_choice"] = .object(choice)
        }
        if let thinking = request["thinking"], thinking.objectValue != nil { out["thinking"] = thinking }
        return out
    }

    /// Anthropic message response → OpenAI `chat.completion`.
    public static func chatCompletion(fromMessage message: JSONValue, created: Int) -> JSONValue {
        var texts: [String] = []
        var toolCalls: [JSONValue] = []
        for block in message["content"]?.arrayValue ?? [] {
            switch block["type"]?.stringValue {
            case "text": texts.append(block["text"]?.stringValue ?? "")
            case "tool_use":
                let input = block["input"] ?? .object(JSONObject())
                toolCalls.append(toolCall(id: block["id"]?.stringValue ?? "", name: block["name"]?.stringValue ?? "",
                                          arguments: input.jsonText))
            default: break
            }
        }
        var reply = JSONObject()
        reply["role"] = "assistant"
        reply["content"] = !texts.isEmpty ? .string(texts.joined()) : (toolCalls.isEmpty ? "" : .null)
        reply["refusal"] = .null
        if !toolCalls.isEmpty { reply["tool_calls"] = .array(toolCalls) }
        var choice = JSONObject()
        choice["index"] = 0
        choice["message"] = .object(reply)
        choice["logprobs"] = .null
        choice["finish_reason"] = .optionalString(finishReason(message["stop_reason"]?.stringValue))
        var out = JSONObject()
        out["id"] = .optionalString(message["id"]?.stringValue)
        out["object"] = "chat.completion"
        out["created"] = .int(created)
        out["model"] = .optionalString(message["model"]?.stringValue)
        out["choices"] = [.object(choice)]
        if let usage = message["usage"] {
            let counts = TokenCounts(usage)
            out["usage"] = usageJSON(counts.prompt, counts.cacheRead, counts.output)
        }
        return .object(out)
    }

    /// Anthropic error body (any HTTP status) → OpenAI error envelope, keeping the provider's
    /// message and type. A body that is not Anthropic's error shape is kept in `upstream_body`.
    public static func errorEnvelope(fromError body: JSONValue?, status: Int, rawBody: String) -> ErrorEnvelope {
        var extra = JSONObject()
        if let requestID = body?["request_id"]?.stringValue { extra["upstream_request_id"] = .string(requestID) }
        if let error = body?["error"], let message = error["message"]?.stringValue {
            let type = error["type"]?.stringValue ?? errorType(forStatus: status)
            return ErrorEnvelope(message: message, type: type, code: errorCode(forType: type), extra: extra)
        }
        let type = errorType(forStatus: status)
        var message = "Anthropic upstream returned HTTP \(status)"
        let trimmed = rawBody.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty {
            message += ": " + String(trimmed.prefix(500))
            extra["upstream_body"] = .string(String(rawBody.prefix(4096)))
        }
        return ErrorEnvelope(message: message, type: type, code: errorCode(forType: type), extra: extra)
    }

    // MARK: - Shared with the stream translator

    /// Anthropic `stop_reason` → OpenAI `finish_reason`; `nil` stays `nil`.
    static func finishReason(_ stopReason: String?) -> String? {
        switch stopReason {
        case nil: nil
        case "max_tokens", "model_context_window_exceeded": "length"
        case "tool_use": "tool_calls"
        case "refusal": "content_filter"
        default: "stop"  // end_turn, stop_sequence, pause_turn and any later addition
        }
    }

    /// Token counts read from an Anthropic `usage` object. Anthropic's `input_tokens` excludes cache
    /// reads and writes; OpenAI's `prompt_tokens` includes them.
    struct TokenCounts {
        var prompt: Int?
        var cacheRead: Int?
        var output: Int?

        init(_ usage: JSONValue?) {
            let input = usage?["input_tokens"]?.countValue
            cacheRead = usage?["cache_read_input_tokens"]?.countValue
            let cacheWrite = usage?["cache_creation_input_tokens"]?.countValue
            if input != nil || cacheRead != nil || cacheWrite != nil {
                prompt = (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0)
            }
            output = usage?["output_tokens"]?.countValue
        }
    }

    static func usageJSON(_ prompt: Int?, _ cacheRead: Int?, _ completion: Int?) -> JSONValue {
        let prompt = prompt ?? 0, completion = completion ?? 0
        return [
            "prompt_tokens": .int(prompt), "completion_tokens": .int(completion),
            "total_tokens": .int(prompt + completion),
            "prompt_tokens_details": ["cached_tokens": .int(cacheRead ?? 0)],
        ]
    }

    static func toolCall(id: String, name: String, arguments: String) -> JSONValue {
        ["id": .string(id), "type": "function", "function": ["name": .string(name), "arguments": .string(arguments)]]
    }

    // MARK: - Request pieces

    private static func plainText(_ content: JSONValue?) -> String {
        if let text = content?.stringValue { return text }
        return (content?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
    }

    private static func userContent(_ content: JSONValue?) -> JSONValue {
        if let parts = content?.arrayValue { return .array(contentBlocks(parts)) }
        return .string(content?.stringValue ?? "")
    }

    private static func contentBlocks(_ parts: [JSONValue]) -> [JSONValue] {
        parts.compactMap { part -> JSONValue? in
            switch part["type"]?.stringValue {
            case "text": ["type": "text", "text": .string(part["text"]?.stringValue ?? "")]
            case "refusal": ["type": "text", "text": .string(part["refusal"]?.stringValue ?? "")]
            case "image_url": imageBlock(part["image_url"]?["url"]?.stringValue ?? part["image_url"]?.stringValue)
            default: nil
            }
        }
    }

    /// `data:<media type>;base64,<data>` → a base64 image source; http(s) → a URL image source.
    private static func imageBlock(_ url: String?) -> JSONValue? {
        guard let url else { return nil }
        if url.hasPrefix("data:"), let comma = url.firstIndex(of: ",") {
            let header = url[url.index(url.startIndex, offsetBy: 5)..<comma]
            guard header.hasSuffix(";base64") else { return nil }
            let mediaType = String(header.dropLast(";base64".count))
            let data = String(url[url.index(after: comma)...])
            return ["type": "image", "source": ["type": "base64", "media_type": .string(mediaType), "data": .string(data)]]
        }
        if url.hasPrefix("https://") || url.hasPrefix("http://") {
            return ["type": "image", "source": ["type": "url", "url": .string(url)]]
        }
        return nil
    }

    private static func assistantMessage(_ message: JSONValue) -> JSONValue? {
        let calls = message["tool_calls"]?.arrayValue ?? []
        if calls.isEmpty, let text = message["content"]?.stringValue {
            return text.isEmpty ? nil : ["role": "assistant", "content": .string(text)]
        }
        var blocks: [JSONValue] = []
        if let text = message["content"]?.stringValue, !text.isEmpty {
            blocks.append(["type": "text", "text": .string(text)])
        } else if let parts = message["content"]?.arrayValue {
            blocks += contentBlocks(parts)
        }
        for call in calls {
            let arguments = call["function"]?["arguments"]?.stringValue ?? ""
            let input = (try? JSONValue.parse(arguments))?.objectValue ?? JSONObject()
            blocks.append([
                "type": "tool_use", "id": .string(call["id"]?.stringValue ?? ""),
                "name": .string(call["function"]?["name"]?.stringValue ?? ""), "input": .object(input),
            ])
        }
        return blocks.isEmpty ? nil : ["role": "assistant", "content": .array(blocks)]
    }

    private static func toolResultBlock(_ message: JSONValue) -> JSONValue {
        var block = JSONObject(["type": "tool_result", "tool_use_id": .string(message["tool_call_id"]?.stringValue ?? "")])
        if let parts = message["content"]?.arrayValue {
            block["content"] = .array(contentBlocks(parts))
        } else {
            block["content"] = .string(message["content"]?.stringValue ?? "")
        }
        return .object(block)
    }

    private static func stopSequences(_ stop: JSONValue?) -> [String] {
        let all = stop?.stringValue.map { [$0] } ?? (stop?.arrayValue ?? []).compactMap(\.stringValue)
        return all.filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
    }

    private static func toolDefinition(_ tool: JSONValue) -> JSONValue? {
        guard tool["type"]?.stringValue ?? "function" == "function", let function = tool["function"],
              let name = function["name"]?.stringValue else { return nil }
        var out = JSONObject(["name": .string(name)])
        if let description = function["description"]?.stringValue { out["description"] = .string(description) }
        out["input_schema"] = function["parameters"] ?? ["type": "object", "properties": [:]]
        return .object(out)
    }

    private static func toolChoice(_ choice: JSONValue?) -> JSONObject? {
        switch choice?.stringValue {
        case "auto": return JSONObject(["type": "auto"])
        case "none": return JSONObject(["type": "none"])
        case "required": return JSONObject(["type": "any"])
        default:
            guard let name = choice?["function"]?["name"]?.stringValue else { return nil }
            return JSONObject(["type": "tool", "name": .string(name)])
        }
    }

    // MARK: - Errors

    private static func errorType(forStatus status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }

    private static func errorCode(forType type: String) -> String? {
        switch type {
        case "rate_limit_error": "rate_limit_exceeded"
        case "overloaded_error": "overloaded"
        case "authentication_error": "invalid_api_key"
        case "permission_error": "permission_denied"
        case "not_found_error": "not_found"
        case "request_too_large": "request_too_large"
        default: nil
        }
    }
}

/// Shapes shared by streamed and non-streamed Responses answers, so both read alike.
enum ResponsesObjects {
    // MARK: Identifiers

    /// The part of a response id after its prefix (`resp_ab12` → `ab12`).
    static func idSuffix(of responseID: String) -> String {
        if let underscore = responseID.firstIndex(of: "_") {
            let suffix = responseID[responseID.index(after: underscore)...]
            if !suffix.isEmpty { return String(suffix) }
        }
        return responseID
    }

    /// Id of the `ordinal`-th message item of a response: the first is `msg_<suffix>`.
    static func messageID(responseID: String, ordinal: Int = 0) -> String {
        let base = "msg_" + idSuffix(of: responseID)
        return ordinal == 0 ? base : base + hex(ordinal)
    }

    /// Id of the `ordinal`-th function call item of a response.
    static func functionCallID(responseID: String, ordinal: Int) -> String {
        "fc_" + idSuffix(of: responseID) + hex(ordinal)
    }

    /// A call id for a tool call the upstream sent without one.
    static func callID(responseID: String, ordinal: Int) -> String {
        "call_" + idSuffix(of: responseID) + hex(ordinal)
    }

    static func hex(_ value: Int) -> String {
        let digits = String(value, radix: 16)
        return digits.count < 2 ? "0" + digits : digits
    }

    // MARK: Items

    static func outputTextPart(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": []]
    }

    static func refusalPart(_ refusal: String) -> JSONValue {
        ["type": "refusal", "refusal": .string(refusal)]
    }

    static func messageItem(id: String, status: String, content: [JSONValue]) -> JSONValue {
        ["type": "message", "id": .string(id), "status": .string(status), "role": "assistant", "content": .array(content)]
    }

    static func functionCallItem(id: String, callID: String, name: String, arguments: String, status: String) -> JSONValue {
        [
            "type": "function_call", "id": .string(id), "call_id": .string(callID), "name": .string(name),
            "arguments": .string(arguments), "status": .string(status),
        ]
    }

    // MARK: Usage and status

    static func usage(input: Int, output: Int, total: Int? = nil, cached: Int = 0, reasoning: Int = 0) -> JSONValue {
        [
            "input_tokens": .int(input),
            "input_tokens_details": ["cached_tokens": .int(cached), "cache_write_tokens": 0],
            "output_tokens": .int(output),
            "output_tokens_details": ["reasoning_tokens": .int(reasoning)],
            "total_tokens": .int(total ?? input + output),
        ]
    }

    /// Responses usage for a Chat Completions `usage` object, or `nil` when there is none.
    static func usage(fromChat usage: JSONValue?) -> JSONValue? {
        guard let usage, case .object = usage else { return nil }
        let input = usage["prompt_tokens"]?.countValue ?? usage["input_tokens"]?.countValue ?? 0
        let output = usage["completion_tokens"]?.countValue ?? usage["output_tokens"]?.countValue ?? 0
        return self.usage(
            input: input,
            output: output,
            total: usage["total_tokens"]?.countValue,
            cached: usage["prompt_tokens_details"]?["cached_tokens"]?.countValue ?? 0,
            reasoning: usage["completion_tokens_details"]?["reasoning_tokens"]?.countValue ?? 0)
    }

    /// The `incomplete_details.reason` for a chat `finish_reason`, or `nil` when the answer is complete.
    static func incompleteReason(finishReason: String?) -> String? {
        switch finishReason {
        case "length": "max_output_tokens"
        case "content_filter": "content_filter"
        default: nil
        }
    }

    // MARK: Response object

    /// A full `response` object. Request parameters are echoed the way the OpenAI API does, so
    /// that typed clients (the official SDKs among them) parse it.
    static func response(
        id: String, createdAt: Int, model: String, request: JSONObject, status: String,
        output: [JSONValue], usage: JSONValue, error: JSONValue = .null, incompleteReason: String? = nil
    ) -> JSONValue {
        var object = JSONObject()
        object["id"] = .string(id)
        object["object"] = "response"
        object["created_at"] = .int(createdAt)
        object["status"] = .string(status)
        object["error"] = error
        object["incomplete_details"] = incompleteReason.map { ["reason": .string($0)] } ?? .null
        object["instructions"] = request["instructions"] ?? .null
        object["max_output_tokens"] = request["max_output_tokens"] ?? .null
        object["model"] = .string(model)
        object["output"] = .array(output)
        object["parallel_tool_calls"] = .bool(request["parallel_tool_calls"]?.boolValue ?? true)
        object["previous_response_id"] = request["previous_response_id"]?.stringValue.map(JSONValue.string) ?? .null
        object["store"] = .bool(request["store"]?.boolValue ?? true)
        object["reasoning"] = request["reasoning"]?.objectValue.map { .object($0) } ?? ["effort": nil, "summary": nil]
        object["temperature"] = request["temperature"] ?? .null
        object["text"] = request["text"]?.objectValue.map { .object($0) } ?? ["format": ["type": "text"]]
        object["tool_choice"] = nonNull(request["tool_choice"]) ?? "auto"
        object["tools"] = request["tools"]?.arrayValue.map { .array($0) } ?? []
        object["top_p"] = request["top_p"] ?? .null
        object["truncation"] = "disabled"
        object["usage"] = usage
        object["user"] = request["user"] ?? .null
        object["metadata"] = request["metadata"]?.objectValue.map { .object($0) } ?? [:]
        return .object(object)
    }

    private static func nonNull(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }
}

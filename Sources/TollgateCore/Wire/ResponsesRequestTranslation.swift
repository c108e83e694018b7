/// Translation between the OpenAI Responses API and Chat Completions: a Responses request is
/// answered by a chat upstream, and its answer is turned back into a Responses object or stream.
public enum ResponsesTranslation {
    /// Responses-only request members that have no Chat Completions counterpart.
    static let droppedRequestFields: Set<String> = [
        "metadata", "store", "previous_response_id", "reasoning", "truncation", "include",
        "custom_inputs", "context", "databricks_options", "client_request_id", "usage_context",
        "background", "conversation", "prompt", "max_tool_calls", "top_logprobs",
        "prompt_cache_retention", "stream_options",
    ]

    /// Converts a Responses API request body into a Chat Completions request body for the upstream.
    ///
    /// `instructions` becomes a leading system message, a string `input` one user message, and input
    /// items are converted by MLflow's rules (consecutive `function_call` items share one assistant
    /// message so that parallel calls stay valid for chat upstreams). `max_output_tokens` becomes
    /// `max_tokens`, function tools and `tool_choice` take the chat shape, `text.format` becomes
    /// `response_format`, and streaming requests ask for usage. Responses-only members are dropped;
    /// any other member passes through.
    public static func chatRequest(fromResponses request: JSONObject, upstreamModel: String) throws(TranslationError) -> JSONObject {
        var messages: [JSONValue] = []
        switch request["instructions"] {
        case nil, .null?:
            break
        case .string(let instructions)?:
            if !instructions.isEmpty { messages.append(["role": "system", "content": .string(instructions)]) }
        case .array(let items)?:
            messages += try chatMessages(fromItems: items, param: "instructions")
        default:
            throw TranslationError(message: "Invalid type for 'instructions': expected a string.", param: "instructions")
        }

        switch request["input"] {
        case nil, .null?:
            throw TranslationError(message: "Missing required parameter: 'input'.", param: "input")
        case .string(let input)?:
            messages.append(["role": "user", "content": .string(input)])
        case .array(let items)?:
            messages += try chatMessages(fromItems: items, param: "input")
        default:
            throw TranslationError(
                message: "Invalid type for 'input': expected a string or an array of input items.", param: "input")
        }

        let tools = try chatTools(from: request["tools"])
        var body = JSONObject()
        body["model"] = .string(upstreamModel)
        body["messages"] = .array(messages)
        for (key, value) in request.pairs {
            switch key {
            case "model", "input", "instructions":
                continue
            case "max_output_tokens":
                if !value.isNull { body["max_tokens"] = value }
            case "tools":
                if !tools.isEmpty { body["tools"] = .array(tools) }
            case "tool_choice":
                // Chat upstreams reject a tool choice without tools.
                if !tools.isEmpty, let choice = try chatToolChoice(from: value) { body["tool_choice"] = choice }
            case "parallel_tool_calls":
                if !tools.isEmpty, !value.isNull { body[key] = value }
            case "stream":
                body["stream"] = value
                if value.boolValue == true { body["stream_options"] = ["include_usage": true] }
            case "text":
                if let format = responseFormat(fromText: value) { body["response_format"] = format }
            default:
                if !droppedRequestFields.contains(key) { body[key] = value }
            }
        }
        return body
    }

    /// Chat messages for a list of Responses input items.
    static func chatMessages(fromItems items: [JSONValue], param: String) throws(TranslationError) -> [JSONValue] {
        var out: [JSONValue] = []
        var lastWasFunctionCall = false
        for (index, value) in items.enumerated() {
            let itemParam = "\(param)[\(index)]"
            guard case .object(let item) = value else {
                throw TranslationError(message: "Invalid type for '\(itemParam)': expected an object.", param: itemParam)
            }
            let type = item["type"]?.stringValue
            if type == "function_call" {
                let call = try chatToolCall(fromFunctionCall: item, param: itemParam)
                if lastWasFunctionCall, case .object(var previous)? = out.last,
                    case .array(var calls)? = previous["tool_calls"]
                {
                    calls.append(call)
                    previous["tool_calls"] = .array(calls)
                    out[out.count - 1] = .object(previous)
                } else {
                    out.append(["role": "assistant", "content": "tool call", "tool_calls": [call]])
                }
                lastWasFunctionCall = true
                continue
            }
            lastWasFunctionCall = false
            switch type {
            case "function_call_output":
                guard let callID = item["call_id"]?.stringValue else {
                    throw TranslationError(
                        message: "Missing required parameter: '\(itemParam).call_id'.", param: "\(itemParam).call_id")
                }
                out.append(["role": "tool", "content": .string(outputText(item["output"])), "tool_call_id": .string(callID)])
            case "reasoning":
                out.append(["role": "assistant", "content": .string((item["summary"] ?? []).jsonText)])
            case "message",
                nil where item["content"]?.arrayValue != nil:
                out += messagesPerPart(item)
            default:
                var kept = JSONObject()
                for key in ["role", "content", "name", "tool_calls", "tool_call_id"] {
                    if let member = item[key] { kept[key] = member }
                }
                if !kept.isEmpty { out.append(.object(kept)) }
            }
        }
        return out
    }

    /// One chat message per content part of a message item: text parts as plain content, images
    /// as a one-part content array.
    static func messagesPerPart(_ item: JSONObject) -> [JSONValue] {
        guard let parts = item["content"]?.arrayValue else {
            var kept = JSONObject()
            for key in ["role", "content", "name"] { if let member = item[key] { kept[key] = member } }
            return kept.isEmpty ? [] : [.object(kept)]
        }
        let role = item["role"] ?? "user"
        var out: [JSONValue] = []
        for part in parts {
            switch part["type"]?.stringValue {
            case "input_text", "output_text", "text":
                if let text = part["text"]?.stringValue { out.append(["role": role, "content": .string(text)]) }
            case "refusal":
                if let text = part["refusal"]?.stringValue { out.append(["role": role, "content": .string(text)]) }
            case "input_image":
                guard let url = part["image_url"]?.stringValue else { continue }
                var image = JSONObject()
                image["url"] = .string(url)
                if let detail = part["detail"], !detail.isNull { image["detail"] = detail }
                out.append(["role": role, "content": [["type": "image_url", "image_url": .object(image)]]])
            case "image_url":
                out.append(["role": role, "content": [part]])
            default:
                continue
            }
        }
        return out
    }

    static func chatToolCall(fromFunctionCall item: JSONObject, param: String) throws(TranslationError) -> JSONValue {
        guard let callID = item["call_id"]?.stringValue else {
            throw TranslationError(message: "Missing required parameter: '\(param).call_id'.", param: "\(param).call_id")
        }
        guard let name = item["name"]?.stringValue else {
            throw TranslationError(message: "Missing required parameter: '\(param).name'.", param: "\(param).name")
        }
        return [
            "id": .string(callID), "type": "function",
            "function": ["name": .string(name), "arguments": .string(argumentsText(item["arguments"]))],
        ]
    }

    /// A tool result as chat message content: strings as they are, text parts joined, anything
    /// else as JSON text.
    static func outputText(_ output: JSONValue?) -> String {
        switch output {
        case nil, .null?: return ""
        case .string(let text)?: return text
        case .array(let parts)? where !parts.isEmpty && parts.allSatisfy({ $0["text"]?.stringValue != nil }):
            return parts.compactMap { $0["text"]?.stringValue }.joined()
        case let other?: return other.jsonText
        }
    }

    static func chatTools(from value: JSONValue?) throws(TranslationError) -> [JSONValue] {
        guard let value, !value.isNull else { return [] }
        guard case .array(let tools) = value else {
            throw TranslationError(message: "Invalid type for 'tools': expected an array.", param: "tools")
        }
        var out: [JSONValue] = []
        for (index, tool) in tools.enumerated() {
            let param = "tools[\(index)]"
            guard case .object(let object) = tool else {
                throw TranslationError(message: "Invalid type for '\(param)': expected an object.", param: param)
            }
            let type = object["type"]?.stringValue ?? ""
            guard type == "function" else {
                throw TranslationError(
                    message: "Tool type '\(type)' is not supported: only function tools can be sent to this model.",
                    param: "\(param).type")
            }
            if object["function"]?.objectValue != nil {
                out.append(tool)
                continue
            }
            guard let name = object["name"]?.stringValue else {
                throw TranslationError(message: "Missing required parameter: '\(param).name'.", param: "\(param).name")
            }
            var function = JSONObject()
            function["name"] = .string(name)
            for key in ["description", "parameters", "strict"] {
                if let member = object[key], !member.isNull { function[key] = member }
            }
            out.append(["type": "function", "function": .object(function)])
        }
        return out
    }

    static func chatToolChoice(from value: JSONValue) throws(TranslationError) -> JSONValue? {
        switch value {
        case .null:
            return nil
        case .string:
            return value
        case .object(let choice):
            if choice["function"]?.objectValue != nil { return value }
            switch choice["type"]?.stringValue {
            case "function":
                guard let name = choice["name"]?.stringValue else {
                    throw TranslationError(message: "Missing required parameter: 'tool_choice.name'.", param: "tool_choice.name")
                }
                return ["type": "function", "function": ["name": .string(name)]]
            case "allowed_tools":
                var tools: [JSONValue] = []
                for tool in choice["tools"]?.arrayValue ?? [] {
                    if let name = tool["name"]?.stringValue {
                        tools.append(["type": "function", "function": ["name": .string(name)]])
                    } else {
                        tools.append(tool)
                    }
                }
                return [
                    "type": "allowed_tools",
                    "allowed_tools": ["mode": choice["mode"] ?? "auto", "tools": .array(tools)],
                ]
            case let other:
                throw TranslationError(
                    message: "Tool choice type '\(other ?? "")' is not supported by this model.", param: "tool_choice")
            }
        default:
            throw TranslationError(message: "Invalid type for 'tool_choice'.", param: "tool_choice")
        }
    }

    /// `text.format` as a chat `response_format`; plain text needs none.
    static func responseFormat(fromText text: JSONValue) -> JSONValue? {
        guard let format = text["format"]?.objectValue else { return nil }
        switch format["type"]?.stringValue {
        case "json_schema":
            var schema = JSONObject()
            for key in ["name", "description", "schema", "strict"] {
                if let member = format[key], !member.isNull { schema[key] = member }
            }
            return ["type": "json_schema", "json_schema": .object(schema)]
        case "json_object":
            return ["type": "json_object"]
        default:
            return nil
        }
    }
}

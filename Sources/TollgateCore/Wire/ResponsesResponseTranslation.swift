extension ResponsesTranslation {
    /// Builds a Responses API response object from a Chat Completions response body.
    ///
    /// The first choice (index 0) gives one `message` item when it has text or a refusal, then one
    /// `function_call` item per tool call. `finish_reason` `length` or `content_filter` makes the
    /// response `incomplete`. A body without choices gives a completed response with no output.
    /// `usage` is `null` when the upstream reported none.
    public static func response(
        fromChatCompletion completion: JSONValue, request: JSONObject, model: String, responseID: String, createdAt: Int
    ) -> JSONValue {
        let choices = completion["choices"]?.arrayValue ?? []
        let choice = choices.first { $0["index"]?.intValue == 0 } ?? choices.first
        let message = choice?["message"]

        var output: [JSONValue] = []
        var content: [JSONValue] = []
        if let text = messageText(message?["content"]), !text.isEmpty {
            content.append(ResponsesObjects.outputTextPart(text))
        }
        if let refusal = message?["refusal"]?.stringValue, !refusal.isEmpty {
            content.append(ResponsesObjects.refusalPart(refusal))
        }

        let reason = ResponsesObjects.incompleteReason(finishReason: choice?["finish_reason"]?.stringValue)
        let itemStatus = reason == nil ? "completed" : "incomplete"
        if !content.isEmpty {
            output.append(
                ResponsesObjects.messageItem(
                    id: ResponsesObjects.messageID(responseID: responseID), status: itemStatus, content: content))
        }

        var calls = message?["tool_calls"]?.arrayValue ?? []
        if let legacy = message?["function_call"], legacy.objectValue != nil {
            calls.append(["function": legacy])
        }
        for (ordinal, call) in calls.enumerated() {
            let function = call["function"]
            output.append(
                ResponsesObjects.functionCallItem(
                    id: ResponsesObjects.functionCallID(responseID: responseID, ordinal: ordinal),
                    callID: nonEmpty(call["id"]?.stringValue)
                        ?? ResponsesObjects.callID(responseID: responseID, ordinal: ordinal),
                    name: function?["name"]?.stringValue ?? "",
                    arguments: argumentsText(function?["arguments"]),
                    status: "completed"))
        }

        return ResponsesObjects.response(
            id: responseID,
            createdAt: createdAt,
            model: model,
            request: request,
            status: reason == nil ? "completed" : "incomplete",
            output: output,
            usage: ResponsesObjects.usage(fromChat: completion["usage"]) ?? .null,
            incompleteReason: reason)
    }

    /// Message content as text: a string, or the text parts of a content array joined.
    static func messageText(_ content: JSONValue?) -> String? {
        switch content {
        case .string(let text)?:
            return text
        case .array(let parts)?:
            let texts = parts.compactMap { $0["text"]?.stringValue }
            return texts.isEmpty ? nil : texts.joined()
        default:
            return nil
        }
    }

    /// Tool call arguments as the JSON text clients parse; empty arguments become `{}`.
    static func argumentsText(_ arguments: JSONValue?) -> String {
        switch arguments {
        case .string(let text)? where !text.isEmpty: text
        case nil, .null?, .some(.string): "{}"
        case let other?: other.jsonText
        }
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}

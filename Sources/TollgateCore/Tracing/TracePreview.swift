/// Short texts shown in trace lists (`request_preview`, `response_preview`, at most 1000 characters).
public enum TracePreview {
    public static let limit = 1000

    /// The last user message of a chat (`messages`) or Responses (`input`) body; the body itself
    /// (cut) when it is not JSON. Only that message is built from the body.
    public static func request(_ body: String?) -> String {
        guard let body, let source = try? RequestPreviewSource.read(body) else { return (body ?? "").leading(limit) }
        switch source {
        case .input(let input): return input.leading(limit)
        case .userContent(let content): return text(of: content).leading(limit)
        case .none: return ""
        }
    }

    /// Text of a message `content`: a string, or the text parts of a list.
    public static func text(of content: JSONValue?) -> String {
        if let string = content?.stringValue { return string }
        return (content?.arrayValue ?? []).compactMap { $0["text"]?.stringValue }.joined(separator: " ")
    }

    /// What the client got: assistant text of a chat completion or Responses object, the joined
    /// deltas of a recorded stream, or an error message.
    public static func response(_ body: String?) -> String {
        guard let body, let json = try? JSONValue.parse(body) else { return "" }
        return text(ofOutput: json).leading(limit)
    }

    static func text(ofOutput json: JSONValue) -> String {
        if let payloads = json.arrayValue {
            var text = ""
            for payload in payloads {
                text += ChatCompletionText.delta(ofChunk: payload)
                if payload["type"]?.stringValue == "response.output_text.delta" { text += payload["delta"]?.stringValue ?? "" }
            }
            if text.isEmpty, let error = payloads.last?["error"]?["message"]?.stringValue { return error }
            return text
        }
        if json["choices"] != nil { return ChatCompletionText.text(ofCompletion: json) }
        if let output = json["output"]?.arrayValue {
            return output.flatMap { $0["content"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }.joined()
        }
        return json["error"]?["message"]?.stringValue ?? ""
    }
}

/// Short texts shown in trace lists (`request_preview`, `response_preview`, at most 1000 characters).
public enum TracePreview {
    public static let limit = 1000

    /// The last user message of a chat (`messages`) or Responses (`input`) body.
    public static func request(_ body: String?) -> String {
        guard let body, let json = try? JSONValue.parse(body) else { return String((body ?? "").prefix(limit)) }
        if let input = json["input"]?.stringValue { return String(input.prefix(limit)) }
        let items = json["messages"]?.arrayValue ?? json["input"]?.arrayValue ?? []
        for item in items.reversed() where item["role"]?.stringValue == "user" {
            return String(text(of: item["content"]).prefix(limit))
        }
        return ""
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
        return String(text(ofOutput: json).prefix(limit))
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

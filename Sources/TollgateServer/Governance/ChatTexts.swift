import TollgateCore

/// The texts guardrails read in a chat request (message contents, string or text parts) or an
/// embeddings request (`input` strings), and the same request with those texts replaced.
enum ChatTexts {
    /// Every text in document order.
    static func texts(in body: JSONValue) -> [String] {
        var out: [String] = []
        if let messages = body["messages"]?.arrayValue {
            for message in messages { collect(message["content"], into: &out) }
        } else if let input = body["input"] {
            switch input {
            case .string(let text): out.append(text)
            case .array(let items): out += items.compactMap(\.stringValue)
            default: break
            }
        }
        return out
    }

    /// A message content's texts, read without rebuilding it (the order `rewriteContent` visits).
    private static func collect(_ content: JSONValue?, into out: inout [String]) {
        switch content {
        case .string(let text)?: out.append(text)
        case .array(let parts)?: out += parts.compactMap { $0["text"]?.stringValue }
        default: break
        }
    }

    /// The user-authored texts (what the judge reads): user messages, or embeddings input.
    static func userText(in body: JSONValue) -> String {
        if let messages = body["messages"]?.arrayValue {
            return messages.filter { $0["role"]?.stringValue == "user" }.flatMap { texts(inContent: $0["content"]) }.joined(separator: "\n")
        }
        return texts(in: body).joined(separator: "\n")
    }

    /// The body with each text passed through `transform`, in the order `texts(in:)` lists them.
    static func rewrite(_ body: JSONValue, _ transform: (String) -> String) -> JSONValue {
        guard case .object(var object) = body else { return body }
        if case .array(var messages)? = object["messages"] {
            for index in messages.indices {
                guard case .object(var message) = messages[index], let content = message["content"] else { continue }
                message["content"] = rewriteContent(content, transform)
                messages[index] = .object(message)
            }
            object["messages"] = .array(messages)
        } else if let input = object["input"] {
            switch input {
            case .string(let text): object["input"] = .string(transform(text))
            case .array(let items): object["input"] = .array(items.map { item in item.stringValue.map { .string(transform($0)) } ?? item })
            default: break
            }
        }
        return .object(object)
    }

    private static func texts(inContent content: JSONValue?) -> [String] {
        var out: [String] = []
        collect(content, into: &out)
        return out
    }

    private static func rewriteContent(_ content: JSONValue, _ transform: (String) -> String) -> JSONValue {
        switch content {
        case .string(let text):
            return .string(transform(text))
        case .array(let parts):
            return .array(parts.map { part in
                guard case .object(var object) = part, let text = object["text"]?.stringValue else { return part }
                object["text"] = .string(transform(text))
                return .object(object)
            })
        default:
            return content
        }
    }
}

/// The output items a `ResponsesStreamBuilder` assembles while chunks arrive.
extension ResponsesStreamBuilder {
    /// An assistant message item: its output-text and refusal parts, each with its content index.
    struct MessageState: Sendable {
        var id: String
        var outputIndex: Int
        var text: String?
        var textIndex = 0
        var refusal: String?
        var refusalIndex = 0
        var partCount = 0
        /// `in_progress` while open, then the status it was closed with.
        var status = "in_progress"

        /// The content parts in content-index order.
        var contentParts: [(Int, JSONValue)] {
            var parts: [(Int, JSONValue)] = []
            if let text { parts.append((textIndex, ResponsesObjects.outputTextPart(text))) }
            if let refusal { parts.append((refusalIndex, ResponsesObjects.refusalPart(refusal))) }
            return parts.sorted { $0.0 < $1.0 }
        }

        var item: JSONValue {
            ResponsesObjects.messageItem(id: id, status: status, content: contentParts.map { $0.1 })
        }
    }

    /// A function call item, keyed by the chat `tool_calls[].index` it accumulates.
    struct CallState: Sendable {
        var key: Int
        var id: String
        var callID = ""
        var name = ""
        var arguments = ""
        /// Set once the item has been announced.
        var outputIndex: Int?
        var status = "in_progress"

        /// The arguments as clients parse them: `{}` when the upstream sent none.
        var finalArguments: String { ResponsesTranslation.argumentsText(.string(arguments)) }

        func item(arguments: String) -> JSONValue {
            ResponsesObjects.functionCallItem(id: id, callID: callID, name: name, arguments: arguments, status: status)
        }
    }
}

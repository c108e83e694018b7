/// Turns a Chat Completions stream into the Responses API event sequence, one chunk at a time.
///
/// Items are announced with `response.output_item.added` before their deltas and always closed
/// with `response.output_item.done` carrying the whole item, so clients that rebuild the answer
/// from `done` items (MLflow's reducer among them) see the full text. A message is closed when a
/// tool call starts; tool calls stay open until the stream ends, because chat upstreams may
/// interleave their argument deltas.
public struct ResponsesStreamBuilder: Sendable {
    private let responseID: String
    private let model: String
    private let createdAt: Int
    private let request: JSONObject
    private var sequenceNumber = 0
    private var started = false
    private var ended = false
    private var nextOutputIndex = 0
    private var messages: [MessageState] = []
    private var calls: [CallState] = []
    private var finishReason: String?
    private var upstreamUsage: JSONValue?

    /// Whether any text delta has been emitted (used for time-to-first-token).
    public private(set) var hasEmittedContent = false
    /// The text produced so far.
    public private(set) var text = ""
    /// The whole `response` object of `response.completed` (or `.incomplete`), once finished.
    public private(set) var finalResponse: JSONValue?

    public init(responseID: String, model: String, createdAt: Int, request: JSONObject) {
        self.responseID = responseID
        self.model = model
        self.createdAt = createdAt
        self.request = request
    }

    /// `response.created` and `response.in_progress`; empty once the stream has started.
    public mutating func start() -> [ServerSentEvent] {
        guard !started, !ended else { return [] }
        started = true
        let response = snapshot(status: "in_progress", output: [], usage: .null)
        return [event("response.created", ["response": response]), event("response.in_progress", ["response": response])]
    }

    /// Consumes one parsed `chat.completion.chunk` and returns the events it produces (starting the
    /// stream first if `start()` was not called). Chunks without choices only contribute usage.
    public mutating func consume(chunk: JSONValue) -> [ServerSentEvent] {
        guard !ended else { return [] }
        var events = start()
        if let usage = chunk["usage"], usage.objectValue != nil { upstreamUsage = usage }
        for choice in chunk["choices"]?.arrayValue ?? [] {
            if let index = choice["index"]?.intValue, index != 0 { continue }
            if let delta = choice["delta"] {
                if let content = delta["content"]?.stringValue, !content.isEmpty {
                    appendText(content, into: &events)
                }
                if let refusal = delta["refusal"]?.stringValue, !refusal.isEmpty {
                    appendRefusal(refusal, into: &events)
                }
                for call in delta["tool_calls"]?.arrayValue ?? [] {
                    appendToolCall(call, into: &events)
                }
            }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        }
        return events
    }

    /// Closes open items and ends with `response.completed`, or `response.incomplete` when the
    /// upstream stopped for length or content filtering. `fallbackUsage` (input, output tokens)
    /// is reported when the upstream sent no usage.
    public mutating func finish(fallbackUsage: (input: Int, output: Int)?) -> [ServerSentEvent] {
        guard !ended else { return [] }
        var events = start()
        let reason = ResponsesObjects.incompleteReason(finishReason: finishReason)
        let status = reason == nil ? "completed" : "incomplete"
        closeAll(status: status, into: &events)
        let usage =
            ResponsesObjects.usage(fromChat: upstreamUsage)
            ?? fallbackUsage.map { ResponsesObjects.usage(input: $0.input, output: $0.output) } ?? .null
        let response = snapshot(status: status, output: outputItems(), usage: usage, incompleteReason: reason)
        events.append(event(reason == nil ? "response.completed" : "response.incomplete", ["response": response]))
        finalResponse = response
        ended = true
        return events
    }

    /// Ends a stream that failed upstream: closes open items (as incomplete) and emits
    /// `response.failed` with the envelope's code and message.
    public mutating func fail(_ error: ErrorEnvelope) -> [ServerSentEvent] {
        guard !ended else { return [] }
        var events = start()
        closeAll(status: "incomplete", into: &events)
        let failure: JSONValue = ["code": .string(error.code ?? "server_error"), "message": .string(error.message)]
        let response = snapshot(
            status: "failed", output: outputItems(), usage: ResponsesObjects.usage(fromChat: upstreamUsage) ?? .null,
            error: failure)
        events.append(event("response.failed", ["response": response]))
        ended = true
        return events
    }

    // MARK: Deltas

    private mutating func appendText(_ delta: String, into events: inout [ServerSentEvent]) {
        let m = openMessage(into: &events)
        if messages[m].text == nil {
            messages[m].text = ""
            messages[m].textIndex = messages[m].partCount
            messages[m].partCount += 1
            events.append(partEvent("response.content_part.added", m, messages[m].textIndex, ResponsesObjects.outputTextPart("")))
        }
        messages[m].text = (messages[m].text ?? "") + delta
        text += delta
        hasEmittedContent = true
        events.append(
            event("response.output_text.delta", [
                "item_id": .string(messages[m].id), "output_index": .int(messages[m].outputIndex),
                "content_index": .int(messages[m].textIndex), "delta": .string(delta), "logprobs": [],
            ]))
    }

    private mutating func appendRefusal(_ delta: String, into events: inout [ServerSentEvent]) {
        let m = openMessage(into: &events)
        if messages[m].refusal == nil {
            messages[m].refusal = ""
            messages[m].refusalIndex = messages[m].partCount
            messages[m].partCount += 1
            events.append(partEvent("response.content_part.added", m, messages[m].refusalIndex, ResponsesObjects.refusalPart("")))
        }
        messages[m].refusal = (messages[m].refusal ?? "") + delta
        events.append(
            event("response.refusal.delta", [
                "item_id": .string(messages[m].id), "output_index": .int(messages[m].outputIndex),
                "content_index": .int(messages[m].refusalIndex), "delta": .string(delta),
            ]))
    }

    private mutating func appendToolCall(_ call: JSONValue, into events: inout [ServerSentEvent]) {
        let key = call["index"]?.intValue ?? keyForUnindexedCall(call)
        let c: Int
        if let existing = calls.firstIndex(where: { $0.key == key }) {
            c = existing
        } else {
            calls.append(CallState(key: key, id: ResponsesObjects.functionCallID(responseID: responseID, ordinal: calls.count)))
            c = calls.count - 1
        }
        if let id = call["id"]?.stringValue, !id.isEmpty, calls[c].callID.isEmpty { calls[c].callID = id }
        let function = call["function"]
        if let name = function?["name"]?.stringValue, !name.isEmpty, calls[c].name.isEmpty { calls[c].name = name }
        var fragment = ""
        switch function?["arguments"] {
        case .string(let text)?: fragment = text
        case nil, .null?: break
        case let other?: fragment = other.jsonText
        }
        calls[c].arguments += fragment
        if let outputIndex = calls[c].outputIndex {
            if !fragment.isEmpty {
                events.append(
                    event("response.function_call_arguments.delta", [
                        "item_id": .string(calls[c].id), "output_index": .int(outputIndex), "delta": .string(fragment),
                    ]))
            }
        } else if !calls[c].name.isEmpty {
            announceCall(c, into: &events)
        }
    }

    /// A key for a tool call delta without `index`: a new call when it brings a new id, else the last call.
    private func keyForUnindexedCall(_ call: JSONValue) -> Int {
        if let id = call["id"]?.stringValue, !id.isEmpty {
            return calls.first(where: { $0.callID == id })?.key ?? (calls.map(\.key).max() ?? -1) + 1
        }
        return calls.last?.key ?? 0
    }

    // MARK: Items

    private mutating func openMessage(into events: inout [ServerSentEvent]) -> Int {
        if let last = messages.indices.last, messages[last].status == "in_progress" { return last }
        let message = MessageState(
            id: ResponsesObjects.messageID(responseID: responseID, ordinal: messages.count), outputIndex: nextOutputIndex)
        nextOutputIndex += 1
        messages.append(message)
        events.append(
            event("response.output_item.added", [
                "item": ResponsesObjects.messageItem(id: message.id, status: "in_progress", content: []),
                "output_index": .int(message.outputIndex),
            ]))
        return messages.count - 1
    }

    private mutating func announceCall(
        _ c: Int, closingMessagesAs messageStatus: String = "completed", into events: inout [ServerSentEvent]
    ) {
        for m in messages.indices where messages[m].status == "in_progress" {
            closeMessage(m, status: messageStatus, into: &events)
        }
        let outputIndex = nextOutputIndex
        nextOutputIndex += 1
        calls[c].outputIndex = outputIndex
        if calls[c].callID.isEmpty {
            calls[c].callID = ResponsesObjects.callID(responseID: responseID, ordinal: c)
        }
        events.append(
            event("response.output_item.added", [
                "item": calls[c].item(arguments: ""), "output_index": .int(outputIndex),
            ]))
        if !calls[c].arguments.isEmpty {
            events.append(
                event("response.function_call_arguments.delta", [
                    "item_id": .string(calls[c].id), "output_index": .int(outputIndex),
                    "delta": .string(calls[c].arguments),
                ]))
        }
    }

    private mutating func closeMessage(_ m: Int, status: String, into events: inout [ServerSentEvent]) {
        let message = messages[m]
        for (index, part) in message.contentParts {
            if let text = message.text, index == message.textIndex {
                events.append(
                    event("response.output_text.done", [
                        "item_id": .string(message.id), "output_index": .int(message.outputIndex),
                        "content_index": .int(index), "text": .string(text), "logprobs": [],
                    ]))
            } else if let refusal = message.refusal, index == message.refusalIndex {
                events.append(
                    event("response.refusal.done", [
                        "item_id": .string(message.id), "output_index": .int(message.outputIndex),
                        "content_index": .int(index), "refusal": .string(refusal),
                    ]))
            }
            events.append(partEvent("response.content_part.done", m, index, part))
        }
        messages[m].status = status
        events.append(
            event("response.output_item.done", [
                "item": messages[m].item, "output_index": .int(message.outputIndex),
            ]))
    }

    /// Closes every open item in output-index order; calls never announced are announced first.
    private mutating func closeAll(status: String, into events: inout [ServerSentEvent]) {
        for c in calls.indices where calls[c].outputIndex == nil {
            announceCall(c, closingMessagesAs: status, into: &events)
        }
        for outputIndex in 0..<nextOutputIndex {
            if let m = messages.firstIndex(where: { $0.outputIndex == outputIndex }), messages[m].status == "in_progress" {
                closeMessage(m, status: status, into: &events)
            } else if let c = calls.firstIndex(where: { $0.outputIndex == outputIndex }), calls[c].status == "in_progress" {
                calls[c].status = status
                let arguments = calls[c].finalArguments
                events.append(
                    event("response.function_call_arguments.done", [
                        "item_id": .string(calls[c].id), "output_index": .int(outputIndex), "arguments": .string(arguments),
                    ]))
                events.append(
                    event("response.output_item.done", [
                        "item": calls[c].item(arguments: arguments), "output_index": .int(outputIndex),
                    ]))
            }
        }
    }

    /// Every announced item, in output-index order.
    private func outputItems() -> [JSONValue] {
        var items: [(Int, JSONValue)] = messages.map { ($0.outputIndex, $0.item) }
        for call in calls {
            guard let outputIndex = call.outputIndex else { continue }
            items.append((outputIndex, call.item(arguments: call.finalArguments)))
        }
        return items.sorted { $0.0 < $1.0 }.map(\.1)
    }

    // MARK: Events

    private func snapshot(
        status: String, output: [JSONValue], usage: JSONValue, error: JSONValue = .null, incompleteReason: String? = nil
    ) -> JSONValue {
        ResponsesObjects.response(
            id: responseID, createdAt: createdAt, model: model, request: request, status: status, output: output,
            usage: usage, error: error, incompleteReason: incompleteReason)
    }

    private mutating func partEvent(_ type: String, _ m: Int, _ contentIndex: Int, _ part: JSONValue) -> ServerSentEvent {
        event(type, [
            "item_id": .string(messages[m].id), "output_index": .int(messages[m].outputIndex),
            "content_index": .int(contentIndex), "part": part,
        ])
    }

    /// An event whose JSON starts with `type` and the next `sequence_number`.
    private mutating func event(_ type: String, _ fields: KeyValuePairs<String, JSONValue>) -> ServerSentEvent {
        var object = JSONObject()
        object["type"] = .string(type)
        object["sequence_number"] = .int(sequenceNumber)
        sequenceNumber += 1
        for (key, value) in fields { object[key] = value }
        return ServerSentEvent(event: type, data: JSONValue.object(object).jsonText)
    }
}

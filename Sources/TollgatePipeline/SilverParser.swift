import TollgateCore

/// Parses bronze rows into silver events. Never throws: whatever cannot be read becomes a
/// `parse_problems` entry and the rest of the row is still used.
public enum SilverParser {
    public static func parse(_ bronze: BronzeRow) -> SilverEvent {
        var event = SilverEvent(bronze: bronze)
        event.requestPreview = TracePreview.request(bronze.request)
        if let response = bronze.response {
            if let json = try? JSONValue.parse(response) {
                if bronze.stream, let payloads = json.arrayValue {
                    readStream(payloads, into: &event)
                } else {
                    readWhole(json, into: &event)
                }
            } else {
                event.responseShape = "unparsable"
                event.parseProblems.append("response is not valid JSON")
                if bronze.statusCode >= 400 { event.errorBody = response.leading(4096) }
            }
        } else if bronze.loggingErrorCodes?.contains("MAX_RESPONSE_SIZE_EXCEEDED") == true {
            event.parseProblems.append("response not logged: MAX_RESPONSE_SIZE_EXCEEDED")
        }
        if let spans = bronze.traceSpans {
            let usage = bronze.traceUsage.map { (input: $0.input, output: $0.output, total: Optional<Int>.none) }
            TraceEvidence.apply(spans, usage: usage, into: &event)
        }
        if event.inputTokens == nil, event.outputTokens == nil, let input = bronze.usageInput, let output = bronze.usageOutput {
            event.inputTokens = input
            event.outputTokens = output
            event.tokenSource = bronze.usageSource == "estimated" ? "usage_table_estimated" : "usage_table_reported"
        }
        if event.totalTokens == nil, let input = event.inputTokens, let output = event.outputTokens {
            event.totalTokens = input + output
        }
        event.filters = FilterAnnotations.merged(event.filters)
        return event
    }

    /// A whole body: chat completion, Responses object, or error envelope.
    static func readWhole(_ json: JSONValue, into event: inout SilverEvent) {
        guard json.objectValue != nil else {
            event.responseShape = "unparsable"
            event.parseProblems.append("response is not a JSON object")
            return
        }
        event.filters += FilterAnnotations.all(in: json)
        if let error = json["error"], !error.isNull {
            event.responseShape = "error"
            readError(error, body: json, into: &event)
        } else if json["choices"] != nil {
            event.responseShape = "chat_completion"
            event.model = json["model"]?.stringValue
            event.text = ChatCompletionText.text(ofCompletion: json)
            event.finishReason = ChatCompletionText.finishReason(of: json)
            readUsage(json["usage"], source: "response", into: &event)
        } else if json["object"]?.stringValue == "list", json["data"]?.arrayValue != nil {
            event.responseShape = "embeddings"
            event.model = json["model"]?.stringValue
            readUsage(json["usage"], source: "response", into: &event)
        } else if json["output"] != nil || json["object"]?.stringValue == "response" {
            event.responseShape = "responses"
            readResponsesObject(json, into: &event)
        } else {
            event.parseProblems.append("response has neither choices, output nor error")
        }
        if let trace = json["databricks_output"]?["trace"] { TraceEvidence.read(trace, into: &event) }
    }

    /// A recorded stream: chat chunks or Responses events, in order.
    static func readStream(_ payloads: [JSONValue], into event: inout SilverEvent) {
        event.responseShape = payloads.contains { $0["type"]?.stringValue?.hasPrefix("response.") == true } ? "responses_stream" : "chat_stream"
        for payload in payloads {
            if let trace = payload["databricks_output"]?["trace"] { TraceEvidence.read(trace, into: &event) }
            if let type = payload["type"]?.stringValue {
                switch type {
                case "response.output_text.delta":
                    event.text += payload["delta"]?.stringValue ?? ""
                case "response.completed", "response.incomplete", "response.failed":
                    if let response = payload["response"] { readResponsesObject(response, into: &event, keepText: true) }
                case "error":
                    readError(payload, body: payload, into: &event)
                default:
                    break
                }
                continue
            }
            if let error = payload["error"], !error.isNull {
                readError(error, body: payload, into: &event)
                continue
            }
            event.filters += FilterAnnotations.all(in: payload)
            event.text += ChatCompletionText.delta(ofChunk: payload)
            if let reason = ChatCompletionText.finishReason(of: payload) { event.finishReason = reason }
            if event.model == nil, let model = payload["model"]?.stringValue, !model.isEmpty { event.model = model }
            if let usage = payload["usage"], !usage.isNull { readUsage(usage, source: "stream", into: &event) }
        }
    }

    static func readResponsesObject(_ response: JSONValue, into event: inout SilverEvent, keepText: Bool = false) {
        if let model = response["model"]?.stringValue { event.model = model }
        if !keepText || event.text.isEmpty {
            let texts = (response["output"]?.arrayValue ?? []).flatMap { $0["content"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }
            if !texts.isEmpty { event.text = texts.joined() }
        }
        switch response["status"]?.stringValue {
        case "incomplete":
            event.finishReason = response["incomplete_details"]?["reason"]?.stringValue == "content_filter" ? "content_filter" : "length"
        case "failed":
            event.finishReason = "error"
            if let error = response["error"], !error.isNull { readError(error, body: response, into: &event) }
        case "completed":
            event.finishReason = event.finishReason ?? "stop"
        default:
            break
        }
        readUsage(response["usage"], source: event.stream ? "stream" : "response", into: &event)
    }

    static func readError(_ error: JSONValue, body: JSONValue, into event: inout SilverEvent) {
        event.errorType = event.errorType ?? error["type"]?.stringValue
        event.errorCode = event.errorCode ?? error["code"]?.stringValue ?? error["code"]?.intValue.map(String.init)
        event.errorMessage = event.errorMessage ?? error["message"]?.stringValue
        event.errorBody = event.errorBody ?? body.jsonText
        if let inner = error["innererror"] {
            event.filters += FilterAnnotations.categories(inner["content_filter_result"] ?? inner["content_filter_results"], stage: .prompt)
        }
        if let raw = error["upstream_body"]?.stringValue { event.errorBody = raw }
    }

    /// Chat (`prompt_tokens`…) or Responses (`input_tokens`…) usage; the first source found wins.
    static func readUsage(_ usage: JSONValue?, source: String, into event: inout SilverEvent) {
        guard let usage, usage.objectValue != nil, event.tokenSource == nil || event.tokenSource == source else { return }
        let input = usage["prompt_tokens"]?.countValue ?? usage["input_tokens"]?.countValue
        let output = usage["completion_tokens"]?.countValue ?? usage["output_tokens"]?.countValue
        guard input != nil || output != nil else { return }
        event.inputTokens = input
        event.outputTokens = output
        event.totalTokens = usage["total_tokens"]?.countValue
        event.cachedTokens = (usage["prompt_tokens_details"] ?? usage["input_tokens_details"])?["cached_tokens"]?.countValue
        event.reasoningTokens = (usage["completion_tokens_details"] ?? usage["output_tokens_details"])?["reasoning_tokens"]?.countValue
        event.tokenSource = source
    }
}

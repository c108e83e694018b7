import TollgateCore

/// Reads an MLflow trace (stored, or embedded as `databricks_output.trace`) for what the
/// response alone does not say: exceptions caught by an agent, filter annotations in model
/// outputs, token usage in metadata, the number of spans.
enum TraceEvidence {
    static func read(_ trace: JSONValue, into event: inout SilverEvent) {
        guard let spans = trace["data"]?["spans"]?.arrayValue else {
            event.parseProblems.append("trace has no data.spans")
            return
        }
        event.spanCount = spans.count
        if event.traceID == nil { event.traceID = trace["info"]?["trace_id"]?.stringValue ?? trace["info"]?["request_id"]?.stringValue }
        for span in spans {
            let type = attribute(span, "mlflow.spanType")?.stringValue ?? ""
            guard type == "CHAT_MODEL" || type == "LLM" else { continue }
            if let outputs = attribute(span, "mlflow.spanOutputs") {
                event.filters += FilterAnnotations.all(in: outputs)
                for annotation in outputs["filter_annotations"]?.arrayValue ?? [] { event.filters += FilterAnnotations.all(in: annotation) }
            }
            let failed = span["status"]?["code"]?.stringValue == "STATUS_CODE_ERROR" || span["status"]?["code"]?.stringValue == "ERROR"
            for spanEvent in span["events"]?.arrayValue ?? [] where spanEvent["name"]?.stringValue == "exception" {
                event.traceException = true
                let message = spanEvent["attributes"]?["exception.message"]?.stringValue ?? ""
                guard let body = EmbeddedJSON.extract(from: message) else {
                    event.errorMessage = event.errorMessage ?? message
                    continue
                }
                let error = body["error"] ?? body
                event.errorBody = event.errorBody ?? body.jsonText
                event.errorType = event.errorType ?? error["type"]?.stringValue ?? spanEvent["attributes"]?["exception.type"]?.stringValue
                event.errorCode = event.errorCode ?? error["code"]?.stringValue
                event.errorMessage = event.errorMessage ?? error["message"]?.stringValue
                if let inner = error["innererror"] {
                    event.filters += FilterAnnotations.categories(inner["content_filter_result"] ?? inner["content_filter_results"], stage: .prompt)
                }
            }
            if failed { event.traceException = true }
        }
        if event.tokenSource == nil,
           let usageText = trace["info"]?["trace_metadata"]?["mlflow.trace.tokenUsage"]?.stringValue,
           let usage = try? JSONValue.parse(usageText) {
            event.inputTokens = usage["input_tokens"]?.intValue
            event.outputTokens = usage["output_tokens"]?.intValue
            event.totalTokens = usage["total_tokens"]?.intValue
            event.tokenSource = "trace"
        }
    }

    /// A span attribute, decoded: MLflow stores every attribute value as JSON text.
    static func attribute(_ span: JSONValue, _ key: String) -> JSONValue? {
        guard let raw = span["attributes"]?[key] else { return nil }
        if let text = raw.stringValue { return (try? JSONValue.parse(text)) ?? raw }
        return raw
    }
}

/// Finds a JSON object inside a message string: the whole string, the part from the first `{`
/// (`"Error code: 400 - {...}"`), or a Python dict repr (`{'error': {'code': 'content_filter'}}`).
enum EmbeddedJSON {
    static func extract(from message: String) -> JSONValue? {
        if let whole = try? JSONValue.parse(message), whole.objectValue != nil { return whole }
        guard let start = message.firstIndex(of: "{"), let end = message.lastIndex(of: "}") , start < end else { return nil }
        let candidate = String(message[start...end])
        if let json = try? JSONValue.parse(candidate), json.objectValue != nil { return json }
        return try? JSONValue.parse(pythonLiteralToJSON(candidate))
    }

    /// Rewrites a Python literal (single quotes, True/False/None) as JSON.
    static func pythonLiteralToJSON(_ text: String) -> String {
        var out = ""
        var quote: Character?
        var escaped = false
        var word = ""
        func flushWord() {
            switch word {
            case "True": out += "true"
            case "False": out += "false"
            case "None": out += "null"
            default: out += word
            }
            word = ""
        }
        for character in text {
            if let open = quote {
                if escaped {
                    out.append(character == "'" ? "'" : "\\")
                    if character != "'" { out.append(character) }
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == open {
                    out.append("\"")
                    quote = nil
                } else if character == "\"" {
                    out += "\\\""
                } else {
                    out.append(character)
                }
                continue
            }
            if character == "'" || character == "\"" {
                flushWord()
                quote = character
                out.append("\"")
            } else if character.isLetter {
                word.append(character)
            } else {
                flushWord()
                out.append(character)
            }
        }
        flushWord()
        return out
    }
}

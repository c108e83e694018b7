import TollgateCore

/// What the pipeline needs of one span, from stored rows or from MLflow trace JSON.
public struct SpanFacts: Sendable {
    public var type: String
    public var failed: Bool
    /// The span's outputs (JSON text).
    public var outputs: String?
    /// `exception` events: their `exception.message` and `exception.type`.
    public var exceptions: [(message: String, type: String?)]

    public init(type: String, failed: Bool, outputs: String?, exceptions: [(message: String, type: String?)]) {
        self.type = type
        self.failed = failed
        self.outputs = outputs
        self.exceptions = exceptions
    }
}

/// Reads a trace for what the response alone does not say: exceptions caught by an agent,
/// filter annotations in model outputs, token usage in metadata, the number of spans.
enum TraceEvidence {
    /// A trace in MLflow's JSON (stored, or embedded as `databricks_output.trace`).
    static func read(_ trace: JSONValue, into event: inout SilverEvent) {
        guard let spans = trace["data"]?["spans"]?.arrayValue else {
            event.parseProblems.append("trace has no data.spans")
            return
        }
        if event.traceID == nil { event.traceID = trace["info"]?["trace_id"]?.stringValue ?? trace["info"]?["request_id"]?.stringValue }
        let facts = spans.map { span in
            SpanFacts(
                type: attribute(span, "mlflow.spanType")?.stringValue ?? "",
                failed: ["STATUS_CODE_ERROR", "ERROR"].contains(span["status"]?["code"]?.stringValue ?? ""),
                outputs: span["attributes"]?["mlflow.spanOutputs"]?.stringValue,
                exceptions: (span["events"]?.arrayValue ?? []).filter { $0["name"]?.stringValue == "exception" }.map {
                    ($0["attributes"]?["exception.message"]?.stringValue ?? "", $0["attributes"]?["exception.type"]?.stringValue)
                }
            )
        }
        var usage: (Int?, Int?, Int?)?
        if let text = trace["info"]?["trace_metadata"]?["mlflow.trace.tokenUsage"]?.stringValue, let json = try? JSONValue.parse(text) {
            usage = (json["input_tokens"]?.countValue, json["output_tokens"]?.countValue, json["total_tokens"]?.countValue)
        }
        apply(facts, usage: usage, into: &event)
    }

    static func apply(_ spans: [SpanFacts], usage: (input: Int?, output: Int?, total: Int?)?, into event: inout SilverEvent) {
        event.spanCount = spans.count
        // A Responses object may lack the model and finish reason; the model calls' outputs (full
        // chat completions) have them, the last call's being the answer's.
        let hadModel = event.model != nil, hadFinish = event.finishReason != nil
        for span in spans where span.type == "CHAT_MODEL" || span.type == "LLM" {
            if let text = span.outputs, let outputs = try? JSONValue.parse(text) {
                if !hadModel, let model = outputs["model"]?.stringValue { event.model = model }
                if !hadFinish, let finish = ChatCompletionText.finishReason(of: outputs) { event.finishReason = finish }
                event.filters += FilterAnnotations.all(in: outputs)
                for annotation in outputs["filter_annotations"]?.arrayValue ?? [] { event.filters += FilterAnnotations.all(in: annotation) }
            }
            if span.failed { event.traceException = true }
            for exception in span.exceptions {
                event.traceException = true
                guard var body = EmbeddedJSON.extract(from: exception.message) else {
                    event.errorMessage = event.errorMessage ?? exception.message
                    continue
                }
                // Databricks wraps an external model's error: `{'error_code': 'BAD_REQUEST', 'message':
                // '{"external_model_provider": …, "external_model_error": {"error": {…}}}'}`.
                if let wrapped = body["message"]?.stringValue.flatMap({ try? JSONValue.parse($0) }), let provider = wrapped["external_model_error"] {
                    body = provider
                }
                let error = body["error"] ?? body
                event.errorBody = event.errorBody ?? body.jsonText
                event.errorType = event.errorType ?? error["type"]?.stringValue ?? exception.type
                event.errorCode = event.errorCode ?? error["code"]?.stringValue
                event.errorMessage = event.errorMessage ?? error["message"]?.stringValue
                if let inner = error["innererror"] {
                    event.filters += FilterAnnotations.categories(inner["content_filter_result"] ?? inner["content_filter_results"], stage: .prompt)
                }
            }
        }
        if event.tokenSource == nil, let usage, usage.input != nil || usage.output != nil {
            event.inputTokens = usage.input
            event.outputTokens = usage.output
            event.totalTokens = usage.total
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

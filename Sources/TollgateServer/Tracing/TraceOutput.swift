import TollgateCore

/// The MLflow trace JSON handed to a client that asked for it (`databricks_output.trace`).
enum TraceOutput {
    static func document(_ trace: TraceRecord, request: String?, response: String?) -> JSONValue {
        var trace = trace
        trace.requestPreview = TracePreview.request(request)
        trace.responsePreview = TracePreview.response(response)
        return MLflowTraceJSON.document(trace)
    }
}

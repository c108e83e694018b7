import Foundation

/// Renders traces as MLflow v3 trace JSON (`{"info": TraceInfo, "data": {"spans": […]}}`), the
/// shape `mlflow.entities.Trace.from_json` reads and Databricks returns in `databricks_output`.
public enum MLflowTraceJSON {
    /// The experiment traces are filed under when none is configured.
    public static let defaultExperimentID = "0"

    public static func document(_ trace: TraceRecord, experimentID: String = defaultExperimentID) -> JSONValue {
        // The root span comes first: MLflow's trace import takes `spans[0]` as the root.
        let ordered = trace.spans.filter { $0.parentSpanID == nil } + trace.spans.filter { $0.parentSpanID != nil }
        return ["info": info(trace, experimentID: experimentID), "data": ["spans": .array(ordered.map { span($0, in: trace) })]]
    }

    public static func info(_ trace: TraceRecord, experimentID: String = defaultExperimentID) -> JSONValue {
        let info: JSONObject = [
            "trace_id": .string(trace.traceID),
            "client_request_id": .optionalString(trace.clientRequestID ?? trace.requestID),
            "trace_location": ["type": "MLFLOW_EXPERIMENT", "mlflow_experiment": ["experiment_id": .string(experimentID)]],
            "request_time": .string(UTCTimestamp.iso8601(trace.requestTime)),
            "execution_duration_ms": .int(trace.executionDurationMs),
            "state": .string(trace.state.rawValue),
            "trace_metadata": .object(metadata(trace)),
            "tags": .object(tags(trace)),
            "request_preview": .string(trace.requestPreview),
            "response_preview": .string(trace.responsePreview),
        ]
        // `Trace.from_json` rejects keys it does not know; empty assessments are left out, as MLflow does.
        return .object(info)
    }

    static func metadata(_ trace: TraceRecord) -> JSONObject {
        var metadata: JSONObject = ["mlflow.trace_schema.version": "3"]
        if let usage = trace.tokenUsage {
            let json: JSONValue = ["input_tokens": .int(usage.input), "output_tokens": .int(usage.output), "total_tokens": .int(usage.total)]
            metadata["mlflow.trace.tokenUsage"] = .string(json.jsonText)
        }
        if let root = trace.spans.first(where: { $0.parentSpanID == nil }) {
            if let inputs = root.inputsJSON { metadata["mlflow.traceInputs"] = .string(truncated(inputs)) }
            if let outputs = root.outputsJSON { metadata["mlflow.traceOutputs"] = .string(truncated(outputs)) }
        }
        if let user = trace.user { metadata["mlflow.trace.user"] = .string(user) }
        if let session = trace.session { metadata["mlflow.trace.session"] = .string(session) }
        metadata["tollgate.request_id"] = .string(trace.requestID)
        metadata["tollgate.endpoint_name"] = .string(trace.endpointName)
        return metadata
    }

    /// MLflow keeps the first 250 characters of trace inputs and outputs in metadata.
    static func truncated(_ text: String) -> String {
        text.count <= 250 ? text : String(text.prefix(247)) + "..."
    }

    static func tags(_ trace: TraceRecord) -> JSONObject {
        var tags = JSONObject()
        if let root = trace.spans.first(where: { $0.parentSpanID == nil }) { tags["mlflow.traceName"] = .string(root.name) }
        for (key, value) in trace.tags.sorted(by: { $0.key < $1.key }) { tags[key] = .string(value) }
        return tags
    }

    /// One span in MLflow's JSON: ids base64 of their bytes, every attribute value JSON-encoded.
    public static func span(_ span: SpanRecord, in trace: TraceRecord) -> JSONValue {
        [
            "trace_id": .string(base64(hex: trace.traceHex)),
            "span_id": .string(base64(hex: span.spanID)),
            "parent_span_id": span.parentSpanID.map { .string(base64(hex: $0)) } ?? .null,
            "name": .string(span.name),
            "start_time_unix_nano": .number(JSONNumber(span.startNanos)),
            "end_time_unix_nano": .number(JSONNumber(span.endNanos)),
            "events": events(of: span),
            "status": ["code": .string(span.status.rawValue), "message": .string(span.statusMessage)],
            "attributes": .object(attributes(of: span, in: trace)),
        ]
    }

    /// Span attributes as MLflow stores them: each value is itself a JSON document in a string.
    public static func attributes(of span: SpanRecord, in trace: TraceRecord) -> JSONObject {
        var attributes: JSONObject = [
            "mlflow.traceRequestId": .string(JSONValue.quoted(trace.traceID)),
            "mlflow.spanType": .string(JSONValue.quoted(span.type.rawValue)),
            "mlflow.spanFunctionName": .string(JSONValue.quoted(span.name)),
        ]
        if let inputs = span.inputsJSON { attributes["mlflow.spanInputs"] = .string(inputs) }
        if let outputs = span.outputsJSON { attributes["mlflow.spanOutputs"] = .string(outputs) }
        if let usage = span.tokenUsage {
            let json: JSONValue = ["input_tokens": .int(usage.input), "output_tokens": .int(usage.output), "total_tokens": .int(usage.total)]
            attributes["mlflow.chat.tokenUsage"] = .string(json.jsonText)
        }
        for (key, value) in span.attributes.pairs { attributes[key] = .string(value.jsonText) }
        return attributes
    }

    public static func events(of span: SpanRecord) -> JSONValue {
        SpanEvents.json(span.events)
    }

    /// Base64 of the bytes a hex string spells.
    static func base64(hex: String) -> String {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
            bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return Data(bytes).base64EncodedString()
    }
}

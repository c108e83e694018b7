/// Renders traces as an OTLP/HTTP JSON export request, with the OpenTelemetry GenAI semantic
/// conventions (REFERENCE.md §5) and MLflow's own span attributes, so that MLflow keeps span
/// types, inputs, outputs and token usage, and other collectors read the GenAI attributes.
public enum OTLPTraceJSON {
    public static func exportRequest(_ traces: [TraceRecord], serviceName: String = "tollgate") -> JSONValue {
        let spans = traces.flatMap { trace in trace.spans.map { span($0, in: trace) } }
        return [
            "resourceSpans": [[
                "resource": ["attributes": [attribute("service.name", .string(serviceName))]],
                "scopeSpans": [["scope": ["name": "tollgate"], "spans": .array(spans)]],
            ]]
        ]
    }

    static func span(_ span: SpanRecord, in trace: TraceRecord) -> JSONValue {
        let model = span.attributes["gen_ai.request.model"]?.stringValue
        var attributes: [JSONValue] = [attribute("mlflow.spanType", .string(span.type.rawValue))]
        let operation: String
        let name: String
        switch span.type {
        case .agent:
            operation = "invoke_agent"
            name = "invoke_agent \(trace.endpointName)"
            attributes.append(attribute("gen_ai.agent.name", .string(trace.endpointName)))
        case .chatModel:
            operation = "chat"
            name = model.map { "chat \($0)" } ?? "chat"
            attributes.append(attribute("mlflow.message.format", "openai"))
        case .embedding:
            operation = "embeddings"
            name = model.map { "embeddings \($0)" } ?? "embeddings"
        case .tool:
            operation = "execute_tool"
            name = "execute_tool \(span.name)"
            attributes.append(attribute("gen_ai.tool.name", .string(span.name)))
        case .chain, .unknown:
            operation = "chain"
            name = span.name
        }
        attributes.append(attribute("gen_ai.operation.name", .string(operation)))
        for (key, value) in span.attributes.pairs where key.hasPrefix("gen_ai.") && key != "gen_ai.operation.name" && key != "gen_ai.tool.name" {
            attributes.append(attribute(key, value))
        }
        if let usage = span.tokenUsage {
            attributes.append(attribute("gen_ai.usage.input_tokens", .int(usage.input)))
            attributes.append(attribute("gen_ai.usage.output_tokens", .int(usage.output)))
        }
        if let inputs = span.inputsJSON { attributes.append(attribute("mlflow.spanInputs", .string(inputs))) }
        if let outputs = span.outputsJSON { attributes.append(attribute("mlflow.spanOutputs", .string(outputs))) }
        if span.status == .error, let type = span.events.first(where: { $0.name == "exception" })?.attributes["exception.type"] {
            attributes.append(attribute("error.type", .string(type)))
        }
        if span.parentSpanID == nil {
            attributes.append(attribute("mlflow.traceTag.mlflow.traceName", .string(span.name)))
            attributes.append(attribute("mlflow.traceTag.tollgate.request_id", .string(trace.requestID)))
            attributes.append(attribute("mlflow.traceTag.tollgate.endpoint_name", .string(trace.endpointName)))
            if let user = trace.user { attributes.append(attribute("user.id", .string(user))) }
            if let session = trace.session { attributes.append(attribute("session.id", .string(session))) }
        }
        var object: JSONObject = [
            "traceId": .string(trace.traceHex), "spanId": .string(span.spanID), "name": .string(name),
            "kind": span.type == .chatModel || span.type == .embedding ? 3 : 1,
            "startTimeUnixNano": .string(String(span.startNanos)), "endTimeUnixNano": .string(String(span.endNanos)),
            "attributes": .array(attributes),
            "events": .array(span.events.map(event)),
            "status": status(span),
        ]
        if let parent = span.parentSpanID { object["parentSpanId"] = .string(parent) }
        return .object(object)
    }

    static func event(_ event: SpanEvent) -> JSONValue {
        [
            "name": .string(event.name), "timeUnixNano": .string(String(event.timeNanos)),
            "attributes": .array(event.attributes.sorted { $0.key < $1.key }.map { attribute($0.key, .string($0.value)) }),
        ]
    }

    static func status(_ span: SpanRecord) -> JSONValue {
        switch span.status {
        case .ok: ["code": 1]
        case .error: ["code": 2, "message": .string(String(span.statusMessage.prefix(1000)))]
        case .unset: ["code": 0]
        }
    }

    /// An OTLP `KeyValue`; integers are written as strings, as OTLP JSON encodes int64.
    static func attribute(_ key: String, _ value: JSONValue) -> JSONValue {
        let typed: JSONValue
        switch value {
        case .bool(let flag): typed = ["boolValue": .bool(flag)]
        case .number(let number) where number.isIntegerLiteral && Int64(number.text) != nil: typed = ["intValue": .string(number.text)]
        case .number(let number): typed = ["doubleValue": .number(number)]
        case .string(let text): typed = ["stringValue": .string(text)]
        case .array(let items): typed = ["arrayValue": ["values": .array(items.map { attribute("", $0)["value"] ?? .null })]]
        default: typed = ["stringValue": .string(value.jsonText)]
        }
        return ["key": .string(key), "value": typed]
    }
}

import Foundation
import NIOCore
import TollgateCore

/// What the client will get back: Chat Completions shapes, or the Responses API built from them.
enum OutputFormat: Sendable {
    case chat
    case responses(request: JSONObject)
    /// An embeddings list, relayed as is.
    case embeddings
}

/// One accepted request, routed and ready to go upstream.
struct InferenceCall: Sendable {
    let requestID: String
    let stream: Bool
    let endpoint: EndpointRuntime
    /// The served entity called; a fallback moves the call to the next one.
    private(set) var entity: EntityRuntime
    let output: OutputFormat
    var upstreamBody: ByteBuffer
    /// The client's `max_tokens` (`max_completion_tokens`, `max_output_tokens`), for token limits.
    var maxTokens: Int?
    /// Who asked, and what governance decided for this call.
    var governance = CallGovernance()
    /// Set when a Responses request is stored (`store` is not false).
    var keeping: ResponseKeeping?
    /// `databricks_options.return_trace`: the response carries `databricks_output.trace`.
    var returnTrace = false
    /// The row as known before the upstream call (request, endpoint, entity, ids).
    var record: InferenceRecord
    /// The request's trace, filled in as calls finish.
    let trace: RequestTrace
    /// Counts the request as in flight on its entity for as long as the call is alive.
    private(set) var lease: EntityLease

    init(
        requestID: String, stream: Bool, endpoint: EndpointRuntime, entity: EntityRuntime, output: OutputFormat,
        upstreamBody: ByteBuffer, record: InferenceRecord, tracing: Bool
    ) {
        self.requestID = requestID
        self.stream = stream
        self.endpoint = endpoint
        self.entity = entity
        self.output = output
        self.upstreamBody = upstreamBody
        self.record = record
        self.trace = RequestTrace(enabled: tracing)
        self.lease = entity.activity.lease()
    }

    /// The same call sent to another served entity of the endpoint (a fallback): the body
    /// names that entity's model, and the row its name, id and price.
    func movingTo(_ next: EntityRuntime) -> InferenceCall {
        var moved = self
        moved.entity = next
        moved.lease = next.activity.lease()
        moved.record.servedEntityName = next.config.name
        moved.record.servedEntityID = next.config.servedEntityID
        moved.record.price = next.price
        if case .object(var body)? = try? JSONValue.parse(upstreamBody.readableBytesView) {
            body["model"] = .string(next.upstreamModel)
            moved.upstreamBody = ByteBuffer(bytes: JSONValue.object(body).jsonBytes)
        }
        return moved
    }

    var isEmbeddings: Bool {
        if case .embeddings = output { return true }
        return false
    }

    /// The span type of the model call: EMBEDDING for embeddings, else CHAT_MODEL.
    var spanType: SpanType { isEmbeddings ? .embedding : .chatModel }

    /// Keeps a finished Responses object when the request is stored; the row carries it.
    func keep(_ response: JSONValue, in record: inout InferenceRecord) {
        guard let keeping, case .responses(let request) = output else { return }
        record.storedResponse = keeping.keep(response, request: request, requestID: requestID, endpoint: endpoint.config.name)
    }

    /// Completes the trace — for agents, with the AGENT root span (`predict` / `predict_stream`)
    /// around the model calls — and attaches it to the row.
    func attachTrace(to record: inout InferenceRecord, clientOutput: String?, failed: Bool) {
        guard trace.enabled else { return }
        if entity.isAgent {
            trace.addRootOnce { SpanRecord(
                spanID: trace.rootSpanID, parentSpanID: nil, name: stream ? "predict_stream" : "predict", type: .agent,
                startNanos: trace.startNanos, endNanos: TraceIDs.nowNanos(), status: failed ? .error : .ok,
                statusMessage: failed ? "request failed with status \(record.statusCode)" : "",
                inputsJSON: record.request, outputsJSON: clientOutput
            ) }
        }
        let finished = trace.record(
            requestID: requestID, clientRequestID: record.clientRequestID, endpoint: endpoint.config.name,
            requestTime: record.requestTime, failed: failed
        )
        record.trace = finished
        record.traceID = finished.traceID
    }
}

/// Databricks invocation fields that are the gateway's, never the model's.
enum DatabricksFields {
    static let all = ["client_request_id", "usage_context", "databricks_options"]

    static func clientRequestID(_ body: JSONObject) -> String? {
        body["client_request_id"]?.stringValue
    }

    static func usageContext(_ body: JSONObject) -> String? {
        guard let context = body["usage_context"], !context.isNull else { return nil }
        return context.jsonText
    }
}

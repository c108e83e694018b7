import Foundation
import Synchronization
import TollgateCore

/// Collects one request's spans as they finish; becomes a `TraceRecord` when the request ends.
/// Span ids are drawn up front so children can name their parent before it ends.
final class RequestTrace: Sendable {
    /// With tracing off (`tracing.enabled: false`) nothing is collected.
    let enabled: Bool
    let traceHex: String
    let rootSpanID: String
    let startNanos: UInt64
    private let spans = Mutex<[SpanRecord]>([])
    private let rootAdded = Mutex(false)

    init(enabled: Bool = true) {
        self.enabled = enabled
        traceHex = enabled ? TraceIDs.traceHex() : ""
        rootSpanID = enabled ? TraceIDs.spanHex() : ""
        startNanos = enabled ? TraceIDs.nowNanos() : 0
    }

    var traceID: String { "tr-" + traceHex }

    func add(_ span: SpanRecord) {
        guard enabled else { return }
        spans.withLock { $0.append(span) }
    }

    /// Adds the root span unless it was added already (a stream may close its trace early to
    /// hand it to the client, then end).
    func addRootOnce(_ make: () -> SpanRecord) {
        let first = rootAdded.withLock { added in
            defer { added = true }
            return !added
        }
        if first { add(make()) }
    }

    /// A model call span (`Completions`, CHAT_MODEL).
    func addModelCall(
        parent: String?, start: UInt64, inputs: String?, outputs: String?, usage: TokenCounts?,
        error: (type: String, message: String)?, upstreamModel: String, stream: Bool, type: SpanType = .chatModel
    ) {
        guard enabled else { return }
        let end = TraceIDs.nowNanos()
        var attributes = JSONObject()
        attributes["mlflow.message.format"] = "openai"
        attributes["gen_ai.request.model"] = .string(upstreamModel)
        attributes["gen_ai.request.stream"] = .bool(stream)
        add(SpanRecord(
            spanID: parent == nil ? rootSpanID : TraceIDs.spanHex(), parentSpanID: parent, name: type == .embedding ? "Embeddings" : "Completions", type: type,
            startNanos: start, endNanos: end, status: error == nil ? .ok : .error, statusMessage: error?.message ?? "",
            inputsJSON: inputs, outputsJSON: outputs, tokenUsage: usage, attributes: attributes,
            events: error.map { [SpanEvent.exception(type: $0.type, message: $0.message, at: end)] } ?? []
        ))
    }

    /// The finished trace. Previews are left empty for the record writer to fill in.
    func record(requestID: String, clientRequestID: String?, endpoint: String, requestTime: Date, failed: Bool) -> TraceRecord {
        let collected = spans.withLock { $0 }
        let end = collected.map(\.endNanos).max() ?? TraceIDs.nowNanos()
        let hasError = failed || collected.contains { $0.parentSpanID == nil && $0.status == .error }
        return TraceRecord(
            traceHex: traceHex, requestID: requestID, clientRequestID: clientRequestID, endpointName: endpoint,
            requestTime: requestTime, executionDurationMs: Int((end - min(startNanos, end)) / 1_000_000),
            state: hasError ? .error : .ok, requestPreview: "", responsePreview: "",
            spans: collected.sorted { $0.startNanos < $1.startNanos }
        )
    }
}

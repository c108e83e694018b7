import Foundation

/// MLflow span types Tollgate emits.
public enum SpanType: String, Sendable, Codable {
    case agent = "AGENT"
    case chatModel = "CHAT_MODEL"
    case embedding = "EMBEDDING"
    case tool = "TOOL"
    case chain = "CHAIN"
    case unknown = "UNKNOWN"
}

/// Span status, in MLflow's names.
public enum SpanStatusCode: String, Sendable, Codable {
    case ok = "STATUS_CODE_OK"
    case error = "STATUS_CODE_ERROR"
    case unset = "STATUS_CODE_UNSET"
}

/// An event on a span (`exception`, stream chunks …).
public struct SpanEvent: Sendable, Equatable {
    public var name: String
    public var timeNanos: UInt64
    /// Attribute values as plain strings (OpenTelemetry event attributes).
    public var attributes: [String: String]

    public init(name: String, timeNanos: UInt64, attributes: [String: String]) {
        self.name = name
        self.timeNanos = timeNanos
        self.attributes = attributes
    }

    /// The OpenTelemetry exception event MLflow shows for a failed call.
    public static func exception(type: String, message: String, at time: UInt64) -> SpanEvent {
        SpanEvent(name: "exception", timeNanos: time, attributes: [
            "exception.type": type, "exception.message": message, "exception.stacktrace": "",
        ])
    }
}

/// One finished span. Inputs and outputs are JSON text, stored as MLflow stores them.
public struct SpanRecord: Sendable, Equatable {
    public var spanID: String
    public var parentSpanID: String?
    public var name: String
    public var type: SpanType
    public var startNanos: UInt64
    public var endNanos: UInt64
    public var status: SpanStatusCode
    public var statusMessage: String
    /// JSON text of the span's inputs (e.g. the chat request sent upstream).
    public var inputsJSON: String?
    /// JSON text of the span's outputs (e.g. the upstream response, aggregated for streams).
    public var outputsJSON: String?
    public var tokenUsage: TokenCounts?
    /// Extra attributes, values as JSON values (written JSON-encoded, as MLflow does).
    public var attributes: JSONObject
    public var events: [SpanEvent]

    public init(
        spanID: String, parentSpanID: String?, name: String, type: SpanType, startNanos: UInt64, endNanos: UInt64,
        status: SpanStatusCode = .ok, statusMessage: String = "", inputsJSON: String? = nil, outputsJSON: String? = nil,
        tokenUsage: TokenCounts? = nil, attributes: JSONObject = JSONObject(), events: [SpanEvent] = []
    ) {
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.type = type
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.status = status
        self.statusMessage = statusMessage
        self.inputsJSON = inputsJSON
        self.outputsJSON = outputsJSON
        self.tokenUsage = tokenUsage
        self.attributes = attributes
        self.events = events
    }
}

/// Input and output token counts of a model call.
public struct TokenCounts: Sendable, Equatable {
    public var input: Int
    public var output: Int
    public var total: Int { input + output }

    public init(input: Int, output: Int) {
        self.input = input
        self.output = output
    }
}

/// Trace state, in MLflow's names.
public enum TraceState: String, Sendable, Codable {
    case ok = "OK"
    case error = "ERROR"
    case inProgress = "IN_PROGRESS"
}

/// One request's trace: its info and its spans.
public struct TraceRecord: Sendable, Equatable {
    /// 32 lowercase hex characters (the OpenTelemetry trace id).
    public var traceHex: String
    public var requestID: String
    public var clientRequestID: String?
    public var endpointName: String
    public var requestTime: Date
    public var executionDurationMs: Int
    public var state: TraceState
    public var requestPreview: String
    public var responsePreview: String
    public var user: String?
    public var session: String?
    public var tags: [String: String]
    public var spans: [SpanRecord]

    public init(
        traceHex: String, requestID: String, clientRequestID: String?, endpointName: String, requestTime: Date,
        executionDurationMs: Int, state: TraceState, requestPreview: String, responsePreview: String,
        user: String? = nil, session: String? = nil, tags: [String: String] = [:], spans: [SpanRecord]
    ) {
        self.traceHex = traceHex
        self.requestID = requestID
        self.clientRequestID = clientRequestID
        self.endpointName = endpointName
        self.requestTime = requestTime
        self.executionDurationMs = executionDurationMs
        self.state = state
        self.requestPreview = requestPreview
        self.responsePreview = responsePreview
        self.user = user
        self.session = session
        self.tags = tags
        self.spans = spans
    }

    /// `tr-` + the hex trace id, as MLflow names traces.
    public var traceID: String { "tr-" + traceHex }

    /// Token usage summed over the CHAT_MODEL spans.
    public var tokenUsage: TokenCounts? {
        let counts = spans.filter { $0.type == .chatModel }.compactMap(\.tokenUsage)
        guard !counts.isEmpty else { return nil }
        return TokenCounts(input: counts.reduce(0) { $0 + $1.input }, output: counts.reduce(0) { $0 + $1.output })
    }
}

/// OpenTelemetry ids. Trace ids start with the time in milliseconds (then 80 random bits), so
/// that the store's trace and span keys grow in order.
public enum TraceIDs {
    public static func traceHex() -> String {
        let millis = UInt64(max(0, Date().timeIntervalSince1970 * 1000)) & 0xFFFF_FFFF_FFFF
        return hex(millis << 16 | UInt64.random(in: 0 ... 0xFFFF)) + hex(UInt64.random(in: .min ... .max))
    }
    public static func spanHex() -> String { hex(UInt64.random(in: 1 ... .max)) }

    /// 16 lowercase hex digits.
    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Nanoseconds since the Unix epoch.
    public static func nowNanos() -> UInt64 {
        UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
    }
}

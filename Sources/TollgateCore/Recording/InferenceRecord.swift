import Foundation

/// Which client API a request came through (`inference_table.api`).
public enum ClientAPI: String, Sendable, Codable {
    case chat, responses, invocations, embeddings
}

/// How a stream ended (`inference_table.stream_end`).
public enum StreamEnd: String, Sendable, Codable {
    case done
    case upstreamError = "upstream_error"
    case clientCancelled = "client_cancelled"
    case timeout
    /// An output guardrail blocked the rest of the answer (`finish_reason: content_filter`).
    case contentFilter = "content_filter"
    /// The rate limit's tokens ran out while the answer streamed.
    case rateLimited = "rate_limited"
}

/// Codes stored in `inference_table.logging_error_codes`.
public enum LoggingErrorCode: String, Sendable, Codable {
    case maxRequestSizeExceeded = "MAX_REQUEST_SIZE_EXCEEDED"
    case maxResponseSizeExceeded = "MAX_RESPONSE_SIZE_EXCEEDED"
}

/// Token counts of one request.
public struct TokenUsage: Sendable, Equatable {
    public var input: Int
    public var output: Int
    public var source: TokenCountSource
    /// Input tokens served from the provider's prompt cache, when reported.
    public var cachedInput: Int?

    public init(input: Int, output: Int, source: TokenCountSource, cachedInput: Int? = nil) {
        self.input = input
        self.output = output
        self.source = source
        self.cachedInput = cachedInput
    }
}

/// `endpoint_usage.token_count_source`.
public enum TokenCountSource: String, Sendable, Codable {
    case reported, estimated
}

/// What the recorder knows about token usage when the request ends; resolved to counts by the
/// writer, off the request path.
public enum UsageEvidence: Sendable, Equatable {
    /// The upstream reported usage (already parsed, e.g. from a stream's usage chunk).
    case reported(input: Int, output: Int, cachedInput: Int? = nil)
    /// A non-streamed upstream answer whose `usage` is read later.
    case responseBody(String)
    /// Nothing reported: estimate from the text sent and received.
    case estimate(responseText: String)
    /// No model output (errors before or at the upstream).
    case none

    public static func reported(_ usage: TokenUsage) -> UsageEvidence {
        .reported(input: usage.input, output: usage.output, cachedInput: usage.cachedInput)
    }
}

/// One call of a served entity made for a request (`inference_table.fallback_attempts`).
public struct FallbackAttempt: Sendable, Equatable {
    public var entity: String
    public var status: Int
    public var error: String?
    public var durationMs: Int

    public init(entity: String, status: Int, error: String?, durationMs: Int) {
        self.entity = entity
        self.status = status
        self.error = error
        self.durationMs = durationMs
    }

    public var json: JSONValue {
        ["entity": .string(entity), "status": .int(status), "error": error.map(JSONValue.string) ?? .null, "duration_ms": .int(durationMs)]
    }
}

/// One request as it will be stored: the `inference_table` row plus what `endpoint_usage` needs.
/// Built by the request path, written by the record writer.
public struct InferenceRecord: Sendable {
    public var requestID: String
    public var clientRequestID: String?
    public var requestTime: Date
    public var endpointName: String
    public var servedEntityName: String?
    public var servedEntityID: String?
    public var api: ClientAPI
    public var stream: Bool
    public var statusCode: Int
    public var executionDurationMs: Int?
    public var timeToFirstTokenMs: Int?
    public var samplingFraction: Double = 1.0
    /// The request body as received.
    public var request: String?
    /// The body sent (for streams, the JSON array of SSE payloads).
    public var response: String?
    public var streamEnd: StreamEnd?
    public var loggingErrorCodes: [LoggingErrorCode] = []
    /// The key's owner (`requester`), the key's id and its groups.
    public var requester: String?
    public var keyID: String?
    public var requesterGroups: [String]?
    /// Every served entity tried, in order, when fallbacks moved on (`fallback_attempts`).
    public var fallbackAttempts: [FallbackAttempt] = []
    /// What the guardrails found and did (`guardrails`, JSON).
    public var guardrails: JSONValue?
    /// The rate limit that refused the request (`rate_limit`, JSON).
    public var rateLimit: JSONValue?
    public var traceID: String?
    /// The request's trace, written to `traces` and `spans` with the row.
    public var trace: TraceRecord?
    public var usageContext: String?
    public var usage: UsageEvidence = .none
    /// `ai_gateway.inference_table_config.enabled` of the endpoint.
    public var writesInferenceRow = true
    /// `ai_gateway.usage_tracking_config.enabled` of the endpoint.
    public var writesUsageRow = true
    /// Token price of the model that answered (`pricing`), for `endpoint_usage.cost_usd`.
    public var price: PriceConfig?
    /// Milliseconds the request waited for a stopped local model to start.
    public var coldStartMs: Int?
    /// When the gateway received the request (not stored: for the overhead header and metrics).
    public var receivedAt: ContinuousClock.Instant?
    /// Time spent waiting for upstreams (not stored): the request's total less this is Tollgate's overhead.
    public var upstreamWait: Duration?
    /// The Responses object to keep for `GET /v1/responses/{id}` and `previous_response_id`.
    public var storedResponse: StoredResponse?

    public init(requestID: String, requestTime: Date, endpointName: String, api: ClientAPI, stream: Bool, statusCode: Int) {
        self.requestID = requestID
        self.requestTime = requestTime
        self.endpointName = endpointName
        self.api = api
        self.stream = stream
        self.statusCode = statusCode
    }

    /// Applies the log payload limit: payloads over `limit` bytes are dropped with an error code.
    public mutating func applyPayloadLimit(_ limit: Int) {
        if let request, request.utf8.count > limit {
            self.request = nil
            loggingErrorCodes.append(.maxRequestSizeExceeded)
        }
        if let response, response.utf8.count > limit {
            self.response = nil
            loggingErrorCodes.append(.maxResponseSizeExceeded)
        }
    }
}

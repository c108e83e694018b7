import HTTPTypes
import Hummingbird
import TollgateCore

/// What governance decided for one call, carried with it to the end: the rate-limit ticket to
/// settle, the headers to send, the output guardrails to apply.
struct CallGovernance: Sendable {
    var limiter: (any RateLimiter)?
    /// The prompt's token estimate made at admission (0 without a token limit), reused to
    /// charge and settle so the request body is not parsed again.
    var inputTokens = 0
    var ticket: LimitTicket?
    var limitHeaders: LimitHeaders?
    /// Output guardrails of the endpoint, compiled.
    var output: GuardrailCheck?
    var metrics: GatewayMetrics?
    /// What the input guardrails found (recorded in the row's `guardrails`).
    var inputFindings: [GuardrailFinding] = []

    /// Tollgate's own time so far: everything but the upstream wait.
    static func overhead(_ record: InferenceRecord) -> Duration? {
        guard let received = record.receivedAt else { return nil }
        return max(.zero, ContinuousClock.now - received - (record.upstreamWait ?? .zero))
    }

    /// Adds the rate-limit headers and `x-tollgate-overhead-ms` to a response.
    func decorate(_ response: inout Response, record: InferenceRecord) {
        Self.stampOverhead(&response, record: record)
        if let limitHeaders { LimitHeaderFields.apply(limitHeaders, to: &response.headers) }
    }

    static func stampOverhead(_ response: inout Response, record: InferenceRecord) {
        if let overhead = overhead(record) { response.headers[overheadHeader] = milliseconds(overhead) }
    }

    /// Settles the token reservation with what the request really used.
    func settle(tokens: Int) {
        guard let limiter, let ticket else { return }
        limiter.settle(ticket, totalTokens: tokens)
    }

    static let overheadHeader = HTTPField.Name("x-tollgate-overhead-ms")!

    /// Milliseconds with three decimals (`0.184`), formatted by hand: it runs on every response.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// OpenAI's `x-ratelimit-*` headers (formatted by `LimitHeaders`) and `Retry-After`.
enum LimitHeaderFields {
    static let retryAfter = HTTPField.Name("retry-after")!

    /// The field names, built once.
    private static let names: [LimitHeaders.Field: HTTPField.Name] = Dictionary(
        uniqueKeysWithValues: LimitHeaders.Field.allCases.map { ($0, HTTPField.Name($0.rawValue)!) }
    )

    static func apply(_ limits: LimitHeaders, to headers: inout HTTPFields) {
        limits.forEachField { field, value in
            if let name = names[field] { headers[name] = value }
        }
    }
}

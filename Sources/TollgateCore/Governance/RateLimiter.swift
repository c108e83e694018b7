import Synchronization

/// Who is asking: the key's owner.
public struct Requester: Sendable, Hashable {
    /// A user's email or a service principal's name, as on the key.
    public var name: String
    /// The groups the owner belongs to, for `user_group` limits and group permissions.
    public var groups: [String]
    /// Whether `name` is a service principal's: picks `service_principal` limits over `user` ones.
    public var isServicePrincipal: Bool

    public init(name: String, groups: [String] = [], isServicePrincipal: Bool = false) {
        self.name = name
        self.groups = groups
        self.isServicePrincipal = isServicePrincipal
    }
}

/// One request asking to be let through an endpoint's rate limits.
public struct LimitRequest: Sendable {
    public var endpoint: String
    /// The endpoint's `ai_gateway.rate_limits`, as configured now.
    public var rules: [RateLimitRule]
    /// `nil` is an anonymous request (`server.auth: none`): only `endpoint` limits apply. Per-user,
    /// group and service-principal limits need an identity; counting every anonymous caller in one
    /// "anonymous" bucket would quietly turn the per-user limit into a second endpoint limit.
    public var requester: Requester?
    /// Tokens reserved at admission (prompt estimate plus `max_tokens`); negative counts as 0.
    /// The reservation is settled to the real count when the request ends.
    public var tokens: Int

    public init(endpoint: String, rules: [RateLimitRule], requester: Requester?, tokens: Int) {
        self.endpoint = endpoint
        self.rules = rules
        self.requester = requester
        self.tokens = tokens
    }
}

/// The state of the most constraining applicable bucket, per dimension: what OpenAI's
/// `x-ratelimit-*` headers report. A dimension no applicable limit counts is `nil`.
public struct LimitHeaders: Sendable, Equatable {
    public var limitRequests: Int?
    public var remainingRequests: Int?
    /// Time left until that bucket's window renews.
    public var resetRequests: Duration?
    public var limitTokens: Int?
    public var remainingTokens: Int?
    public var resetTokens: Duration?

    public init(
        limitRequests: Int? = nil, remainingRequests: Int? = nil, resetRequests: Duration? = nil, limitTokens: Int? = nil,
        remainingTokens: Int? = nil, resetTokens: Duration? = nil
    ) {
        self.limitRequests = limitRequests
        self.remainingRequests = remainingRequests
        self.resetRequests = resetRequests
        self.limitTokens = limitTokens
        self.remainingTokens = remainingTokens
        self.resetTokens = resetTokens
    }

    /// OpenAI's `x-ratelimit-*` header fields, in the order they are written.
    public enum Field: String, Sendable, CaseIterable {
        case limitRequests = "x-ratelimit-limit-requests"
        case limitTokens = "x-ratelimit-limit-tokens"
        case remainingRequests = "x-ratelimit-remaining-requests"
        case remainingTokens = "x-ratelimit-remaining-tokens"
        case resetRequests = "x-ratelimit-reset-requests"
        case resetTokens = "x-ratelimit-reset-tokens"
    }

    /// Each field that has a value, in OpenAI's formats (`x-ratelimit-reset-requests: 1m0s`,
    /// `250ms`, `17.5s`), without building a list.
    public func forEachField(_ body: (Field, String) -> Void) {
        if let limitRequests { body(.limitRequests, String(limitRequests)) }
        if let limitTokens { body(.limitTokens, String(limitTokens)) }
        if let remainingRequests { body(.remainingRequests, String(remainingRequests)) }
        if let remainingTokens { body(.remainingTokens, String(remainingTokens)) }
        if let resetRequests { body(.resetRequests, Self.render(resetRequests)) }
        if let resetTokens { body(.resetTokens, Self.render(resetTokens)) }
    }

    /// The header fields as name/value pairs.
    public var httpFields: [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        forEachField { fields.append(($0.rawValue, $1)) }
        return fields
    }

    static func render(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return "0s" }
        let millis = attoseconds / 1_000_000_000_000_000
        if seconds == 0 { return "\(millis)ms" }
        if seconds >= 60 { return "\(seconds / 60)m\(seconds % 60)s" }
        guard millis > 0 else { return "\(seconds)s" }
        var fraction = String(millis)
        fraction = String(repeating: "0", count: 3 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(seconds).\(fraction)s"
    }
}

/// Why a request was refused, for the 429 body, `Retry-After` and the inference table's `rate_limit`.
public struct LimitRejection: Sendable, Equatable {
    /// What ran out.
    public enum Dimension: String, Sendable, Equatable {
        case calls, tokens
    }

    /// The rule whose bucket refused (for several groups, the group that frees up first).
    public var rule: RateLimitRule
    /// Whose bucket: the user, service principal or group; `nil` for the endpoint's.
    public var bucketPrincipal: String?
    public var dimension: Dimension
    /// When retrying can succeed; zero when `requestTooLarge`.
    public var retryAfter: Duration
    /// The request alone needs more tokens than the limit allows in a whole window: waiting cannot
    /// help, the client has to ask for less (`max_tokens`). Refused with a message saying so rather
    /// than left to fail on every retry.
    public var requestTooLarge: Bool
    /// For people: `Rate limit exceeded: 10 calls per minute for user alice@example.com on endpoint chat.`
    public var message: String

    public init(
        rule: RateLimitRule, bucketPrincipal: String?, dimension: Dimension, retryAfter: Duration, requestTooLarge: Bool = false,
        message: String
    ) {
        self.rule = rule
        self.bucketPrincipal = bucketPrincipal
        self.dimension = dimension
        self.retryAfter = retryAfter
        self.requestTooLarge = requestTooLarge
        self.message = message
    }

    /// `Retry-After` in whole seconds, rounded up so a client that obeys it is not refused again.
    public var retryAfterSeconds: Int {
        let (seconds, attoseconds) = retryAfter.components
        guard seconds >= 0, let whole = Int(exactly: seconds) else { return 0 }
        return attoseconds > 0 && whole < Int.max ? whole + 1 : whole
    }
}

/// The answer to `RateLimiter.admit`.
public enum Admission: Sendable {
    /// Go ahead; settle the ticket when the request ends.
    case admitted(LimitTicket, LimitHeaders)
    /// Refuse with 429; nothing was charged.
    case rejected(LimitRejection, LimitHeaders)
}

/// What an admission charged where: handed back to `charge` and `settle`. Opaque outside the
/// package; a limiter in a sibling module (shared counters in PostgreSQL) builds its own.
public struct LimitTicket: Sendable {
    /// One bucket charged at admission.
    package struct Charge: Sendable, Equatable {
        package var bucket: LimitBucketID
        /// The window it was charged in: refunds go back only to that window.
        package var window: UInt64
        /// A `user_group` bucket: the stream is cut only when every charged group is over.
        package var isGroup: Bool

        package init(bucket: LimitBucketID, window: UInt64, isGroup: Bool) {
            self.bucket = bucket
            self.window = window
            self.isGroup = isGroup
        }
    }

    package let charges: [Charge]
    package let reserved: Int
    /// `nil` when nothing was charged, so unlimited endpoints allocate nothing per request.
    package let ledger: TicketLedger?

    package init(charges: [Charge], reserved: Int) {
        self.charges = charges
        self.reserved = reserved
        ledger = charges.isEmpty ? nil : TicketLedger(charged: reserved)
    }

    /// Tokens held back at admission.
    public var reservedTokens: Int { reserved }
}

/// The running state of one ticket, which `charge` and `settle` update: tickets are values passed
/// around by the caller, so what they have already charged lives here rather than in the limiter,
/// and a ticket that is dropped without being settled leaves nothing behind.
package final class TicketLedger: Sendable {
    /// Tokens charged so far (the reservation, then what streaming went past it). Read and written
    /// only under the limiter's lock, which orders the accesses; the atomics only make that Sendable.
    package let charged: Atomic<Int>
    package let settled: Atomic<Bool>

    package init(charged: Int) {
        self.charged = Atomic(charged)
        settled = Atomic(false)
    }

    /// Marks the ticket settled at `total` tokens and returns what was charged before, or nil
    /// when it was settled already. Called under the limiter's lock.
    package func settle(at total: Int) -> Int? {
        guard !settled.load(ordering: .relaxed) else { return nil }
        settled.store(true, ordering: .relaxed)
        let before = charged.load(ordering: .relaxed)
        charged.store(total, ordering: .relaxed)
        return before
    }
}

/// Admits requests under an endpoint's rate limits and keeps count of what they used.
///
/// The three calls are the whole life of a request, so a limiter sharing counts across replicas
/// can implement them against a database without the callers changing.
public protocol RateLimiter: Sendable {
    /// Checks every applicable limit and, only if all allow it, charges one call and the reserved
    /// tokens to each: all or nothing.
    func admit(_ request: LimitRequest) async -> Admission
    /// A stream's running token count; charges what exceeds the reservation. false = the budget is spent: cut the stream.
    func charge(_ ticket: LimitTicket, tokensSoFar: Int) async -> Bool
    /// The request ended: settle the reservation to the real total (refund or charge the difference; never reject).
    /// Synchronous, because a request can end where nothing awaits (a stream released by its
    /// client): a limiter that needs I/O to settle does it in the background.
    func settle(_ ticket: LimitTicket, totalTokens: Int)
}

/// `ai_gateway.rate_limits[].key` — whose traffic a limit counts (Databricks' `AiGatewayRateLimitKey`).
public enum RateLimitKey: String, Sendable, Hashable, Codable, CaseIterable {
    /// All traffic to the endpoint: a ceiling for everyone.
    case endpoint
    /// With `principal`, one user; without, every user on their own (the default per-user limit).
    case user
    /// The members of one group, sharing one budget; `principal` names the group.
    case userGroup = "user_group"
    /// With `principal`, one service principal; without, every service principal on its own.
    case servicePrincipal = "service_principal"

    /// Databricks' REST bodies and some of its examples spell these in capitals; either spelling is
    /// the same key, and a misspelling names the accepted values instead of failing opaquely.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let key = Self(rawValue: text.lowercased()) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown rate limit key \"\(text)\": use endpoint, user, user_group or service_principal")
        }
        self = key
    }
}

/// `ai_gateway.rate_limits[].renewal_period` — the window a limit counts in.
public enum RenewalPeriod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Databricks supports only this period (limits are QPM and TPM).
    case minute

    /// How long one window lasts.
    public var duration: Duration {
        switch self {
        case .minute: .seconds(60)
        }
    }

    /// Accepts `MINUTE` too, for the same reason as `RateLimitKey`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let period = Self(rawValue: text.lowercased()) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "unknown renewal period \"\(text)\": only minute is supported")
        }
        self = period
    }
}

/// One entry of `ai_gateway.rate_limits`, in the shape of Databricks' `AiGatewayRateLimit`:
/// at most `calls` requests and `tokens` tokens per `renewal_period`, counted for `key`.
///
/// How the entries of one endpoint combine is decided by `RateLimitPlan`; see its documentation.
public struct RateLimitRule: Sendable, Hashable, Codable {
    /// Whose traffic is counted; Databricks defaults it to `endpoint` when absent, and so does Tollgate.
    public var key: RateLimitKey
    /// A user's name (email), a group's name or a service principal's name; `nil` for the
    /// endpoint and for the default per-user or per-service-principal limit.
    public var principal: String?
    /// Requests allowed per window (QPM); `nil` leaves requests uncounted.
    public var calls: Int?
    /// Tokens (prompt plus completion) allowed per window (TPM); `nil` leaves tokens uncounted.
    public var tokens: Int?
    public var renewalPeriod: RenewalPeriod

    public init(key: RateLimitKey = .endpoint, principal: String? = nil, calls: Int? = nil, tokens: Int? = nil, renewalPeriod: RenewalPeriod = .minute) {
        self.key = key
        self.principal = principal
        self.calls = calls
        self.tokens = tokens
        self.renewalPeriod = renewalPeriod
    }

    enum CodingKeys: String, CodingKey {
        case key, principal, calls, tokens
        case renewalPeriod = "renewal_period"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decodeIfPresent(RateLimitKey.self, forKey: .key) ?? .endpoint
        principal = try c.decodeIfPresent(String.self, forKey: .principal)
        calls = try c.decodeIfPresent(Int.self, forKey: .calls)
        tokens = try c.decodeIfPresent(Int.self, forKey: .tokens)
        renewalPeriod = try c.decodeIfPresent(RenewalPeriod.self, forKey: .renewalPeriod) ?? .minute
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encodeIfPresent(principal, forKey: .principal)
        try c.encodeIfPresent(calls, forKey: .calls)
        try c.encodeIfPresent(tokens, forKey: .tokens)
        try c.encode(renewalPeriod, forKey: .renewalPeriod)
    }

    /// The checks the decoder cannot make, located under `path` (`endpoints[0].ai_gateway.rate_limits`).
    ///
    /// Two entries with the same `key` and `principal` are refused rather than combined: which one
    /// would win is not obvious from the file, and the limiter keys its counters by that pair.
    public static func validate(_ rules: [RateLimitRule], path: String) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        var seen: [Identity: Int] = [:]
        for (index, rule) in rules.enumerated() {
            let base = "\(path)[\(index)]"
            if rule.calls == nil && rule.tokens == nil {
                issues.append(ConfigIssue(path: base, message: "set calls, tokens or both: a limit needs something to count"))
            }
            if let calls = rule.calls, calls <= 0 {
                issues.append(ConfigIssue(path: "\(base).calls", message: "must be at least 1 (got \(calls)); leave it out to count no calls"))
            }
            if let tokens = rule.tokens, tokens <= 0 {
                issues.append(ConfigIssue(path: "\(base).tokens", message: "must be at least 1 (got \(tokens)); leave it out to count no tokens"))
            }
            issues += principalIssues(rule, path: "\(base).principal")
            let identity = Identity(key: rule.key, principal: rule.principal)
            if let first = seen[identity] {
                issues.append(ConfigIssue(
                    path: base, message: "has the same key and principal as \(path)[\(first)]; put both limits in one entry"))
            } else {
                seen[identity] = index
            }
        }
        return issues
    }

    private static func principalIssues(_ rule: RateLimitRule, path: String) -> [ConfigIssue] {
        switch (rule.key, rule.principal) {
        case (.endpoint, .some):
            return [ConfigIssue(path: path, message: "an endpoint limit counts all traffic and takes no principal")]
        case (.userGroup, .none):
            return [ConfigIssue(path: path, message: "a user_group limit needs the group's name")]
        case (_, .some(let name)) where name.allSatisfy(\.isWhitespace):
            return [ConfigIssue(path: path, message: "must not be empty; leave it out for the default limit")]
        default:
            return []
        }
    }

    /// What makes two entries the same limit: the pair the limiter keys its counters by.
    struct Identity: Hashable {
        var key: RateLimitKey
        var principal: String?
    }
}

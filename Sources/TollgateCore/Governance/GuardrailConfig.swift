import Foundation

/// `ai_gateway.guardrails` — checks on what goes to the model (`input`) and what comes back (`output`).
public struct GuardrailsConfig: Sendable, Equatable, Codable {
    public var input: GuardrailSettings?
    public var output: GuardrailSettings?

    public init(input: GuardrailSettings? = nil, output: GuardrailSettings? = nil) {
        self.input = input
        self.output = output
    }
}

/// One direction's guardrails: Databricks' fields (`safety`, `pii`, `invalid_keywords`,
/// `valid_topics`) plus Tollgate's (`pii.entities`, `patterns`, `judge`, `on_error`,
/// `stream_window_chars`).
public struct GuardrailSettings: Sendable, Equatable, Codable {
    /// Ask the judge model whether the text is unsafe.
    public var safety: Bool
    public var pii: PIIGuardrail?
    /// Words or phrases that block the request (case-insensitive, whole words).
    public var invalidKeywords: [String]
    /// Topics the request must be about (input only), asked of the judge model.
    public var validTopics: [String]
    /// Custom regular expressions, each with its behavior.
    public var patterns: [NamedPattern]
    /// The endpoint that answers `safety` and `valid_topics`.
    public var judge: GuardrailJudge?
    /// What a judge that errors or times out means: `block` (fail closed, the default) or `allow`.
    public var onError: GuardrailFailureMode
    /// Characters of a stream's output held back so a match split across chunks is still caught.
    public var streamWindowChars: Int

    public init(
        safety: Bool = false, pii: PIIGuardrail? = nil, invalidKeywords: [String] = [], validTopics: [String] = [],
        patterns: [NamedPattern] = [], judge: GuardrailJudge? = nil, onError: GuardrailFailureMode = .block,
        streamWindowChars: Int = StreamScreen.defaultWindow
    ) {
        self.safety = safety
        self.pii = pii
        self.invalidKeywords = invalidKeywords
        self.validTopics = validTopics
        self.patterns = patterns
        self.judge = judge
        self.onError = onError
        self.streamWindowChars = streamWindowChars
    }

    enum CodingKeys: String, CodingKey {
        case safety, pii, patterns, judge
        case invalidKeywords = "invalid_keywords"
        case validTopics = "valid_topics"
        case onError = "on_error"
        case streamWindowChars = "stream_window_chars"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        safety = try c.decodeIfPresent(Bool.self, forKey: .safety) ?? false
        pii = try c.decodeIfPresent(PIIGuardrail.self, forKey: .pii)
        invalidKeywords = try c.decodeIfPresent([String].self, forKey: .invalidKeywords) ?? []
        validTopics = try c.decodeIfPresent([String].self, forKey: .validTopics) ?? []
        patterns = try c.decodeIfPresent([NamedPattern].self, forKey: .patterns) ?? []
        judge = try c.decodeIfPresent(GuardrailJudge.self, forKey: .judge)
        onError = try c.decodeIfPresent(GuardrailFailureMode.self, forKey: .onError) ?? .block
        streamWindowChars = try c.decodeIfPresent(Int.self, forKey: .streamWindowChars) ?? StreamScreen.defaultWindow
    }

    /// Whether anything here needs the judge model.
    public var needsJudge: Bool { safety || !validTopics.isEmpty }

    /// Whether any check is configured.
    public var isEmpty: Bool {
        !safety && (pii == nil || pii?.behavior == GuardAction.none && pii?.entities?.isEmpty == true) && invalidKeywords.isEmpty
            && validTopics.isEmpty && patterns.isEmpty
    }
}

/// `pii: {behavior: BLOCK | MASK | NONE, entities: [EMAIL, …]}`.
public struct PIIGuardrail: Sendable, Equatable, Codable {
    public var behavior: GuardAction
    /// The detectors to run; all of them when absent.
    public var entities: [PIIEntity]?

    public init(behavior: GuardAction, entities: [PIIEntity]? = nil) {
        self.behavior = behavior
        self.entities = entities
    }

    public var detectors: Set<PIIEntity> { Set(entities ?? PIIEntity.allCases) }
}

/// `judge: {endpoint: NAME, timeout_seconds: 10}` — the model-based checks' endpoint.
public struct GuardrailJudge: Sendable, Equatable, Codable {
    public var endpoint: String
    public var timeoutSeconds: Double

    public init(endpoint: String, timeoutSeconds: Double = 10) {
        self.endpoint = endpoint
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
        case endpoint
        case timeoutSeconds = "timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decode(String.self, forKey: .endpoint)
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? 10
    }
}

/// `on_error`.
public enum GuardrailFailureMode: String, Sendable, Codable, Equatable {
    case block, allow
}

/// Checks the decoder cannot see.
public enum GuardrailValidation {
    public static func validate(_ config: GuardrailsConfig, path: String, endpoints: Set<String>) -> [ConfigIssue] {
        var issues: [ConfigIssue] = []
        for (direction, settings) in [("input", config.input), ("output", config.output)] {
            guard let settings else { continue }
            let base = "\(path).\(direction)"
            if direction == "output" && !settings.validTopics.isEmpty {
                issues.append(ConfigIssue(path: "\(base).valid_topics", message: "applies to input only"))
            }
            if settings.needsJudge && settings.judge == nil {
                issues.append(ConfigIssue(path: "\(base).judge", message: "safety and valid_topics need a judge endpoint ({endpoint: NAME})"))
            }
            if let judge = settings.judge {
                if !endpoints.contains(judge.endpoint) {
                    issues.append(ConfigIssue(path: "\(base).judge.endpoint", message: "no endpoint named \"\(judge.endpoint)\""))
                }
                if !(judge.timeoutSeconds > 0 && judge.timeoutSeconds <= 600) {
                    issues.append(ConfigIssue(path: "\(base).judge.timeout_seconds", message: "must be greater than 0 and at most 600"))
                }
            }
            if !(1...4096).contains(settings.streamWindowChars) {
                issues.append(ConfigIssue(path: "\(base).stream_window_chars", message: "must be between 1 and 4096"))
            }
            for (index, keyword) in settings.invalidKeywords.enumerated() where keyword.trimmingCharacters(in: .whitespaces).isEmpty {
                issues.append(ConfigIssue(path: "\(base).invalid_keywords[\(index)]", message: "must not be empty"))
            }
            for (index, pattern) in settings.patterns.enumerated() {
                if pattern.name.isEmpty { issues.append(ConfigIssue(path: "\(base).patterns[\(index)].name", message: "must not be empty")) }
                if (try? TextScreen(pii: [], piiAction: .none, keywords: [], patterns: [pattern])) == nil {
                    issues.append(ConfigIssue(path: "\(base).patterns[\(index)].regex", message: "is not a valid regular expression"))
                }
            }
        }
        return issues
    }
}

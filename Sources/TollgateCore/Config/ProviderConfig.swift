/// The kinds of upstream Tollgate can call.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    case openai
    case azureOpenAI = "azure-openai"
    case anthropic
    case simulator
}

/// `providers[]` — one upstream model service.
public struct ProviderConfig: Sendable, Equatable, Codable {
    public var name: String
    public var kind: ProviderKind
    /// Base URL, e.g. `http://127.0.0.1:8081/v1` (openai), `https://x.openai.azure.com` (azure-openai),
    /// `https://api.anthropic.com` (anthropic). A simulator without one runs inside the gateway.
    public var baseURL: String?
    public var apiKey: String?
    /// Azure OpenAI `api-version` query parameter.
    public var apiVersion: String?
    /// Anthropic `anthropic-version` header.
    public var anthropicVersion: String?
    /// Extra headers sent upstream (values may use `${ENV}`).
    public var headers: [String: String]?
    /// Simulator behaviour (kind `simulator` only).
    public var simulator: SimulatorConfig?

    public init(
        name: String, kind: ProviderKind, baseURL: String? = nil, apiKey: String? = nil, apiVersion: String? = nil,
        anthropicVersion: String? = nil, headers: [String: String]? = nil, simulator: SimulatorConfig? = nil
    ) {
        self.name = name
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiVersion = apiVersion
        self.anthropicVersion = anthropicVersion
        self.headers = headers
        self.simulator = simulator
    }

    enum CodingKeys: String, CodingKey {
        case name, kind, headers, simulator
        case baseURL = "base_url"
        case apiKey = "api_key"
        case apiVersion = "api_version"
        case anthropicVersion = "anthropic_version"
    }
}

/// `providers[].simulator` — how the built-in simulator answers.
public struct SimulatorConfig: Sendable, Equatable, Codable {
    /// Delay before the first byte, in milliseconds.
    public var latencyMs: Int
    /// Streaming speed; 0 sends every chunk at once.
    public var tokensPerSecond: Double
    /// Rules matched in order against the last user message; the first match decides.
    public var scenarios: [SimulatorScenario]
    /// When false, the built-in scenarios for the five probe prompts are not added.
    public var defaultScenarios: Bool

    public init(latencyMs: Int = 0, tokensPerSecond: Double = 0, scenarios: [SimulatorScenario] = [], defaultScenarios: Bool = true) {
        self.latencyMs = latencyMs
        self.tokensPerSecond = tokensPerSecond
        self.scenarios = scenarios
        self.defaultScenarios = defaultScenarios
    }

    enum CodingKeys: String, CodingKey {
        case scenarios
        case latencyMs = "latency_ms"
        case tokensPerSecond = "tokens_per_second"
        case defaultScenarios = "default_scenarios"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        tokensPerSecond = try c.decodeIfPresent(Double.self, forKey: .tokensPerSecond) ?? 0
        scenarios = try c.decodeIfPresent([SimulatorScenario].self, forKey: .scenarios) ?? []
        defaultScenarios = try c.decodeIfPresent(Bool.self, forKey: .defaultScenarios) ?? true
    }
}

/// One simulator rule: when the last user message contains `match`, answer with `outcome`.
public struct SimulatorScenario: Sendable, Equatable, Codable {
    public var match: String
    public var outcome: SimulatorOutcome
    /// `stream_cut`: chunks sent before the content-filter cut. `stall`: chunks sent before stalling.
    public var afterChunks: Int?
    /// `success`: answer exactly this text (a judge's `SAFE`, a fixed reply).
    public var reply: String?

    public init(match: String, outcome: SimulatorOutcome = .success, afterChunks: Int? = nil, reply: String? = nil) {
        self.match = match
        self.outcome = outcome
        self.afterChunks = afterChunks
        self.reply = reply
    }

    enum CodingKeys: String, CodingKey {
        case match, outcome, reply
        case afterChunks = "after_chunks"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        match = try c.decode(String.self, forKey: .match)
        outcome = try c.decodeIfPresent(SimulatorOutcome.self, forKey: .outcome) ?? .success
        afterChunks = try c.decodeIfPresent(Int.self, forKey: .afterChunks)
        reply = try c.decodeIfPresent(String.self, forKey: .reply)
    }
}

/// What the simulator does for a matched prompt, in Azure OpenAI's shapes.
public enum SimulatorOutcome: String, Sendable, Codable, CaseIterable {
    /// 200 with prompt and completion filter annotations.
    case success
    /// HTTP 400 `content_filter` with `innererror.content_filter_result`.
    case promptBlocked = "prompt_blocked"
    /// Streams cut by `finish_reason: "content_filter"` after `after_chunks` chunks; non-streamed
    /// requests get `finish_reason: "content_filter"` with a truncated answer.
    case streamCut = "stream_cut"
    /// HTTP 429 with `retry-after`.
    case rateLimited = "rate_limited"
    /// HTTP 500.
    case serverError = "server_error"
    /// Sends nothing (or `after_chunks` chunks) and never finishes.
    case stall
    /// HTTP 200 whose body is not JSON (or, streamed, whose events are not JSON).
    case invalidJSON = "invalid_json"
}

/// `endpoints[]` — a serving endpoint in the Databricks shape.
public struct EndpointConfig: Sendable, Equatable, Codable {
    public var name: String
    public var config: EndpointCoreConfig
    public var aiGateway: AIGatewayConfig
    public var tags: [EndpointTag]
    public var retention: RetentionConfig
    /// Who may view, query and manage the endpoint (checked when `server.auth` is `keys`).
    public var permissions: [EndpointPermission]

    public init(
        name: String, config: EndpointCoreConfig, aiGateway: AIGatewayConfig = AIGatewayConfig(), tags: [EndpointTag] = [],
        retention: RetentionConfig = RetentionConfig(), permissions: [EndpointPermission] = []
    ) {
        self.permissions = permissions
        self.name = name
        self.config = config
        self.aiGateway = aiGateway
        self.tags = tags
        self.retention = retention
    }

    enum CodingKeys: String, CodingKey {
        case name, config, tags, retention, permissions
        case aiGateway = "ai_gateway"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        config = try c.decode(EndpointCoreConfig.self, forKey: .config)
        aiGateway = try c.decodeIfPresent(AIGatewayConfig.self, forKey: .aiGateway) ?? AIGatewayConfig()
        tags = try c.decodeIfPresent([EndpointTag].self, forKey: .tags) ?? []
        retention = try c.decodeIfPresent(RetentionConfig.self, forKey: .retention) ?? RetentionConfig()
        permissions = try c.decodeIfPresent([EndpointPermission].self, forKey: .permissions) ?? []
    }
}

/// `tags[]` — `{key, value}` labels, as on Databricks endpoints.
public struct EndpointTag: Sendable, Equatable, Codable {
    public var key: String
    public var value: String?

    public init(key: String, value: String? = nil) {
        self.key = key
        self.value = value
    }
}

/// `endpoints[].config` — served entities and how traffic is split between them.
public struct EndpointCoreConfig: Sendable, Equatable, Codable {
    public var servedEntities: [ServedEntityConfig]
    public var trafficConfig: TrafficConfig?

    public init(servedEntities: [ServedEntityConfig], trafficConfig: TrafficConfig? = nil) {
        self.servedEntities = servedEntities
        self.trafficConfig = trafficConfig
    }

    enum CodingKeys: String, CodingKey {
        case servedEntities = "served_entities"
        case trafficConfig = "traffic_config"
        case name
    }

    /// The databricks-sdk's `EndpointCoreConfigInput` repeats the endpoint's `name` here: read
    /// and dropped (the endpoint's own name is the one that counts).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        servedEntities = try c.decode([ServedEntityConfig].self, forKey: .servedEntities)
        trafficConfig = try c.decodeIfPresent(TrafficConfig.self, forKey: .trafficConfig)
        _ = try c.decodeIfPresent(String.self, forKey: .name)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(servedEntities, forKey: .servedEntities)
        try c.encodeIfPresent(trafficConfig, forKey: .trafficConfig)
    }
}

/// `served_entities[]` — one model behind the endpoint.
public struct ServedEntityConfig: Sendable, Equatable, Codable {
    public var name: String
    public var externalModel: ExternalModelConfig?
    /// A declarative agent instead of an external model.
    public var agent: AgentConfig?
    /// A local GGUF model served by a process Tollgate runs.
    public var localModel: LocalModelConfig?
    /// Version label recorded in `served_entity_id` (`name/version`); defaults to 1.
    public var entityVersion: String?
    /// `Small` | `Medium` | `Large` (Databricks' sizes).
    public var workloadSize: String?
    public var scaleToZeroEnabled: Bool?

    public init(
        name: String, externalModel: ExternalModelConfig? = nil, agent: AgentConfig? = nil, entityVersion: String? = nil,
        workloadSize: String? = nil, scaleToZeroEnabled: Bool? = nil, localModel: LocalModelConfig? = nil
    ) {
        self.name = name
        self.localModel = localModel
        self.externalModel = externalModel
        self.agent = agent
        self.entityVersion = entityVersion
        self.workloadSize = workloadSize
        self.scaleToZeroEnabled = scaleToZeroEnabled
    }

    enum CodingKeys: String, CodingKey {
        case name, agent
        case externalModel = "external_model"
        case entityVersion = "entity_version"
        case workloadSize = "workload_size"
        case scaleToZeroEnabled = "scale_to_zero_enabled"
        case localModel = "local_model"
    }

    /// Stable id of this entity version, stored in `served_entity_id`.
    public var servedEntityID: String { "\(name)/\(entityVersion ?? "1")" }
}

/// `external_model` — a model of a configured provider, or, in Databricks' own shape, of a
/// provider described inline (`provider: openai` with `openai_config`, `provider: anthropic`
/// with `anthropic_config`).
public struct ExternalModelConfig: Sendable, Equatable, Codable {
    /// Name of an entry of `providers`, or Databricks' provider name with its inline config.
    public var provider: String
    /// Model name sent upstream (the deployment name for azure-openai).
    public var name: String
    /// Databricks task label, informational (`llm/v1/chat`).
    public var task: String?
    /// Databricks' `openai_config` (OpenAI, or Azure OpenAI with `openai_api_type: azure`).
    public var openaiConfig: OpenAIProviderSettings?
    /// Databricks' `anthropic_config`.
    public var anthropicConfig: AnthropicProviderSettings?

    public init(
        provider: String, name: String, task: String? = nil, openaiConfig: OpenAIProviderSettings? = nil,
        anthropicConfig: AnthropicProviderSettings? = nil
    ) {
        self.provider = provider
        self.name = name
        self.task = task
        self.openaiConfig = openaiConfig
        self.anthropicConfig = anthropicConfig
    }

    enum CodingKeys: String, CodingKey {
        case provider, name, task
        case openaiConfig = "openai_config"
        case anthropicConfig = "anthropic_config"
    }
}

/// `traffic_config` — weighted split across served entities.
public struct TrafficConfig: Sendable, Equatable, Codable {
    public var routes: [TrafficRoute]

    public init(routes: [TrafficRoute]) { self.routes = routes }
}

/// One route of a traffic split.
public struct TrafficRoute: Sendable, Equatable, Codable {
    public var servedEntityName: String
    public var trafficPercentage: Int

    public init(servedEntityName: String, trafficPercentage: Int) {
        self.servedEntityName = servedEntityName
        self.trafficPercentage = trafficPercentage
    }

    enum CodingKeys: String, CodingKey {
        case servedEntityName = "served_entity_name"
        case servedModelName = "served_model_name"
        case trafficPercentage = "traffic_percentage"
    }

    /// Databricks names the route's entity `served_entity_name`, or `served_model_name` in its
    /// older API; either is accepted, and `served_entity_name` is written.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let entity = try c.decodeIfPresent(String.self, forKey: .servedEntityName)
        let model = try c.decodeIfPresent(String.self, forKey: .servedModelName)
        guard let name = entity ?? model else {
            throw DecodingError.keyNotFound(
                CodingKeys.servedEntityName, .init(codingPath: c.codingPath, debugDescription: "served_entity_name (or served_model_name) is required"))
        }
        servedEntityName = name
        trafficPercentage = try c.decode(Int.self, forKey: .trafficPercentage)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(servedEntityName, forKey: .servedEntityName)
        try c.encode(trafficPercentage, forKey: .trafficPercentage)
    }
}

/// `ai_gateway` — what the gateway records and enforces for the endpoint.
public struct AIGatewayConfig: Sendable, Equatable, Codable {
    public var inferenceTableConfig: EnabledFlag
    public var usageTrackingConfig: EnabledFlag
    /// `rate_limits` — calls and tokens per minute, by endpoint, user, group or service principal.
    public var rateLimits: [RateLimitRule]
    public var guardrails: GuardrailsConfig?
    /// `fallback_config: {enabled}` — on 429, 5xx, timeout or refused connection, try the other
    /// served entities in list order.
    public var fallbackConfig: EnabledFlag?

    public init(
        inferenceTableConfig: EnabledFlag = EnabledFlag(enabled: true), usageTrackingConfig: EnabledFlag = EnabledFlag(enabled: true),
        rateLimits: [RateLimitRule] = [], guardrails: GuardrailsConfig? = nil, fallbackConfig: EnabledFlag? = nil
    ) {
        self.inferenceTableConfig = inferenceTableConfig
        self.usageTrackingConfig = usageTrackingConfig
        self.rateLimits = rateLimits
        self.guardrails = guardrails
        self.fallbackConfig = fallbackConfig
    }

    enum CodingKeys: String, CodingKey {
        case inferenceTableConfig = "inference_table_config"
        case usageTrackingConfig = "usage_tracking_config"
        case rateLimits = "rate_limits"
        case guardrails
        case fallbackConfig = "fallback_config"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        inferenceTableConfig = try c.decodeIfPresent(EnabledFlag.self, forKey: .inferenceTableConfig) ?? EnabledFlag(enabled: true)
        usageTrackingConfig = try c.decodeIfPresent(EnabledFlag.self, forKey: .usageTrackingConfig) ?? EnabledFlag(enabled: true)
        rateLimits = try c.decodeIfPresent([RateLimitRule].self, forKey: .rateLimits) ?? []
        guardrails = try c.decodeIfPresent(GuardrailsConfig.self, forKey: .guardrails)
        fallbackConfig = try c.decodeIfPresent(EnabledFlag.self, forKey: .fallbackConfig)
    }

    /// Whether failed calls move on to the next served entity.
    public var fallbackEnabled: Bool { fallbackConfig?.enabled ?? false }
}

/// `{enabled: bool}`.
public struct EnabledFlag: Sendable, Equatable, Codable {
    public var enabled: Bool
    public init(enabled: Bool) { self.enabled = enabled }
}

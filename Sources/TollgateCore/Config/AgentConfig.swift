/// `served_entities[].agent` — a declarative agent: instructions, a model, generation
/// parameters, tools, and what to do when the model call fails.
public struct AgentConfig: Sendable, Equatable, Codable {
    /// System prompt placed before the conversation.
    public var instructions: String?
    public var model: AgentModelConfig
    /// Generation parameters merged into every model call (`temperature`, `max_tokens` …);
    /// the client's own values win.
    public var parameters: JSONObject?
    public var onModelError: ModelErrorPolicy
    public var tools: [AgentToolConfig]
    /// Model calls allowed per request (tool loops stop there).
    public var maxSteps: Int

    public init(
        instructions: String? = nil, model: AgentModelConfig, parameters: JSONObject? = nil,
        onModelError: ModelErrorPolicy = .propagate, tools: [AgentToolConfig] = [], maxSteps: Int = 5
    ) {
        self.instructions = instructions
        self.model = model
        self.parameters = parameters
        self.onModelError = onModelError
        self.tools = tools
        self.maxSteps = maxSteps
    }

    enum CodingKeys: String, CodingKey {
        case instructions, model, parameters, tools
        case onModelError = "on_model_error"
        case maxSteps = "max_steps"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        instructions = try c.decodeIfPresent(String.self, forKey: .instructions)
        model = try c.decode(AgentModelConfig.self, forKey: .model)
        parameters = try c.decodeIfPresent(JSONValue.self, forKey: .parameters)?.objectValue
        onModelError = try c.decodeIfPresent(ModelErrorPolicy.self, forKey: .onModelError) ?? .propagate
        tools = try c.decodeIfPresent([AgentToolConfig].self, forKey: .tools) ?? []
        maxSteps = try c.decodeIfPresent(Int.self, forKey: .maxSteps) ?? 5
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(instructions, forKey: .instructions)
        try c.encode(model, forKey: .model)
        try c.encodeIfPresent(parameters.map(JSONValue.object), forKey: .parameters)
        try c.encode(onModelError, forKey: .onModelError)
        try c.encode(tools, forKey: .tools)
        try c.encode(maxSteps, forKey: .maxSteps)
    }
}

/// The model an agent calls: another endpoint of this gateway, or a provider's model.
public struct AgentModelConfig: Sendable, Equatable, Codable {
    /// Name of another endpoint (its traffic split and recording apply as usual).
    public var endpoint: String?
    /// A provider name with `name`, as in `external_model`.
    public var provider: String?
    public var name: String?

    public init(endpoint: String? = nil, provider: String? = nil, name: String? = nil) {
        self.endpoint = endpoint
        self.provider = provider
        self.name = name
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, provider, name
    }

    /// `model: NAME` is shorthand for `model: {endpoint: NAME}`.
    public init(from decoder: any Decoder) throws {
        if let endpoint = try? decoder.singleValueContainer().decode(String.self) {
            self.init(endpoint: endpoint)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            endpoint: try c.decodeIfPresent(String.self, forKey: .endpoint), provider: try c.decodeIfPresent(String.self, forKey: .provider),
            name: try c.decodeIfPresent(String.self, forKey: .name))
    }
}

/// What an agent does when its model call fails.
public enum ModelErrorPolicy: Sendable, Equatable, Codable {
    /// The provider's error goes to the client.
    case propagate
    /// The agent answers HTTP 200 with this message; the trace keeps the exception.
    case respond(String)

    enum CodingKeys: String, CodingKey { case respond }

    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let word = try? single.decode(String.self) {
            guard word == "propagate" else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "expected propagate or {respond: \"message\"}"))
            }
            self = .propagate
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self = .respond(try c.decode(String.self, forKey: .respond))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .propagate:
            var single = encoder.singleValueContainer()
            try single.encode("propagate")
        case .respond(let message):
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .respond)
        }
    }
}

/// `agent.tools[]` — a tool source. Today: an MCP server over stdio.
public struct AgentToolConfig: Sendable, Equatable, Codable {
    public var mcp: MCPServerConfig

    public init(mcp: MCPServerConfig) { self.mcp = mcp }
}

/// An MCP server started as a child process, spoken to over stdin/stdout.
public struct MCPServerConfig: Sendable, Equatable, Codable {
    /// Program and arguments, e.g. `[python3, tools/orders.py]`.
    public var command: [String]
    public var env: [String: String]?

    public init(command: [String], env: [String: String]? = nil) {
        self.command = command
        self.env = env
    }
}

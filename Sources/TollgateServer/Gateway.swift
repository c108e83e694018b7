import Logging
import TollgateCore
import TollgateProviders

/// The served entity chosen for a request, with what answers for it.
struct EntityRuntime: Sendable {
    enum Backend: Sendable {
        case model(any ChatProvider)
        case agent(AgentConfig, ModelTarget, AgentToolbox?)
    }

    let config: ServedEntityConfig
    /// The model name sent upstream (for agents, the model they call, as configured).
    let upstreamModel: String
    let backend: Backend

    var isAgent: Bool {
        if case .agent = backend { return true }
        return false
    }

    /// The provider that serves this request (agents hold the request's trace).
    func provider(for trace: RequestTrace) -> any ChatProvider {
        switch backend {
        case .model(let provider): provider
        case .agent(let agent, let model, let toolbox): AgentProvider(agent: agent, model: model, toolbox: toolbox, trace: trace)
        }
    }
}

/// One endpoint, ready to route.
struct EndpointRuntime: Sendable {
    let config: EndpointConfig
    let router: TrafficRouter
    let entities: [String: EntityRuntime]

    /// The entity for this request, by the traffic split.
    func pickEntity() -> EntityRuntime? {
        entities[router.pick()] ?? entities.values.first
    }
}

/// Everything the request path needs, built once from the configuration.
struct Gateway: Sendable {
    let config: GatewayConfig
    let endpoints: [String: EndpointRuntime]
    /// The MCP tool servers of every agent (started and stopped by `ToolHost`).
    let toolboxes: [AgentToolbox]

    init(config: GatewayConfig, upstream: HTTPUpstream, logger: Logger, simulatorURL: @Sendable (String) -> LateBoundURL) {
        self.config = config
        func client(_ model: ExternalModelConfig) -> (any ChatProvider)? {
            guard let provider = config.provider(named: model.provider) else { return nil }
            return ProviderFactory.make(
                provider: provider, model: model, upstream: upstream,
                simulatorURL: provider.kind == .simulator && provider.baseURL == nil ? simulatorURL(provider.name) : nil
            )
        }
        // Model entities first: agents that name an endpoint call through these.
        var models: [String: EndpointRuntime] = [:]
        for endpoint in config.endpoints {
            var entities: [String: EntityRuntime] = [:]
            for entity in endpoint.config.servedEntities {
                guard let model = entity.externalModel, let provider = client(model) else { continue }
                entities[entity.name] = EntityRuntime(config: entity, upstreamModel: model.name, backend: .model(provider))
            }
            models[endpoint.name] = EndpointRuntime(config: endpoint, router: TrafficRouter(endpoint: endpoint), entities: entities)
        }
        var endpoints = models
        var toolboxes: [AgentToolbox] = []
        for endpoint in config.endpoints {
            var entities = models[endpoint.name]?.entities ?? [:]
            for entity in endpoint.config.servedEntities {
                guard let agent = entity.agent else { continue }
                let target: ModelTarget
                let modelName: String
                if let name = agent.model.endpoint, let runtime = models[name] {
                    target = ModelTarget {
                        guard let picked = runtime.pickEntity(), case .model(let provider) = picked.backend else { return nil }
                        return (provider, picked.upstreamModel)
                    }
                    modelName = name
                } else if let provider = agent.model.provider, let name = agent.model.name,
                          let chosen = client(ExternalModelConfig(provider: provider, name: name)) {
                    target = ModelTarget { (chosen, name) }
                    modelName = name
                } else {
                    continue
                }
                let toolbox = agent.tools.isEmpty ? nil : AgentToolbox(servers: agent.tools.map(\.mcp), logger: logger)
                if let toolbox { toolboxes.append(toolbox) }
                entities[entity.name] = EntityRuntime(config: entity, upstreamModel: modelName, backend: .agent(agent, target, toolbox))
            }
            endpoints[endpoint.name] = EndpointRuntime(config: endpoint, router: TrafficRouter(endpoint: endpoint), entities: entities)
        }
        self.endpoints = endpoints
        self.toolboxes = toolboxes
    }
}

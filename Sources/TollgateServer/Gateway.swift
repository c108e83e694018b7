import TollgateCore
import TollgateProviders

/// The served entity chosen for a request, with the client that reaches its model.
struct EntityRuntime: Sendable {
    let config: ServedEntityConfig
    let upstreamModel: String
    let provider: any ChatProvider
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

    init(config: GatewayConfig, upstream: HTTPUpstream, simulatorURL: @Sendable (String) -> LateBoundURL) {
        self.config = config
        var endpoints: [String: EndpointRuntime] = [:]
        for endpoint in config.endpoints {
            var entities: [String: EntityRuntime] = [:]
            for entity in endpoint.config.servedEntities {
                guard let model = entity.externalModel, let provider = config.provider(named: model.provider) else { continue }
                let client = ProviderFactory.make(
                    provider: provider, model: model, upstream: upstream,
                    simulatorURL: provider.kind == .simulator && provider.baseURL == nil ? simulatorURL(provider.name) : nil
                )
                entities[entity.name] = EntityRuntime(config: entity, upstreamModel: model.name, provider: client)
            }
            endpoints[endpoint.name] = EndpointRuntime(config: endpoint, router: TrafficRouter(endpoint: endpoint), entities: entities)
        }
        self.endpoints = endpoints
    }
}

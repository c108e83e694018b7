import Foundation
import Logging
import Synchronization
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
    /// Token price of the model that answers (`pricing`), if configured.
    let price: PriceConfig?
    /// Requests in flight on this entity; a retired entity's resources stop once it is zero
    /// (a local model's is its handle's, which scale to zero also reads).
    var activity = EntityActivity()

    /// The model-server processes of a `local_model` entity.
    var localModel: LocalModelHandle? {
        if case .model(let provider as LocalModelProvider) = backend { return provider.handle }
        return nil
    }

    /// Whether the entity's model answers `/v1/embeddings` (agents do not).
    var supportsEmbeddings: Bool {
        if case .model(let provider) = backend { return provider.supportsEmbeddings }
        return false
    }

    var isAgent: Bool {
        if case .agent = backend { return true }
        return false
    }

    var toolbox: AgentToolbox? {
        if case .agent(_, _, let toolbox) = backend { return toolbox }
        return nil
    }

    /// The provider that serves this request (agents hold the request's trace).
    func provider(for trace: RequestTrace) -> any ChatProvider {
        switch backend {
        case .model(let provider): provider
        case .agent(let agent, let model, let toolbox): AgentProvider(agent: agent, model: model, toolbox: toolbox, trace: trace)
        }
    }
}

/// Counts an entity's requests in flight.
final class EntityActivity: Sendable {
    private let count = Atomic<Int>(0)
    /// When a request last ended (milliseconds since 1970), so idleness counts from there.
    private let lastEndedMs = Atomic<Int64>(0)

    var inFlight: Int { count.load(ordering: .acquiring) }

    /// When the last request on the entity ended, if one has.
    var lastEnded: Date? {
        let ms = lastEndedMs.load(ordering: .acquiring)
        return ms == 0 ? nil : Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    /// Held by a request for as long as it runs; released when the request's last reference goes.
    func lease() -> EntityLease { EntityLease(self) }

    fileprivate func change(_ delta: Int) {
        if delta < 0 { lastEndedMs.store(Int64(Date().timeIntervalSince1970 * 1000), ordering: .releasing) }
        count.add(delta, ordering: .acquiringAndReleasing)
    }
}

/// One request's hold on its entity (see `EntityActivity`).
final class EntityLease: Sendable {
    private let activity: EntityActivity

    fileprivate init(_ activity: EntityActivity) {
        self.activity = activity
        activity.change(1)
    }

    deinit { activity.change(-1) }
}

/// One endpoint, ready to route.
struct EndpointRuntime: Sendable {
    let config: EndpointConfig
    let router: TrafficRouter
    let entities: [String: EntityRuntime]
    /// The endpoint's guardrails, compiled.
    let guardrails: EndpointGuardrails

    init(config: EndpointConfig, router: TrafficRouter, entities: [String: EntityRuntime]) {
        self.config = config
        self.router = router
        self.entities = entities
        guardrails = EndpointGuardrails(config.aiGateway.guardrails)
    }

    /// The entity for this request, by the traffic split.
    func pickEntity() -> EntityRuntime? {
        entities[router.pick()] ?? entities.values.first
    }
}

/// Everything a request needs: the configuration and the endpoints as they are now.
struct Gateway: Sendable {
    let config: GatewayConfig
    let endpoints: [String: EndpointRuntime]

    /// Every agent's MCP tool servers.
    var toolboxes: [AgentToolbox] {
        endpoints.values.flatMap { $0.entities.values.compactMap(\.toolbox) }
    }
}

/// Builds endpoint runtimes from definitions. A new definition reuses every unchanged entity of
/// the endpoint's previous runtime (and so its tool servers); requests in flight keep the
/// entity they started with.
struct GatewayBuilder: Sendable {
    let config: GatewayConfig
    let upstream: HTTPUpstream
    let logger: Logger
    /// The live runtime of the endpoint an agent calls, found at call time.
    let lookup: @Sendable (String) -> EndpointRuntime?
    let simulatorURL: @Sendable (String) -> LateBoundURL
    let localModels: LocalModelRegistry

    func runtime(for endpoint: EndpointConfig, previous: EndpointRuntime?) -> EndpointRuntime {
        var entities: [String: EntityRuntime] = [:]
        for entity in endpoint.config.servedEntities {
            if let reused = previous?.entities[entity.name], reused.config == entity {
                entities[entity.name] = reused
            } else if let model = entity.externalModel, let provider = client(model) {
                let price = config.pricing.tokenPrice(provider: model.provider, model: model.name)
                entities[entity.name] = EntityRuntime(config: entity, upstreamModel: model.name, backend: .model(provider), price: price)
            } else if let local = entity.localModel {
                let handle = LocalModelHandle(endpointName: endpoint.name, entity: entity, config: local, upstream: upstream, logger: logger)
                localModels.add(handle)
                // Local models are priced by compute (`compute_usage`); their tokens cost nothing.
                entities[entity.name] = EntityRuntime(
                    config: entity, upstreamModel: handle.modelName, backend: .model(LocalModelProvider(handle: handle)), price: PriceConfig(),
                    activity: handle.activity
                )
            } else if let agent = entity.agent, let runtime = agentRuntime(agent, entity: entity, endpoints: endpoint) {
                entities[entity.name] = runtime
            } else {
                logger.warning("served entity cannot be built; it gets no traffic", metadata: ["endpoint": "\(endpoint.name)", "entity": "\(entity.name)"])
            }
        }
        return EndpointRuntime(config: endpoint, router: TrafficRouter(endpoint: endpoint), entities: entities)
    }

    private func client(_ model: ExternalModelConfig) -> (any ChatProvider)? {
        guard let provider = config.provider(for: model, environment: ProcessInfo.processInfo.environment) else { return nil }
        var model = model
        model.name = model.upstreamName
        return ProviderFactory.make(
            provider: provider, model: model, upstream: upstream,
            simulatorURL: provider.kind == .simulator && provider.baseURL == nil ? simulatorURL(provider.name) : nil
        )
    }

    private func agentRuntime(_ agent: AgentConfig, entity: ServedEntityConfig, endpoints: EndpointConfig) -> EntityRuntime? {
        let target: ModelTarget
        let modelName: String
        var price: PriceConfig?
        if let name = agent.model.endpoint {
            let lookup = self.lookup
            target = ModelTarget {
                guard let picked = lookup(name)?.pickEntity(), case .model(let provider) = picked.backend else { return nil }
                return (provider, picked.upstreamModel)
            }
            modelName = name
            // An agent on a model endpoint is priced as that endpoint's first priced model.
            price = lookup(name)?.config.config.servedEntities.lazy.compactMap { entity in
                entity.externalModel.flatMap { config.pricing.tokenPrice(provider: $0.provider, model: $0.name) }
            }.first
        } else if let provider = agent.model.provider, let name = agent.model.name,
                  let chosen = client(ExternalModelConfig(provider: provider, name: name)) {
            target = ModelTarget { (chosen, name) }
            modelName = name
            price = config.pricing.tokenPrice(provider: provider, model: name)
        } else {
            return nil
        }
        let toolbox = agent.tools.isEmpty ? nil : AgentToolbox(servers: agent.tools.map(\.mcp), logger: logger)
        return EntityRuntime(config: entity, upstreamModel: modelName, backend: .agent(agent, target, toolbox), price: price)
    }
}

/// The endpoints the request path reads; one endpoint's runtime is swapped when its definition
/// changes.
final class LiveEndpoints: Sendable {
    let config: GatewayConfig
    private let endpoints = Mutex<[String: EndpointRuntime]>([:])
    /// Tool servers of retired entities, kept until their requests in flight are done.
    let draining = ObjectSet<AgentToolbox>()

    init(config: GatewayConfig) { self.config = config }

    /// A snapshot of the gateway as it is now.
    var current: Gateway { Gateway(config: config, endpoints: endpoints.withLock { $0 }) }

    /// Every toolbox that may still hold running servers: the live entities' and the draining.
    var toolboxes: [AgentToolbox] { current.toolboxes + draining.all }


    func endpoint(_ name: String) -> EndpointRuntime? { endpoints.withLock { $0[name] } }

    /// Installs (or with nil removes) an endpoint's runtime; returns the one it replaced.
    @discardableResult
    func set(_ name: String, _ runtime: EndpointRuntime?) -> EndpointRuntime? {
        endpoints.withLock { all in
            let previous = all[name]
            all[name] = runtime
            return previous
        }
    }
}

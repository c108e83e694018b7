import Foundation
import Logging
import TollgateCore
import TollgateStore

/// Owns the serving endpoints: their stored definitions, config versions and update state, and
/// their live runtimes. Every change — the configuration file at start, the admin API, deploy,
/// rollback, retire, retention — goes through here.
///
/// A config update is accepted at once (`config_update = IN_PROGRESS`), then its new entities
/// are warmed up (agents' tool servers started) and the endpoint's runtime is swapped; a second
/// update of the same endpoint meanwhile is refused. Requests in flight finish on the entities
/// they started with; a retired entity's tool servers stop once its last request is done.
///
/// Several replicas on one store: each saves a config version only if the store holds no
/// later one (else 409), and `refresh` installs the versions other replicas saved.
actor EndpointManager {
    let store: EndpointStore
    let live: LiveEndpoints
    let builder: GatewayBuilder
    let logger: Logger
    private var endpoints: [String: StoredEndpoint] = [:]
    private var pending: [String: (id: Int, task: Task<Void, Never>)] = [:]
    private var nextTaskID = 0
    /// Endpoints whose new version is being written to the store: `refresh` leaves them alone.
    private var saving: Set<String> = []
    /// Counts this replica's writes, so `refresh` can tell that its read of the store may be
    /// older than a change made here while it waited for it.
    private var localWrites = 0

    init(store: EndpointStore, live: LiveEndpoints, builder: GatewayBuilder, logger: Logger) {
        self.store = store
        self.live = live
        self.builder = builder
        self.logger = logger
    }

    // MARK: - Start

    /// Loads the stored endpoints, applies the file's: an endpoint the file defines is created,
    /// or updated when its definition in the file changed since it was last applied (so deploys
    /// made since are kept until the file itself changes). Then installs every runtime.
    func bootstrap(file: [EndpointConfig]) async throws {
        for stored in try await store.endpoints() { endpoints[stored.definition.name] = stored }
        for definition in file {
            do {
                try await applyFromFile(definition)
            } catch let error as StoreError where error.code == .conflict {
                // Another replica starting with the same file saved it first: take what it saved.
                for stored in try await store.endpoints() where stored.definition.name == definition.name {
                    endpoints[definition.name] = stored
                }
            }
        }
        // Model endpoints first: agents look up the endpoints they call.
        let ordered = endpoints.values.sorted { ($0.definition.servesAgents ? 1 : 0, $0.createdAt) < ($1.definition.servesAgents ? 1 : 0, $1.createdAt) }
        for stored in ordered {
            if stored.configUpdate == "IN_PROGRESS" {  // an update interrupted by a stop is finished now
                try await store.setConfigUpdate(stored.definition.name, "NOT_UPDATING")
                endpoints[stored.definition.name]?.configUpdate = "NOT_UPDATING"
            }
            live.set(stored.definition.name, builder.runtime(for: stored.definition, previous: nil))
        }
    }

    private func applyFromFile(_ definition: EndpointConfig) async throws {
        if var stored = endpoints[definition.name] {
            guard stored.fileDefinition != definition else { return }
            stored.definition = definition
            stored.fileDefinition = definition
            stored.configVersion += 1
            stored.configUpdate = "NOT_UPDATING"
            try await store.save(stored, reason: "configuration file changed")
            endpoints[definition.name] = stored
        } else {
            let now = Date()
            let stored = StoredEndpoint(
                definition: definition, configVersion: 1, fileDefinition: definition, configUpdate: "NOT_UPDATING", createdAt: now, updatedAt: now
            )
            try await store.save(stored, reason: "created from the configuration file", now: now)
            endpoints[definition.name] = stored
        }
    }

    /// Installs what other replicas (or processes) changed in the store: newer config versions,
    /// new endpoints, deleted ones. Returns false when an endpoint was skipped because this
    /// replica is changing it right now (the caller tries again later).
    func refresh() async throws(StoreError) -> Bool {
        let writes = localWrites
        let stored = try await store.endpoints()
        // A change made here meanwhile (a delete, a save) may be missing from what was read.
        guard localWrites == writes else { return false }
        var complete = true
        for endpoint in stored {
            let name = endpoint.definition.name
            // An endpoint deleted and created again between two polls starts over at version 1:
            // its creation time tells it from the one held here (compared as stored, to the ms).
            if let local = endpoints[name], local.configVersion >= endpoint.configVersion,
               UTCTimestamp.iso8601(local.createdAt) == UTCTimestamp.iso8601(endpoint.createdAt) { continue }
            guard pending[name] == nil, !saving.contains(name) else {
                complete = false
                continue
            }
            logger.info("endpoint changed in the store", metadata: ["endpoint": "\(name)", "config_version": "\(endpoint.configVersion)"])
            endpoints[name] = endpoint
            startApplying(name)
        }
        let names = Set(stored.map(\.definition.name))
        for name in endpoints.keys.sorted() where !names.contains(name) {
            guard pending[name] == nil, !saving.contains(name) else {
                complete = false
                continue
            }
            endpoints[name] = nil
            if let removed = live.set(name, nil) { drain(Array(removed.entities.values), endpoint: name) }
            logger.info("endpoint deleted in the store", metadata: ["endpoint": "\(name)"])
        }
        return complete
    }

    func all() -> [StoredEndpoint] { endpoints.values.sorted { ($0.createdAt, $0.definition.name) < ($1.createdAt, $1.definition.name) } }

    func endpoint(_ name: String) throws(GatewayError) -> StoredEndpoint {
        guard let stored = endpoints[name] else { throw AdminErrors.notFound(name) }
        return stored
    }

    // MARK: - Admin operations

    func create(_ definition: EndpointConfig) async throws(GatewayError) -> StoredEndpoint {
        guard endpoints[definition.name] == nil, !saving.contains(definition.name) else {
            throw GatewayError(code: .resourceAlreadyExists, status: 409, message: "Endpoint `\(definition.name)` already exists.")
        }
        try validate(definition)
        saving.insert(definition.name)
        defer { saving.remove(definition.name) }
        let now = Date()
        let stored = StoredEndpoint(definition: definition, configVersion: 1, fileDefinition: nil, configUpdate: "IN_PROGRESS", createdAt: now, updatedAt: now)
        try await persist(stored, reason: "created")
        endpoints[definition.name] = stored
        startApplying(definition.name)
        return stored
    }

    /// Replaces an endpoint's definition (a new config version), applied in the background.
    func update(
        _ name: String, to definition: EndpointConfig, reason: String, retiring earlier: [(name: String, reason: String)] = []
    ) async throws(GatewayError) -> StoredEndpoint {
        var stored = try endpoint(name)
        guard pending[name] == nil, !saving.contains(name) else {
            throw GatewayError(
                code: .resourceConflict, status: 409,
                message: "Endpoint `\(name)` has a config update in progress (config_version \(stored.configVersion)); wait until state.config_update is NOT_UPDATING."
            )
        }
        // Reserved before the first wait, so a second update of the endpoint meanwhile is refused.
        saving.insert(name)
        defer { saving.remove(name) }
        let (definition, retiredNow) = await retained(definition, current: stored.definition)
        guard definition != stored.definition else { return stored }
        let retired = earlier + retiredNow
        try validate(definition)
        for (entity, why) in retired {
            logger.notice("retention retires a 0%-traffic version", metadata: ["endpoint": "\(name)", "entity": "\(entity)", "reason": "\(why)"])
        }
        stored.definition = definition
        stored.configVersion += 1
        stored.configUpdate = "IN_PROGRESS"
        stored.updatedAt = Date()
        try await persist(stored, reason: reason, retired: Dictionary(retired.map { ($0.name, $0.reason) }, uniquingKeysWith: { first, _ in first }))
        endpoints[name] = stored
        startApplying(name)
        return stored
    }

    /// Creates or updates an endpoint to `definition` (what `tollgate apply` sends); says which.
    func apply(_ definition: EndpointConfig) async throws(GatewayError) -> (StoredEndpoint, String) {
        guard let stored = endpoints[definition.name] else { return (try await create(definition), "created") }
        let updated = try await update(definition.name, to: definition, reason: "applied")
        return (updated, updated.configVersion == stored.configVersion ? "unchanged" : "updated")
    }

    func updateConfig(_ name: String, _ config: EndpointCoreConfig) async throws(GatewayError) -> StoredEndpoint {
        var definition = try endpoint(name).definition
        definition.config = config
        return try await update(name, to: definition, reason: "config updated")
    }

    func updateAIGateway(_ name: String, _ settings: AIGatewayConfig) async throws(GatewayError) -> StoredEndpoint {
        var definition = try endpoint(name).definition
        definition.aiGateway = settings
        return try await update(name, to: definition, reason: "ai_gateway updated")
    }

    func delete(_ name: String) async throws(GatewayError) {
        _ = try endpoint(name)
        await settle(name)
        guard !saving.contains(name) else {
            throw GatewayError(code: .resourceConflict, status: 409, message: "Endpoint `\(name)` is being changed; retry once that is done.")
        }
        saving.insert(name)
        defer { saving.remove(name) }
        do { try await store.delete(name) } catch { throw AdminErrors.storeFailed(error) }
        localWrites += 1
        endpoints[name] = nil
        if let removed = live.set(name, nil) { drain(Array(removed.entities.values), endpoint: name) }
        logger.info("endpoint deleted", metadata: ["endpoint": "\(name)"])
    }

    func deploy(_ name: String, entity: ServedEntityConfig, canary: Int?) async throws(GatewayError) -> StoredEndpoint {
        var definition = try endpoint(name).definition
        do {
            definition.config = try VersionPlans.deploy(definition.config, entity: entity, canary: canary)
        } catch {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: error.message)
        }
        let how = canary.map { "canary \($0)%" } ?? "100%"
        return try await update(name, to: definition, reason: "deployed \(entity.name) at \(how)")
    }

    /// Restores the last earlier config whose served entities or traffic differ from the current.
    func rollback(_ name: String) async throws(GatewayError) -> StoredEndpoint {
        let stored = try endpoint(name)
        let previous: (Int, EndpointConfig)?
        do { previous = try await store.previousDefinition(name, before: stored.configVersion, current: stored.definition) } catch { throw AdminErrors.storeFailed(error) }
        guard let (version, definition) = previous else {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: "Endpoint `\(name)` has no earlier config to roll back to.")
        }
        // The earlier entities and traffic come back; entities added since stay, at 0%, so the
        // rollback can itself be undone (until retention removes them).
        var restored = stored.definition
        restored.config = definition.config
        var routes = VersionPlans.routes(of: definition.config)
        for entity in stored.definition.config.servedEntities where !definition.config.servedEntities.contains(where: { $0.name == entity.name }) {
            restored.config.servedEntities.append(entity)
            routes.append(TrafficRoute(servedEntityName: entity.name, trafficPercentage: 0))
        }
        restored.config.trafficConfig = TrafficConfig(routes: routes)
        return try await update(name, to: restored, reason: "rolled back to config_version \(version)")
    }

    func retire(_ name: String, entity: String, reason: String = "retired") async throws(GatewayError) -> StoredEndpoint {
        var definition = try endpoint(name).definition
        do {
            definition.config = try VersionPlans.retire(definition.config, entity: entity)
        } catch {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: error.message)
        }
        return try await update(name, to: definition, reason: reason)
    }

    /// Waits until no update of `name` is in progress.
    func settle(_ name: String) async {
        while let (_, task) = pending[name] { await task.value }
    }

    // MARK: - Retention

    /// Applies the age rule of every endpoint's retention policy (the count rule is applied by
    /// every update); run periodically.
    func enforceRetention(now: Date = Date()) async {
        for name in endpoints.keys.sorted() where pending[name] == nil {
            guard let stored = endpoints[name] else { continue }
            let (definition, retired) = await retained(stored.definition, current: stored.definition, now: now)
            guard !retired.isEmpty else { continue }
            _ = try? await update(name, to: definition, reason: "retention", retiring: retired)
            await settle(name)
        }
    }

    /// `definition` without the 0%-traffic versions its retention policy does not keep. A
    /// version's 0% clock starts when it loses its traffic (`now` for one that loses it here).
    private func retained(
        _ definition: EndpointConfig, current: EndpointConfig, now: Date = Date()
    ) async -> (EndpointConfig, [(name: String, reason: String)]) {
        let versions = (try? await store.versions(definition.name)) ?? []
        let before = TrafficShares(current)
        let after = TrafficShares(definition)
        let zero = definition.config.servedEntities.compactMap { entity -> VersionPlans.ZeroTrafficVersion? in
            guard after.share(of: entity.name) == 0 else { return nil }
            let version = versions.first { $0.entityName == entity.name && $0.state != "RETIRED" }
            let wasLive = current.config.servedEntities.contains { $0.name == entity.name }
            let since = wasLive && before.share(of: entity.name) == 0 ? (version?.zeroTrafficSince ?? version?.createdAt ?? now) : now
            return VersionPlans.ZeroTrafficVersion(name: entity.name, since: since)
        }
        var result = definition
        var retired: [(name: String, reason: String)] = []
        for (name, reason) in VersionPlans.retention(definition.retention, zeroTraffic: zero, now: now) {
            guard let next = try? VersionPlans.retire(result.config, entity: name) else { continue }
            result.config = next
            retired.append((name, reason))
        }
        return (result, retired)
    }

    // MARK: - Applying

    private func startApplying(_ name: String) {
        nextTaskID += 1
        let id = nextTaskID
        pending[name] = (id, Task { await self.apply(name, task: id) })
    }

    private func apply(_ name: String, task id: Int) async {
        defer { if pending[name]?.id == id { pending[name] = nil } }
        guard let stored = endpoints[name] else { return }
        let previous = live.endpoint(name)
        let runtime = builder.runtime(for: stored.definition, previous: previous)
        let fresh = runtime.entities.values.filter { !Self.unchanged($0, in: previous) }
        for toolbox in fresh.compactMap(\.toolbox) {
            do { _ = try await toolbox.toolDefinitions() } catch {
                logger.warning("agent tools not ready; will retry on first use", metadata: ["endpoint": "\(name)", "error": "\(error)"])
            }
        }
        live.set(name, runtime)
        if let previous {
            let gone = previous.entities.values.filter { !Self.unchanged($0, in: runtime) }
            drain(gone, endpoint: name)
        }
        if endpoints[name]?.configVersion == stored.configVersion { endpoints[name]?.configUpdate = "NOT_UPDATING" }
        try? await store.setConfigUpdate(name, "NOT_UPDATING", configVersion: stored.configVersion)
        logger.info("endpoint config applied", metadata: ["endpoint": "\(name)", "config_version": "\(stored.configVersion)"])
    }

    /// Whether `other` serves the same entity with the same configuration.
    private static func unchanged(_ entity: EntityRuntime, in other: EndpointRuntime?) -> Bool {
        other?.entities[entity.config.name]?.config == entity.config
    }

    /// Stops what retired entities hold (tool servers, model processes) once their requests in
    /// flight are done.
    private func drain(_ entities: [EntityRuntime], endpoint: String) {
        let holding = entities.filter { $0.toolbox != nil || $0.localModel != nil }
        guard !holding.isEmpty else { return }
        let registry = builder.localModels
        // Registered so that a gateway shutting down meanwhile stops these servers too.
        for toolbox in holding.compactMap(\.toolbox) { live.draining.add(toolbox) }
        Task { [live] in
            for entity in holding {
                while entity.activity.inFlight > 0 { try? await Task.sleep(for: .milliseconds(50)) }
                if let toolbox = entity.toolbox {
                    await toolbox.shutdown()
                    live.draining.remove(toolbox)
                }
                if let local = entity.localModel {
                    await local.shutdown()
                    registry.remove(local)
                }
            }
        }
    }

    private func persist(_ stored: StoredEndpoint, reason: String, retired: [String: String] = [:]) async throws(GatewayError) {
        let name = stored.definition.name
        defer { localWrites += 1 }
        do {
            try await store.save(stored, reason: reason, retiredReasons: retired)
        } catch where error.code == .conflict {
            throw GatewayError(
                code: .resourceConflict, status: 409,
                message: "Endpoint `\(name)` was changed meanwhile (config_version \(stored.configVersion) is taken); read it again and retry."
            )
        } catch {
            throw AdminErrors.storeFailed(error)
        }
        logger.info("endpoint config version saved", metadata: [
            "endpoint": "\(stored.definition.name)", "config_version": "\(stored.configVersion)", "reason": "\(reason)",
        ])
    }

    /// Checks a definition against the rest of the configuration, with paths relative to it.
    private func validate(_ definition: EndpointConfig) throws(GatewayError) {
        var config = builder.config
        config.endpoints = endpoints.values.map(\.definition).filter { $0.name != definition.name } + [definition]
        let prefix = "endpoints[\(config.endpoints.count - 1)]."
        var issues = ConfigValidator().validate(config).filter { $0.path.hasPrefix(prefix) }
        issues += Self.unresolvableToolEnvironment(definition).map { ConfigIssue(path: prefix + $0.path, message: $0.message) }
        guard issues.isEmpty else {
            let text = issues.map { "\($0.path.dropFirst(prefix.count)): \($0.message)" }.joined(separator: "; ")
            throw GatewayError(code: .invalidParameterValue, status: 400, message: text)
        }
    }
}

import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgatePipeline
import TollgateProviders
import TollgateSimulator
import TollgateStore

/// Runs the whole gateway: store and record writer, the embedded simulator when a simulator
/// provider has no `base_url`, the upstream HTTP client, and the HTTP server. Shutdown order:
/// the server stops taking requests and finishes those in flight, the writer drains, the
/// simulator and the HTTP client stop.
public final class GatewayRuntime: Sendable {
    public let config: GatewayConfig
    let logger: Logger
    private let group = Mutex<ServiceGroup?>(nil)
    private let writerBox = Mutex<RecordWriter?>(nil)
    private let exporterBox = Mutex<OTLPExporter?>(nil)

    /// Whether each connection is served on its own event loop (`LoopAffineChannel`): right when
    /// Swift Concurrency runs on the NIO loops, which the executable decides.
    let connectionsOnTheirLoops: Bool
    let openStore: GatewayStoreOpener

    /// - Parameter openStore: opens `config.store`; SQLite unless the executable knows more backends.
    public init(
        config: GatewayConfig, logger: Logger, connectionsOnTheirLoops: Bool = true,
        openStore: @escaping GatewayStoreOpener = { try GatewayStore.sqlite($0, logger: $1) }
    ) {
        self.config = config
        self.logger = logger
        self.connectionsOnTheirLoops = connectionsOnTheirLoops
        self.openStore = openStore
    }

    /// This replica's name: `server.replica_id`, or the host name.
    var replica: String { config.server.replicaID ?? ProcessInfo.processInfo.hostName }

    /// Runs until graceful shutdown (SIGTERM/SIGINT when `handleSignals`, or `shutdown()`).
    /// `onListening` receives the bound port once the server accepts connections.
    public func run(handleSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let store = try openStore(config, logger)
        // The backend's background work (PostgreSQL's pool) runs around the whole gateway and
        // stops only after the service group, and so the record writer, has finished.
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let background = store.background { group.addTask { await background() } }
            defer { group.cancelAll() }
            try await store.prepare()
            try await run(on: store, handleSignals: handleSignals, onListening: onListening)
        }
    }

    private func run(on store: GatewayStore, handleSignals: Bool, onListening: @escaping @Sendable (Int) async -> Void) async throws {
        let client = HTTPUpstream.makeClient(limits: config.limits)
        let exporter = config.tracing.otlp.map { OTLPExporter(config: $0, client: client, logger: logger) }
        var traceSink: (@Sendable ([TraceRecord]) -> Void)?
        if let exporter { traceSink = { traces in exporter.export(traces) } }
        let live = LiveEndpoints(config: config)
        let metrics = GatewayMetrics(isEndpoint: { live.endpoint($0) != nil })
        let writer = RecordWriter(
            store: store.records, payloadLimit: config.limits.logPayloadLimitBytes, spillMaxBytes: config.limits.spillMaxBytes, logger: logger,
            onTracesWritten: traceSink,
            onRecordsWritten: { records, usage in metrics.written(records, usage: usage) },
            onEnqueue: { record in
                let total = record.receivedAt.map { ContinuousClock.now - $0 }
                metrics.request(record, total: total, overhead: CallGovernance.overhead(record))
            }
        )
        writerBox.withLock { $0 = writer }
        exporterBox.withLock { $0 = exporter }
        let upstream = HTTPUpstream(
            client: client, timeout: .milliseconds(Int64(config.limits.upstreamTimeoutSeconds * 1000)),
            maxResponseBytes: config.limits.maxResponseBytes
        )
        let simulatorURLs = Dictionary(uniqueKeysWithValues: config.providers.filter { $0.kind == .simulator && $0.baseURL == nil }.map { ($0.name, LateBoundURL()) })
        let localModels = LocalModelRegistry()
        let builder = GatewayBuilder(
            config: config, upstream: upstream, logger: logger, lookup: { live.endpoint($0) },
            simulatorURL: { simulatorURLs[$0] ?? LateBoundURL() }, localModels: localModels
        )
        let keys = KeyRing(store: SQLKeyStore(database: store.database))
        do {
            try await keys.reload()
        } catch {
            try? await client.shutdown()
            throw error
        }
        let costs = CostQueries(database: store.database)
        let endpointStore = EndpointStore(database: store.database)
        let manager = EndpointManager(store: endpointStore, live: live, builder: builder, logger: logger)
        do {
            try await manager.bootstrap(file: config.endpoints)
        } catch {
            try? await client.shutdown()
            throw error
        }
        let ready: @Sendable () -> Bool = { simulatorURLs.values.allSatisfy { $0.value != nil } }
        var services: [any Service] = []
        if let simulator = makeSimulator(urls: simulatorURLs) { services.append(simulator) }
        if let sqlite = store.sqlite { services.append(WALCheckpointer(store: sqlite)) }
        services.append(StoreMaintenance(maintain: store.maintain, retentionDays: config.retentionDays, interval: .seconds(3_600), logger: logger))
        // Before the application: model processes stop after the requests in flight finished.
        services.append(LocalModelSupervisor(registry: localModels, costs: costs, pricing: config.pricing, replica: replica, logger: logger))
        services.append(ToolHost(toolboxes: { live.toolboxes }, logger: logger))
        services.append(RetentionService(manager: manager, interval: .seconds(30)))
        services.append(ChangeWatcher(database: store.database, keys: keys, endpoints: manager, interval: .milliseconds(200), logger: logger))
        if let exporter { services.append(exporter) }
        if config.pipeline.intervalSeconds > 0, let updater = store.pipeline(config.pipeline, logger) {
            services.append(PipelineService(updater: updater, config: config.pipeline, logger: logger))
        }
        let admin = AdminRoutes(
            manager: manager, live: live, store: endpointStore, costs: costs, adminToken: config.server.adminToken,
            allowToolCommands: config.server.allowAdminToolCommands
        )
        let governance = Governance(
            keys: keys, metrics: metrics,
            gate: GovernanceGate(
                limiter: store.sharesLimits ? SharedRateLimiter(database: store.database) : LocalRateLimiter(), judge: GuardrailJudgeClient(live: live, writer: writer), metrics: metrics,
                defaultOutputReservation: config.limits.defaultOutputTokens, logger: logger
            )
        )
        services.append(makeApplication(
            live: live, admin: admin, store: store, writer: writer, governance: governance, ready: ready, onListening: onListening
        ))
        // Shutdown runs in reverse order: the gateway (and its record writer) before the tool
        // servers and the simulator.
        let serviceGroup = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
        )
        group.withLock { $0 = serviceGroup }
        do {
            try await serviceGroup.run()
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Starts graceful shutdown.
    public func shutdown() async {
        await group.withLock { $0 }?.triggerGracefulShutdown()
    }

    /// Record writer statistics (nil before `run`).
    public var recordStatistics: RecordWriter.Counters? { writerBox.withLock { $0 }?.statistics }

    /// OTLP export counts: traces exported and dropped (nil without `tracing.otlp`).
    public var exportStatistics: (exported: Int, dropped: Int)? {
        exporterBox.withLock { $0 }.map { ($0.statistics.exported, $0.statistics.dropped) }
    }

    /// The governance parts the routes share.
    struct Governance {
        let keys: KeyRing
        let metrics: GatewayMetrics
        let gate: GovernanceGate
    }

    private func makeApplication(
        live: LiveEndpoints, admin: AdminRoutes, store: GatewayStore, writer: RecordWriter, governance: Governance,
        ready: @escaping @Sendable () -> Bool, onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: OverheadMiddleware())
        router.add(middleware: ErrorEnvelopeMiddleware())
        let hangups = ClientHangups()
        let archive = ResponseArchive(queries: StoredResponses(database: store.database))
        let authenticator = Authenticator(mode: config.server.auth, adminToken: config.server.adminToken, keys: governance.keys)
        InferenceRoutes(
            live: live, writer: writer, database: store.database, hangups: hangups, archive: archive, readiness: ready, authenticator: authenticator,
            gate: governance.gate
        ).register(on: router)
        ResponseRoutes(
            archive: archive,
            caller: { request throws(GatewayError) in try authenticator.authenticate(request.headers).get() },
            mayRead: { caller, endpoint in live.allows(caller, toQuery: endpoint) }
        ).register(on: router)
        KeyRoutes(admin: KeyAdmin(store: governance.keys.store, ring: governance.keys), adminToken: config.server.adminToken).register(on: router)
        MetricsRoute(metrics: governance.metrics, writer: writer, exports: { [weak self] in self?.exportStatistics }).register(on: router)

        TraceRoutes(queries: TraceQueries(database: store.database), adminToken: config.server.adminToken).register(on: router)
        admin.register(on: router)
        let logger = self.logger
        let server = config.server
        let cap = server.effectiveMaxConnections(openFileLimit: OpenFileLimit.current)
        return Application(
            router: router,
            server: HTTPServerBuilder { [connectionsOnTheirLoops] responder in
                let channel = HTTP1Channel(responder: responder, configuration: .init(
                    additionalChannelHandlers: [hangups.watcher()], idleTimeout: .milliseconds(Int64(server.idleTimeoutSeconds * 1000))
                ))
                return connectionsOnTheirLoops ? LoopAffineChannel(base: channel) : channel
            },
            configuration: .init(
                address: .hostname(server.host, port: server.port), serverName: "tollgate",
                availableConnectionsDelegate: MaximumAvailableConnections(cap, logger: logger)
            ),
            services: [writer],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("tollgate listening", metadata: ["host": "\(live.config.server.host)", "port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    /// The embedded simulator, when some simulator provider has no `base_url`; each such
    /// provider's URL is bound once the simulator listens.
    private func makeSimulator(urls: [String: LateBoundURL]) -> (any Service)? {
        guard !urls.isEmpty else { return nil }
        var configs: [String: SimulatorConfig] = [:]
        for provider in config.providers where urls[provider.name] != nil {
            configs[provider.name] = provider.simulator ?? SimulatorConfig()
        }
        var simulatorLogger = logger
        simulatorLogger.logLevel = .critical
        return SimulatorServer.application(
            routes: SimulatorRoutes(providers: configs), host: "127.0.0.1", port: 0, logger: simulatorLogger
        ) { port in
            for (name, url) in urls { url.set("http://127.0.0.1:\(port)/providers/\(name)/v1") }
        }
    }
}

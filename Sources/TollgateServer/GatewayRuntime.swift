import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TollgateCore
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

    public init(config: GatewayConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Runs until graceful shutdown (SIGTERM/SIGINT when `handleSignals`, or `shutdown()`).
    /// `onListening` receives the bound port once the server accepts connections.
    public func run(handleSignals: Bool = true, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let store = try SQLiteStore.open(url: config.store)
        let writer = RecordWriter(store: store, payloadLimit: config.limits.logPayloadLimitBytes, logger: logger)
        writerBox.withLock { $0 = writer }
        let client = HTTPUpstream.makeClient(limits: config.limits)
        let upstream = HTTPUpstream(
            client: client, timeout: .milliseconds(Int64(config.limits.upstreamTimeoutSeconds * 1000)),
            maxResponseBytes: config.limits.maxResponseBytes
        )
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                let simulatorPort = try await startSimulator(in: &tasks)
                let gateway = Gateway(config: config, upstream: upstream) { provider in
                    "http://127.0.0.1:\(simulatorPort ?? 0)/providers/\(provider)/v1"
                }
                let application = makeApplication(gateway: gateway, store: store, writer: writer, onListening: onListening)
                let serviceGroup = ServiceGroup(
                    configuration: .init(services: [application], gracefulShutdownSignals: handleSignals ? [.sigterm, .sigint] : [], logger: logger)
                )
                group.withLock { $0 = serviceGroup }
                try await serviceGroup.run()
                tasks.cancelAll()
            }
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

    private func makeApplication(
        gateway: Gateway, store: SQLiteStore, writer: RecordWriter, onListening: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        let router = Router()
        router.add(middleware: ErrorEnvelopeMiddleware())
        InferenceRoutes(gateway: gateway, writer: writer, store: store, readiness: { true }).register(on: router)
        let logger = self.logger
        return Application(
            router: router,
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "tollgate"),
            services: [writer],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("tollgate listening", metadata: ["host": "\(gateway.config.server.host)", "port": "\(port)"])
                await onListening(port)
            },
            logger: logger
        )
    }

    /// Starts the embedded simulator if some simulator provider has no `base_url`; returns its port.
    private func startSimulator(in tasks: inout ThrowingTaskGroup<Void, any Error>) async throws -> Int? {
        let embedded = config.providers.filter { $0.kind == .simulator && $0.baseURL == nil }
        guard !embedded.isEmpty else { return nil }
        var configs: [String: SimulatorConfig] = [:]
        for provider in embedded { configs[provider.name] = provider.simulator ?? SimulatorConfig() }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let application = SimulatorServer.application(
            routes: SimulatorRoutes(providers: configs), host: "127.0.0.1", port: 0, logger: logger
        ) { port in continuation.yield(port) }
        tasks.addTask { try await application.run() }
        for await port in ports { return port }
        return nil
    }
}

import Foundation
import Logging
import Synchronization
import TollgateCore
import TollgateProviders

/// A served entity backed by a local model: its server replicas (`workload_size`), started
/// together on demand and stopped together when the entity scales to zero or is retired.
final class LocalModelHandle: Sendable {
    let endpointName: String
    let entity: ServedEntityConfig
    let config: LocalModelConfig
    let scaleToZero: Bool
    let replicas: [(server: LocalModelServer, provider: OpenAIProvider)]
    private let next = Atomic<Int>(0)
    private let lastUsed = Mutex<Date>(Date())
    private let retired = Atomic<Bool>(false)
    /// Requests in flight on the entity (shared with its `EntityRuntime`).
    let activity = EntityActivity()

    init(endpointName: String, entity: ServedEntityConfig, config: LocalModelConfig, upstream: HTTPUpstream, logger: Logger) {
        self.endpointName = endpointName
        self.entity = entity
        self.config = config
        scaleToZero = entity.scaleToZeroEnabled ?? false
        let count = WorkloadSize.replicas(entity.workloadSize) ?? 1
        replicas = (0..<count).map { index in
            let server = LocalModelServer(label: "\(endpointName)/\(entity.name)#\(index)", config: config, logger: logger)
            return (server, OpenAIProvider(upstream: upstream, base: .late(server.url), apiKey: nil, flavor: .openai))
        }
    }

    /// The model name sent to the server.
    var modelName: String { config.modelName ?? entity.name }

    /// Starts every replica that is not running; returns the cold start in milliseconds when
    /// the request had to wait for one, nil when all were running.
    @discardableResult
    func prepare() async throws(UpstreamError) -> Int? {
        // A retired entity's processes were stopped for good: a request that routed to it just
        // before it was retired gets an error instead of starting them again.
        guard !isRetired else { throw UpstreamError(code: .connectFailed, message: "local model \(entity.name) was retired") }
        touch()
        var cold = false
        for replica in replicas where !(await replica.server.isRunning) { cold = true }
        guard cold else { return nil }
        let start = ContinuousClock.now
        let failures = await withTaskGroup(of: UpstreamError?.self) { group in
            for replica in replicas {
                group.addTask {
                    do throws(UpstreamError) { try await replica.server.ensureRunning() } catch { return error }
                    return nil
                }
            }
            var failures: [UpstreamError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        if let failure = failures.first { throw failure }
        touch()
        return StreamLedger.milliseconds(ContinuousClock.now - start)
    }

    /// A running replica's provider, round robin.
    func provider() async throws(UpstreamError) -> OpenAIProvider {
        try await prepare()
        return replicas[next.add(1, ordering: .relaxed).oldValue % replicas.count].provider
    }

    func touch() { lastUsed.withLock { $0 = Date() } }
    /// Seconds since the model was last used: since the last request started or ended.
    var idleSeconds: Double {
        let used = lastUsed.withLock { $0 }
        return Date().timeIntervalSince(max(used, activity.lastEnded ?? used))
    }

    var isRetired: Bool { retired.load(ordering: .acquiring) }

    /// Stops every replica for good (the entity was retired or the gateway stops).
    func shutdown() async {
        retired.store(true, ordering: .releasing)
        for replica in replicas { await replica.server.shutdown() }
    }

    func stop() async {
        for replica in replicas { await replica.server.stop() }
    }

    /// Process figures of the replicas, for `versions` and the compute cost.
    func status() async -> LocalModelStatus {
        var status = LocalModelStatus(replicas: replicas.count, scaleToZero: scaleToZero, idleSeconds: idleSeconds)
        for replica in replicas {
            let server = replica.server
            if let sample = await server.sample() {
                status.running += 1
                status.rssBytes += sample.rssBytes
                if let pid = await server.pid { status.pids.append(pid) }
                if let started = await server.startedAt { status.uptimeSeconds = max(status.uptimeSeconds, Date().timeIntervalSince(started)) }
            }
            status.cpuSeconds += await server.totalCPUSeconds
            status.starts += await server.starts
            status.crashes += await server.crashes
        }
        return status
    }
}

/// What `versions` shows of a local model's processes.
struct LocalModelStatus: Sendable {
    var replicas: Int
    var scaleToZero: Bool
    var idleSeconds: Double
    var running = 0
    var pids: [Int32] = []
    var rssBytes = 0
    var cpuSeconds = 0.0
    var uptimeSeconds = 0.0
    var starts = 0
    var crashes = 0

    var json: JSONValue {
        [
            "replicas": .int(replicas), "running": .int(running), "pids": .array(pids.map { .int(Int($0)) }),
            "rss_bytes": .int(rssBytes), "cpu_seconds": .double(cpuSeconds), "uptime_seconds": .double(uptimeSeconds),
            "idle_seconds": .double(idleSeconds), "scale_to_zero_enabled": .bool(scaleToZero), "starts": .int(starts), "crashes": .int(crashes),
        ]
    }
}

/// The chat provider of a local-model entity: waits for a running replica, then talks to it.
struct LocalModelProvider: ChatProvider {
    let handle: LocalModelHandle

    var supportsEmbeddings: Bool { handle.config.embeddings }

    func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        try await handle.provider().send(request)
    }
}

/// A set of objects by identity, shared across threads: the gateway's local model handles
/// (live or draining after retirement), the toolboxes of retired entities still draining.
final class ObjectSet<Element: AnyObject & Sendable>: Sendable {
    private let members = Mutex<[ObjectIdentifier: Element]>([:])

    init() {}

    func add(_ member: Element) { members.withLock { $0[ObjectIdentifier(member)] = member } }
    func remove(_ member: Element) { _ = members.withLock { $0.removeValue(forKey: ObjectIdentifier(member)) } }
    var all: [Element] { members.withLock { Array($0.values) } }
}

/// Every local model handle the gateway has, live or draining after retirement.
typealias LocalModelRegistry = ObjectSet<LocalModelHandle>

import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import TollgateCore

/// Sends finished traces to an OTLP/HTTP collector in batches, off the request path. A
/// collector that is down or slow never slows a request: traces wait in a bounded queue
/// (the oldest are dropped beyond `max_queue`), each batch is retried with backoff, then
/// dropped — counted and logged.
final class OTLPExporter: Service, Sendable {
    /// Export statistics.
    struct Counters: Sendable {
        var queued = 0
        var exported = 0
        var dropped = 0
        var failedAttempts = 0
    }

    private let config: OTLPConfig
    private let client: HTTPClient
    private let logger: Logger
    private let url: String
    private let state = Mutex((queue: [TraceRecord](), counters: Counters()))
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    init(config: OTLPConfig, client: HTTPClient, logger: Logger) {
        self.config = config
        self.client = client
        self.logger = logger
        let base = config.endpoint.hasSuffix("/") ? String(config.endpoint.dropLast()) : config.endpoint
        url = base.hasSuffix("/v1/traces") ? base : base + "/v1/traces"
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    var statistics: Counters { state.withLock { $0.counters } }

    /// Queues traces; never blocks.
    func export(_ traces: [TraceRecord]) {
        guard !traces.isEmpty else { return }
        let (full, overflow) = state.withLock { state in
            state.queue += traces
            state.counters.queued += traces.count
            let overflow = max(0, state.queue.count - config.maxQueue)
            if overflow > 0 {
                state.queue.removeFirst(overflow)
                state.counters.dropped += overflow
            }
            return (state.queue.count >= config.batchSize, overflow)
        }
        if overflow > 0 { logger.warning("otlp queue full; oldest traces dropped", metadata: ["dropped": "\(overflow)"]) }
        if full { wake.yield() }
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(self.config.flushIntervalMs))
                        self.wake.yield()
                    }
                }
                for await _ in wakeups { await flush(attempts: config.maxAttempts) }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
        await flush(attempts: 1)
    }

    private func flush(attempts: Int) async {
        while true {
            let batch: [TraceRecord] = state.withLock { state in
                let count = min(state.queue.count, config.batchSize)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            if batch.isEmpty { return }
            await send(batch, attempts: attempts)
        }
    }

    private func send(_ batch: [TraceRecord], attempts: Int) async {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in config.headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: OTLPTraceJSON.exportRequest(batch).jsonText))
        var lastProblem = ""
        for attempt in 1...max(1, attempts) {
            do {
                let response = try await client.execute(request, timeout: .milliseconds(Int64(config.timeoutSeconds * 1000)))
                let status = Int(response.status.code)
                let body = String(buffer: try await response.body.collect(upTo: 64 * 1024))
                if (200..<300).contains(status) {
                    state.withLock { $0.counters.exported += batch.count }
                    return
                }
                lastProblem = "HTTP \(status): \(body.prefix(300))"
                if (400..<500).contains(status), status != 429 { break }
            } catch {
                lastProblem = "\(error)"
            }
            state.withLock { $0.counters.failedAttempts += 1 }
            if attempt < attempts { try? await Task.sleep(for: .milliseconds(200 << (attempt - 1))) }
        }
        state.withLock { $0.counters.dropped += batch.count }
        logger.error("otlp export failed; traces dropped", metadata: ["traces": "\(batch.count)", "url": "\(url)", "problem": "\(lastProblem)"])
    }
}

import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore

/// Takes finished requests off the request path and writes them in batches. Requests only append
/// to an in-memory queue; the first record into an empty queue wakes the writer, which waits
/// `flushInterval` for more to arrive and writes them all, one transaction per `batchSize` rows.
/// An idle gateway's writer sleeps without timers. On graceful shutdown it drains every queued
/// record before returning.
public final class RecordWriter: Service, Sendable {
    private let store: SQLiteStore
    private let payloadLimit: Int
    private let batchSize: Int
    private let flushInterval: Duration
    private let logger: Logger
    /// Receives the traces of every batch once it is stored (the OTLP exporter).
    private let onTracesWritten: (@Sendable ([TraceRecord]) -> Void)?
    private let queue = Mutex(Queue())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct Queue {
        var records: [InferenceRecord] = []
        var counters = Counters()
    }

    /// Queue and write statistics.
    public struct Counters: Sendable {
        public var enqueued = 0
        public var written = 0
        public var failedBatches = 0
        public var droppedAfterRetries = 0
        public var maxQueueDepth = 0
    }

    public init(
        store: SQLiteStore, payloadLimit: Int, batchSize: Int = 1000, flushInterval: Duration = .milliseconds(2), logger: Logger,
        onTracesWritten: (@Sendable ([TraceRecord]) -> Void)? = nil
    ) {
        self.onTracesWritten = onTracesWritten
        self.store = store
        self.payloadLimit = payloadLimit
        self.batchSize = batchSize
        self.flushInterval = flushInterval
        self.logger = logger
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a record; never blocks the caller and never drops the record.
    public func enqueue(_ record: InferenceRecord) {
        let wakeWriter = queue.withLock {
            $0.records.append(record)
            $0.counters.enqueued += 1
            $0.counters.maxQueueDepth = max($0.counters.maxQueueDepth, $0.records.count)
            return $0.records.count == 1 || $0.records.count == batchSize
        }
        if wakeWriter { wake.yield() }
    }

    public var statistics: Counters { queue.withLock { $0.counters } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakeups {
                // Let a burst gather into one transaction.
                try? await Task.sleep(for: flushInterval)
                await drain()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
        await drain()
        logger.info("record writer drained", metadata: ["written": "\(statistics.written)"])
    }

    /// Writes everything queued, `batchSize` rows per transaction.
    public func drain() async {
        while true {
            let batch: [InferenceRecord] = queue.withLock {
                let count = min($0.records.count, batchSize)
                let batch = Array($0.records.prefix(count))
                $0.records.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            await write(batch)
        }
    }

    private func write(_ batch: [InferenceRecord]) async {
        for attempt in 1...5 {
            do {
                try await store.write(batch, payloadLimit: payloadLimit)
                queue.withLock { $0.counters.written += batch.count }
                onTracesWritten?(batch.compactMap(\.trace))
                return
            } catch {
                queue.withLock { $0.counters.failedBatches += 1 }
                logger.error("record batch write failed", metadata: ["rows": "\(batch.count)", "attempt": "\(attempt)", "error": "\(error)"])
                try? await Task.sleep(for: .milliseconds(100 * attempt))
            }
        }
        queue.withLock { $0.counters.droppedAfterRetries += batch.count }
        logger.critical("record batch dropped after retries", metadata: ["rows": "\(batch.count)"])
    }
}

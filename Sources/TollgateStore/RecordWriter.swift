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
///
/// When the store refuses a batch twice (locked by another process, read-only, disk full), the
/// writer marks the store failing (`health`), puts that batch and every later one into the spill
/// file beside the store, and every `recoveryInterval` tries to copy the spill back. A batch the
/// spill cannot take either is counted in `lost` and logged.
public final class RecordWriter: Service, Sendable {
    private let store: any RecordSink
    private let spill: RecordSpill
    private let payloadLimit: Int
    private let batchSize: Int
    private let flushInterval: Duration
    private let recoveryInterval: Duration
    private let logger: Logger
    /// Receives the traces of every batch once it is stored (the OTLP exporter).
    private let onTracesWritten: (@Sendable ([TraceRecord]) -> Void)?
    /// Sees every record as it is queued, on the caller's task (the request metrics).
    private let onEnqueue: (@Sendable (InferenceRecord) -> Void)?
    /// Receives every stored batch with each record's resolved token usage (the metrics).
    private let onRecordsWritten: (@Sendable ([InferenceRecord], [TokenUsage?]) -> Void)?
    private let queue = Mutex(Queue())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    private struct Queue {
        var records: [InferenceRecord] = []
        var counters = Counters()
        var failure: StoreFailure?
    }

    /// Queue and write statistics.
    public struct Counters: Sendable {
        public var enqueued = 0
        public var written = 0
        public var failedBatches = 0
        /// Records put into the spill file while the store failed.
        public var spilled = 0
        /// Spilled records copied back into the store.
        public var restored = 0
        /// Records neither the store nor the spill file could take.
        public var lost = 0
        public var maxQueueDepth = 0
    }

    /// Why the store is failing, since when.
    public struct StoreFailure: Sendable, Equatable {
        public var since: Date
        public var reason: String
    }

    public init(
        store: any RecordSink, payloadLimit: Int, batchSize: Int = 1000, flushInterval: Duration = .milliseconds(2),
        spillMaxBytes: Int = 1 << 30, recoveryInterval: Duration = .seconds(1), logger: Logger,
        onTracesWritten: (@Sendable ([TraceRecord]) -> Void)? = nil,
        onRecordsWritten: (@Sendable ([InferenceRecord], [TokenUsage?]) -> Void)? = nil,
        onEnqueue: (@Sendable (InferenceRecord) -> Void)? = nil
    ) {
        self.onEnqueue = onEnqueue
        self.onTracesWritten = onTracesWritten
        self.onRecordsWritten = onRecordsWritten
        self.store = store
        spill = RecordSpill(path: store.spillPath, maxBytes: spillMaxBytes)
        self.payloadLimit = payloadLimit
        self.batchSize = batchSize
        self.flushInterval = flushInterval
        self.recoveryInterval = recoveryInterval
        self.logger = logger
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        if spill.exists {
            // A run that stopped while the store failed left rows behind: restore them first.
            queue.withLock { $0.failure = StoreFailure(since: Date(), reason: "spilled records from an earlier run await restore") }
        }
    }

    /// Queues a record; never blocks the caller and never drops the record.
    public func enqueue(_ record: InferenceRecord) {
        onEnqueue?(record)
        let wakeWriter = queue.withLock {
            $0.records.append(record)
            $0.counters.enqueued += 1
            $0.counters.maxQueueDepth = max($0.counters.maxQueueDepth, $0.records.count)
            return $0.records.count == 1 || $0.records.count == batchSize
        }
        if wakeWriter { wake.yield() }
    }

    public var statistics: Counters { queue.withLock { $0.counters } }

    /// Records waiting to be written.
    public var queueDepth: Int { queue.withLock { $0.records.count } }

    /// `nil` while the store takes writes; otherwise why it does not.
    public var failure: StoreFailure? { queue.withLock { $0.failure } }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                // While the store fails, wake the writer now and then to try the spill back.
                group.addTask { [self] in
                    while (try? await Task.sleep(for: recoveryInterval)) != nil {
                        if failure != nil { wake.yield() }
                    }
                }
                for await _ in wakeups {
                    // Let a burst gather into one transaction.
                    try? await Task.sleep(for: flushInterval)
                    await drain()
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wake.finish()
        }
        await drain()
        logger.info("record writer drained", metadata: ["written": "\(statistics.written)", "spilled": "\(statistics.spilled)"])
    }

    /// Writes everything queued, `batchSize` rows per transaction (or spills it while the store
    /// fails), after trying to restore the spill file.
    public func drain() async {
        if failure != nil { await recover() }
        while true {
            let batch: [InferenceRecord] = queue.withLock {
                let count = min($0.records.count, batchSize)
                let batch = Array($0.records.prefix(count))
                $0.records.removeFirst(count)
                return batch
            }
            if batch.isEmpty { return }
            if failure == nil { await write(batch) } else { await keep(batch) }
        }
    }

    private func write(_ batch: [InferenceRecord]) async {
        var lastError: (any Error)?
        for attempt in 1...2 {
            do {
                let usage = try await store.write(batch, payloadLimit: payloadLimit)
                queue.withLock { $0.counters.written += batch.count }
                onRecordsWritten?(batch, usage)
                onTracesWritten?(batch.compactMap(\.trace))
                return
            } catch {
                lastError = error
                queue.withLock { $0.counters.failedBatches += 1 }
                logger.error("record batch write failed", metadata: ["rows": "\(batch.count)", "attempt": "\(attempt)", "error": "\(error)"])
                if attempt == 1 { try? await Task.sleep(for: .milliseconds(100)) }
            }
        }
        let reason = lastError.map { "\($0)" } ?? "unknown error"
        queue.withLock { $0.failure = $0.failure ?? StoreFailure(since: Date(), reason: reason) }
        logger.critical("store refuses writes; records go to the spill file", metadata: ["spill": "\(spill.path)", "error": "\(reason)"])
        await keep(batch)
    }

    /// Puts a batch into the spill file, or counts it lost when that fails too.
    private func keep(_ batch: [InferenceRecord]) async {
        do {
            try await BlockingWork.run { [spill, payloadLimit] () throws(StoreError) in try spill.append(batch, payloadLimit: payloadLimit) }
            queue.withLock { $0.counters.spilled += batch.count }
            logger.warning("record batch spilled", metadata: ["rows": "\(batch.count)", "spill": "\(spill.path)"])
        } catch {
            queue.withLock { $0.counters.lost += batch.count }
            logger.critical("record batch lost: neither the store nor the spill file took it", metadata: [
                "rows": "\(batch.count)", "spill": "\(spill.path)", "error": "\(error)",
            ])
        }
    }

    /// Copies the spill file back into the store; on success the store is healthy again.
    private func recover() async {
        do {
            let restored = try await store.restore(spill)
            let since = queue.withLock { state in
                state.counters.restored += restored
                defer { state.failure = nil }
                return state.failure?.since
            }
            let seconds = since.map { Int(Date().timeIntervalSince($0).rounded()) } ?? 0
            logger.notice("store takes writes again; spilled records restored", metadata: ["rows": "\(restored)", "failing_seconds": "\(seconds)"])
        } catch {
            queue.withLock { $0.failure?.reason = "\(error)" }
            logger.debug("store still refuses writes", metadata: ["error": "\(error)"])
        }
    }
}

import Foundation
import Logging
import ServiceLifecycle
import TollgateCore
import TollgatePipeline
import TollgateStore

/// The store a gateway runs on: SQLite (one process, the default) or, opened by the
/// executable, PostgreSQL (several replicas on one database). Everything the gateway reads and
/// writes goes through `records` and `database`.
public struct GatewayStore: Sendable {
    /// Where the record writer puts rows.
    public var records: any RecordSink
    /// Endpoints, keys, traces, cost and stored responses.
    public var database: any SQLDatabase
    /// Work the backend needs running for as long as the gateway uses it (PostgreSQL's
    /// connection pool), until its task is cancelled.
    public var background: (@Sendable () async -> Void)?
    /// Run once `background` is running, before anything else uses the store: a clear, early
    /// error when the database cannot be reached, then migrations.
    public var prepare: @Sendable () async throws -> Void
    /// The SQLite store, when that is the backend: its WAL checkpointer and the pipeline use it.
    public var sqlite: SQLiteStore?
    /// Whether rate limits are counted in the store, shared by every replica on it
    /// (`SharedRateLimiter`), rather than in this process (`LocalRateLimiter`).
    public var sharesLimits: Bool
    /// Housekeeping run at start and every hour, off the request path: `store.retention_days`
    /// (nil keeps everything) and, on PostgreSQL, the coming days' partitions. Returns a line
    /// for the log when it removed something.
    public var maintain: @Sendable (_ retentionDays: Int?, _ now: Date) async throws -> String?

    public init(
        records: any RecordSink, database: any SQLDatabase, background: (@Sendable () async -> Void)? = nil,
        prepare: @escaping @Sendable () async throws -> Void = {}, sqlite: SQLiteStore? = nil, sharesLimits: Bool = false,
        maintain: @escaping @Sendable (_ retentionDays: Int?, _ now: Date) async throws -> String? = { _, _ in nil }
    ) {
        self.sharesLimits = sharesLimits
        self.maintain = maintain
        self.records = records
        self.database = database
        self.background = background
        self.prepare = prepare
        self.sqlite = sqlite
    }

    /// The pipeline over this store: the SQLite runner, or the distributed one on a store
    /// replicas share.
    public func pipeline(_ config: PipelineConfig, _ logger: Logger) -> (any PipelineUpdater)? {
        if let sqlite { return PipelineRunner(store: sqlite, config: config, logger: logger) }
        if let shared = database as? any TransactionalDatabase { return DistributedPipelineRunner(database: shared, config: config, logger: logger) }
        return nil
    }

    /// Opens `config.store` when it is a `sqlite:` URL (migrated on open).
    public static func sqlite(_ config: GatewayConfig, logger: Logger) throws -> GatewayStore {
        let store = try SQLiteStore.open(url: config.store, busyTimeout: config.limits.storeBusyTimeoutSeconds)
        return GatewayStore(records: store, database: store, sqlite: store) { days, now in
            guard let days else { return nil }
            let cutoff = RetentionDeletes.cutoff(days: days, now: now)
            let deleted = try await RetentionDeletes(database: store).delete(RetentionDeletes.all, olderThan: cutoff)
            return deleted == 0 ? nil : "deleted \(deleted) rows older than \(UTCTimestamp.iso8601(cutoff))"
        }
    }
}

/// Opens the store a configuration names; the executable's knows every backend.
public typealias GatewayStoreOpener = @Sendable (GatewayConfig, Logger) throws -> GatewayStore

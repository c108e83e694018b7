import Foundation
import Logging
import TollgateCore
import TollgatePostgres
import TollgateServer
import TollgateStore

/// Opens the store a URL names: `sqlite:PATH` (one process) or `postgres://…` (replicas).
enum StoreBackends {
    /// The gateway's store. A PostgreSQL store's pool runs as the gateway's background work; its
    /// connection is checked (a clear error naming the host) and migrated before anything else.
    static func gatewayStore(_ config: GatewayConfig, logger: Logger) throws -> GatewayStore {
        guard PostgresStore.isPostgresURL(config.store) else { return try GatewayStore.sqlite(config, logger: logger) }
        let store = try PostgresStore(url: config.store, spillDirectory: config.spillDirectory, logger: logger)
        return GatewayStore(
            records: store, database: store, background: { try? await store.run() },
            prepare: {
                try await store.checkConnection()
                try await store.migrate()
            },
            sharesLimits: true,
            maintain: { days, now in
                let partitions = PostgresPartitions(database: store)
                try await partitions.ensure(now: now)
                guard let days else { return nil }
                let dropped = try await partitions.dropExpired(before: RetentionDeletes.cutoff(days: days, now: now))
                return dropped.isEmpty ? nil : "dropped partitions \(dropped.joined(separator: ", "))"
            }
        )
    }

    /// Runs `body` with the store at `url`, for the batch commands (`keys`, `cost`, `traces`,
    /// `sql`): migrated first, and a PostgreSQL pool that runs only as long as `body`.
    static func withDatabase<Result>(
        url: String, logger: Logger = Logger(label: "tollgate"), _ body: (any SQLDatabase) async throws -> Result
    ) async throws -> Result {
        guard PostgresStore.isPostgresURL(url) else { return try await body(try SQLiteStore.open(url: url)) }
        let store = try PostgresStore(url: url, spillDirectory: ".", logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try? await store.run() }
            defer { group.cancelAll() }
            try await store.checkConnection()
            try await store.migrate()
            return try await body(store)
        }
    }
}

import Logging
import PostgresNIO
import TollgateStore

/// One-off statements on a PostgreSQL server (`CREATE DATABASE`, which cannot run in a
/// transaction or on a pooled client before `run()`), over a connection of their own.
public enum PostgresAdmin {
    public static func execute(url: String, sql: String, logger: Logger = Logger(label: "tollgate.postgres.admin")) async throws {
        let parsed = try PostgresURL(url)
        let configuration = try parsed.clientConfiguration()
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }
}

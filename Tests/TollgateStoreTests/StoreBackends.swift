import Foundation
import Logging
import Testing
import TollgateCore
import TollgatePostgres
import TollgateStore

/// The store backends every store test runs against. PostgreSQL is the throwaway cluster the
/// test script starts (`scripts/postgres.sh`), named by `TOLLGATE_TEST_POSTGRES_URL`; each test
/// gets a database of its own.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static let postgresURLVariable = "TOLLGATE_TEST_POSTGRES_URL"

    /// Runs `body` with a fresh, migrated store of this backend and removes it afterwards.
    func withStore(operationTimeout: Duration = .seconds(10), _ body: (StoreUnderTest) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-store-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        switch self {
        case .sqlite:
            let store = try SQLiteStore(path: directory + "/tollgate.db")
            try await body(StoreUnderTest(records: store, database: store))
        case .postgres:
            let server = try #require(
                ProcessInfo.processInfo.environment[Self.postgresURLVariable],
                "set \(Self.postgresURLVariable) (scripts/test.sh starts PostgreSQL and sets it)"
            )
            let database = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try await Self.admin(server, "CREATE DATABASE \(database)")
            let url = server.replacingDatabase(with: database)
            let store = try PostgresStore(
                url: url, spillDirectory: directory, operationTimeout: operationTimeout, logger: Logger(label: "tollgate.test.store")
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await store.run() }
                defer { group.cancelAll() }
                try await store.migrate()
                try await body(StoreUnderTest(records: store, database: store, postgres: (server, database)))
            }
            try await Self.admin(server, "DROP DATABASE \(database) WITH (FORCE)")
        }
    }

    /// Runs one statement on the server's own database (outside a transaction).
    static func admin(_ server: String, _ sql: String) async throws {
        try await PostgresAdmin.execute(url: server, sql: sql)
    }
}

/// One backend's store, through the protocols the gateway uses.
struct StoreUnderTest {
    var records: any RecordSink
    var database: any SQLDatabase
    /// On PostgreSQL: the server's URL and this test's database on it.
    var postgres: (server: String, database: String)? = nil

    var keys: any KeyStorage { SQLKeyStore(database: database) }
    var endpoints: EndpointStore { EndpointStore(database: database) }
    var traces: TraceQueries { TraceQueries(database: database) }
    var costs: CostQueries { CostQueries(database: database) }
}

extension String {
    /// A postgres:// URL with its database replaced.
    func replacingDatabase(with database: String) -> String {
        guard var components = URLComponents(string: self) else { return self }
        components.path = "/" + database
        return components.string ?? self
    }
}

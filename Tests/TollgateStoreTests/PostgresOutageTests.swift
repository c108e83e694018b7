import Foundation
import Logging
import Testing
import TollgateCore
import TollgatePostgres
import TollgateStore

/// The PostgreSQL store's connections are lost under load: the database is closed to new
/// connections and every open one is terminated. The record writer spills what it cannot write,
/// says the store is failing, and restores every row once the database takes connections again.
@Suite("PostgreSQL lost under load")
struct PostgresOutageTests {
    static func waitUntil(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !(try await condition()) {
            guard Date() < deadline else { throw StoreError(code: .readFailed, message: "not \(what) after \(seconds) s") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    @Test func rowsAreSpilledWhileTheConnectionsAreGoneAndRestoredAfter() async throws {
        try await StoreBackend.postgres.withStore(operationTimeout: .seconds(1)) { store in
            let (server, database) = try #require(store.postgres)
            let writer = RecordWriter(
                store: store.records, payloadLimit: 1 << 20, recoveryInterval: .milliseconds(200), logger: Logger(label: "tollgate.test.writer")
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await writer.run() }
                defer { group.cancelAll() }
                for index in 0..<100 { writer.enqueue(RecordSinkTests.record(index)) }
                try await Self.waitUntil("written") { writer.statistics.written == 100 }

                try await StoreBackend.admin(server, "ALTER DATABASE \(database) ALLOW_CONNECTIONS false")
                try await StoreBackend.admin(server, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)'")
                for index in 100..<300 { writer.enqueue(RecordSinkTests.record(index)) }
                try await Self.waitUntil("spilled") { writer.statistics.spilled == 200 }
                #expect(writer.failure != nil)
                #expect(writer.statistics.lost == 0)

                try await StoreBackend.admin(server, "ALTER DATABASE \(database) ALLOW_CONNECTIONS true")
                try await Self.waitUntil("restored") { writer.failure == nil && writer.statistics.restored == 200 }
                #expect(try await store.records.count(of: .inferenceTable) == 300)
                #expect(try await store.records.count(of: .endpointUsage) == 300)
                #expect(!FileManager.default.fileExists(atPath: store.records.spillPath))
            }
        }
    }
}

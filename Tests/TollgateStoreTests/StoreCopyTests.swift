import Foundation
import Testing
import TollgateCore
import TollgateStore

/// `tollgate store copy`: a SQLite store's rows into each backend, checked and repeatable.
@Suite("Store copy, from SQLite into SQLite and PostgreSQL")
struct StoreCopyTests {
    @Test(arguments: StoreBackend.allCases)
    func everyTableArrivesOnceAndReadsTheSame(_ destinationBackend: StoreBackend) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tollgate-copy-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = try SQLiteStore(path: directory + "/source.db")
        _ = try await source.write((0..<2_100).map { RecordSinkTests.record($0, traced: $0 % 100 == 0) }, payloadLimit: 1 << 20)
        try await SQLKeyStore(database: source).insert(KeyStorageTests.key("key_a", hash: String(repeating: "a", count: 64), created: 1_767_000_000))
        try await EndpointStore(database: source).save(
            EndpointStorageTests.stored(EndpointStorageTests.endpoint(["a"]), version: 1, at: 1_767_000_000), reason: "created"
        )
        for sample in 0..<3 {
            try await CostQueries(database: source).recordCompute(
                endpoint: "chat", entity: "a", servedEntityID: "a/1", replica: "r1", at: Date(timeIntervalSince1970: 1_767_000_000 + Double(sample)),
                intervalSeconds: 5, cpuSeconds: 1, rssBytes: 1_000, running: true, costUSD: 0.01
            )
        }
        try await destinationBackend.withStore { destination in
            var seen: [String: Int] = [:]
            let copy = StoreCopy(source: source, destination: destination.database, pageRows: 500)
            let counts = try await copy.run { table, copied, _ in seen[table] = copied }
            let expected = [
                "api_keys": 1, "serving_endpoints": 1, "endpoint_config_history": 1, "served_entity_versions": 1, "inference_table": 2_100,
                "endpoint_usage": 2_100, "traces": 21, "spans": 42, "stored_responses": 0, "compute_usage": 3,
            ]
            #expect(Dictionary(uniqueKeysWithValues: counts.map { ($0.table, $0.destination) }) == expected)
            #expect(counts.allSatisfy { $0.complete && $0.source == $0.destination })
            #expect(seen == expected)
            // A key revoked at the source since is revoked at the destination by the next copy.
            _ = try await SQLKeyStore(database: source).revoke("key_a", at: Date(timeIntervalSince1970: 1_767_100_000))
            // Again: nothing is added twice, compute samples included.
            let again = try await copy.run { _, _, _ in }
            #expect(Dictionary(uniqueKeysWithValues: again.map { ($0.table, $0.destination) }) == expected)
            #expect(try await destination.traces.traceJSON(id: "req-100") == (try await TraceQueries(database: source).traceJSON(id: "req-100")))
            #expect(try await destination.keys.all() == (try await SQLKeyStore(database: source).all()))
            #expect(try await destination.keys.all().first?.revokedAt == Date(timeIntervalSince1970: 1_767_100_000))
            #expect(try await destination.endpoints.endpoints() == (try await EndpointStore(database: source).endpoints()))
            #expect(try await StoreChanges.versions(in: destination.database) == [.keys: 2, .endpoints: 2])
        }
    }
}

import Foundation
import Testing
import TollgateCore
import TollgateStore

/// Endpoints, their config history and versions, and the change counters, on each backend.
@Suite("Endpoint storage, on SQLite and PostgreSQL")
struct EndpointStorageTests {
    static func entity(_ name: String) -> ServedEntityConfig {
        ServedEntityConfig(name: name, externalModel: ExternalModelConfig(provider: "sim", name: "model-\(name)"))
    }

    static func endpoint(_ entities: [String], traffic: [Int]? = nil) -> EndpointConfig {
        let routes = traffic.map { shares in zip(entities, shares).map { TrafficRoute(servedEntityName: $0, trafficPercentage: $1) } }
        return EndpointConfig(
            name: "chat",
            config: EndpointCoreConfig(servedEntities: entities.map(entity), trafficConfig: routes.map(TrafficConfig.init(routes:)))
        )
    }

    static func stored(_ definition: EndpointConfig, version: Int, at time: TimeInterval) -> StoredEndpoint {
        let date = Date(timeIntervalSince1970: time)
        return StoredEndpoint(
            definition: definition, configVersion: version, fileDefinition: version == 1 ? definition : nil, configUpdate: "NOT_UPDATING",
            createdAt: date, updatedAt: date
        )
    }

    @Test(arguments: StoreBackend.allCases)
    func versionsHistoryAndRollbackTargetRoundTrip(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let endpoints = store.endpoints
            let first = Self.endpoint(["a"])
            let canary = Self.endpoint(["a", "b"], traffic: [90, 10])
            let moved = Self.endpoint(["b"])
            try await endpoints.save(Self.stored(first, version: 1, at: 1_767_000_000), reason: "created", now: Date(timeIntervalSince1970: 1_767_000_000))
            try await endpoints.save(Self.stored(canary, version: 2, at: 1_767_000_000), reason: "deployed b", now: Date(timeIntervalSince1970: 1_767_000_060))
            try await endpoints.save(
                Self.stored(moved, version: 3, at: 1_767_000_000), reason: "moved", retiredReasons: ["a": "retention"],
                now: Date(timeIntervalSince1970: 1_767_000_120)
            )
            let all = try await endpoints.endpoints()
            #expect(all.map(\.configVersion) == [3])
            #expect(all.first?.definition == moved)
            #expect(all.first?.fileDefinition == nil)

            let versions = try await endpoints.versions("chat")
            #expect(versions.map(\.entityName) == ["a", "b"])
            #expect(versions.map(\.state) == ["RETIRED", "READY"])
            #expect(versions.first?.retiredReason == "retention")
            #expect(versions.last?.zeroTrafficSince == nil)

            let previous = try #require(try await endpoints.previousDefinition("chat", before: 3, current: moved))
            #expect(previous.0 == 2)
            #expect(previous.1 == canary)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aStaleConfigVersionIsAConflictAndChangesNothing(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let endpoints = store.endpoints
            try await endpoints.save(Self.stored(Self.endpoint(["a"]), version: 1, at: 1_767_000_000), reason: "created")
            try await endpoints.save(Self.stored(Self.endpoint(["a", "b"], traffic: [50, 50]), version: 2, at: 1_767_000_000), reason: "replica 1")
            // Another replica read version 1 and saves its own version 2.
            await #expect {
                try await endpoints.save(Self.stored(Self.endpoint(["c"]), version: 2, at: 1_767_000_000), reason: "replica 2")
            } throws: { ($0 as? StoreError)?.code == .conflict }
            #expect(try await endpoints.endpoints().first?.definition == Self.endpoint(["a", "b"], traffic: [50, 50]))
            #expect(try await endpoints.versions("chat").map(\.entityName) == ["a", "b"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func everyKeyAndEndpointChangeMovesItsCounter(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            #expect(try await StoreChanges.versions(in: store.database) == [.keys: 0, .endpoints: 0])
            try await store.endpoints.save(Self.stored(Self.endpoint(["a"]), version: 1, at: 1_767_000_000), reason: "created")
            let key = StoredKey(
                keyID: "key_a", prefix: "tg-abcd", hash: String(repeating: "a", count: 64), owner: "a@example.com", groups: [],
                servicePrincipal: false, description: nil, createdAt: Date(), expiresAt: nil
            )
            try await store.keys.insert(key)
            #expect(try await StoreChanges.versions(in: store.database) == [.keys: 1, .endpoints: 1])
            _ = try await store.keys.revoke("key_a", at: Date())
            try await store.keys.touch(["key_a": Date()])
            try await store.endpoints.setConfigUpdate("chat", "IN_PROGRESS")
            try await store.endpoints.delete("chat")
            #expect(try await StoreChanges.versions(in: store.database) == [.keys: 2, .endpoints: 2])
            #expect(try await store.endpoints.endpoints().isEmpty)
            #expect(try await store.endpoints.versions("chat").map(\.retiredReason) == ["endpoint deleted"])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func tracesAndCostReadTheSameOnEveryBackend(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            var records = (0..<6).map { RecordSinkTests.record($0, traced: $0 < 2) }
            for index in records.indices { records[index].price = PriceConfig(inputPerMillion: 1, outputPerMillion: 2) }
            _ = try await store.records.write(records, payloadLimit: 1 << 20)
            try await store.costs.recordCompute(
                endpoint: "chat", entity: "entity-b", servedEntityID: "entity-b/1", replica: "replica-1", at: Date(timeIntervalSince1970: 1_767_323_045),
                intervalSeconds: 5, cpuSeconds: 1.5, rssBytes: 100_000_000, running: true, costUSD: 0.25
            )
            let summaries = try await store.traces.traces(matching: TraceFilter(endpointName: "chat"))
            #expect(summaries.map(\.requestID) == ["req-1", "req-0"])
            #expect(summaries.first?.requestPreview == "hello 1")
            let json = try #require(try await store.traces.traceJSON(id: "req-1"))
            let document = try JSONValue.parse(json)
            #expect(document["info"]?["trace_metadata"]?["tollgate.request_id"]?.stringValue == "req-1")
            #expect(document["data"]?["spans"]?.arrayValue?.count == 2)

            let report = try await store.costs.report(by: .version)
            let version = try #require(report.rows.first { $0.key == "chat/entity-a" })
            #expect(version.requests == 6)
            #expect(version.inputTokens == 18)
            #expect(version.outputTokens == 12)
            #expect(abs(version.tokenCostUSD - 6 * (3 * 1 + 2 * 2) / 1_000_000) < 1e-12)
            #expect(report.idle.map { "\($0.endpointName)/\($0.entityName) \($0.state) \($0.computeCostUSD)" } == ["chat/entity-b RETIRED 0.25"])
            let since = try await store.costs.report(by: .day, since: "2030-01-01")
            #expect(since.rows.isEmpty)
        }
    }
}

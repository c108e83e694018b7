import Foundation
import Testing

@testable import TollgateCore

@Suite("Version plans: deploy, retire, retention")
struct VersionPlansTests {
    func entity(_ name: String) -> ServedEntityConfig {
        ServedEntityConfig(name: name, externalModel: ExternalModelConfig(provider: "sim", name: "m"))
    }

    func shares(_ config: EndpointCoreConfig) -> [String: Int] {
        Dictionary(uniqueKeysWithValues: VersionPlans.routes(of: config).map { ($0.servedEntityName, $0.trafficPercentage) })
    }

    @Test func deployMovesAllTrafficOrACanaryShare() throws {
        let one = EndpointCoreConfig(servedEntities: [entity("a")])
        let full = try VersionPlans.deploy(one, entity: entity("b"), canary: nil)
        #expect(shares(full) == ["a": 0, "b": 100])
        let split = EndpointCoreConfig(
            servedEntities: [entity("a"), entity("b")],
            trafficConfig: TrafficConfig(routes: [TrafficRoute(servedEntityName: "a", trafficPercentage: 67), TrafficRoute(servedEntityName: "b", trafficPercentage: 33)])
        )
        let canary = try VersionPlans.deploy(split, entity: entity("c"), canary: 10)
        #expect(shares(canary) == ["a": 60, "b": 30, "c": 10])
        #expect(VersionPlans.routes(of: canary).reduce(0) { $0 + $1.trafficPercentage } == 100)
        #expect(throws: VersionPlanError.self) { try VersionPlans.deploy(one, entity: entity("a"), canary: nil) }
        #expect(throws: VersionPlanError.self) { try VersionPlans.deploy(one, entity: entity("z"), canary: 0) }
    }

    @Test func retireNeedsZeroTrafficAndAnotherEntity() throws {
        let config = try VersionPlans.deploy(EndpointCoreConfig(servedEntities: [entity("a")]), entity: entity("b"), canary: nil)
        #expect(throws: VersionPlanError.self) { try VersionPlans.retire(config, entity: "b") }
        #expect(throws: VersionPlanError.self) { try VersionPlans.retire(config, entity: "nope") }
        let retired = try VersionPlans.retire(config, entity: "a")
        #expect(retired.servedEntities.map(\.name) == ["b"])
        #expect(shares(retired) == ["b": 100])
        #expect(throws: VersionPlanError.self) { try VersionPlans.retire(retired, entity: "b") }
    }

    @Test func retentionKeepsTheNewestAndRetiresTheOld() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        let zero = [
            VersionPlans.ZeroTrafficVersion(name: "v1", since: now.addingTimeInterval(-3000)),
            VersionPlans.ZeroTrafficVersion(name: "v2", since: now.addingTimeInterval(-2000)),
            VersionPlans.ZeroTrafficVersion(name: "v3", since: now.addingTimeInterval(-100)),
        ]
        #expect(VersionPlans.retention(RetentionConfig(keepZeroTrafficVersions: 1), zeroTraffic: zero, now: now).map(\.name) == ["v2", "v1"])
        #expect(VersionPlans.retention(RetentionConfig(keepZeroTrafficVersions: 0), zeroTraffic: zero, now: now).count == 3)
        let aged = VersionPlans.retention(RetentionConfig(keepZeroTrafficVersions: 5, maxZeroTrafficAgeSeconds: 1800), zeroTraffic: zero, now: now)
        #expect(aged.map(\.name) == ["v2", "v1"])
        #expect(aged[0].reason.contains("max_zero_traffic_age"))
    }

    @Test func retentionAndPricingDecodeFromYAML() throws {
        let config = try ConfigLoader(environment: [:]).load(yaml: """
            providers: [{name: sim, kind: simulator}]
            pricing: [{provider: sim, model: m, input_per_million: 2, cached_input_per_million: 0.5, output_per_million: 8}]
            endpoints:
              - name: e
                retention: {keep_zero_traffic_versions: 2, max_zero_traffic_age: 7d}
                config: {served_entities: [{name: a, external_model: {provider: sim, name: m}}]}
            """)
        #expect(config.endpoints[0].retention == RetentionConfig(keepZeroTrafficVersions: 2, maxZeroTrafficAgeSeconds: 7 * 86400))
        let price = try #require(config.pricing.tokenPrice(provider: "sim", model: "m"))
        #expect(abs(price.tokenCost(input: 1000, cachedInput: 400, output: 100) - (600 * 2 + 400 * 0.5 + 100 * 8) / 1_000_000) < 1e-12)
        #expect(UTCTimestamp.parse(UTCTimestamp.iso8601(Date(timeIntervalSince1970: 1_764_000_000.123))) == Date(timeIntervalSince1970: 1_764_000_000.123))
    }
}

@Suite("Identifiers")
struct IdentifierTests {
    @Test func requestIDsAreVersion7UUIDsInTimeOrder() async throws {
        let first = Identifiers.requestID()
        try await Task.sleep(for: .milliseconds(2))
        let second = Identifiers.requestID()
        #expect(UUID(uuidString: first) != nil)
        #expect(Array(first)[14] == "7")
        #expect(["8", "9", "a", "b"].contains(Array(first)[19]))
        #expect(first < second)
        let trace = TraceIDs.traceHex()
        #expect(trace.count == 32)
        let millis = try #require(UInt64(trace.prefix(12), radix: 16))
        #expect(abs(Double(millis) / 1000 - Date().timeIntervalSince1970) < 5)
    }
}

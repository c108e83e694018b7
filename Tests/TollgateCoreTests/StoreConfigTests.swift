import Testing
@testable import TollgateCore

/// `store:` as a URL, or as `{url, retention_days}`.
@Suite("store: configuration")
struct StoreConfigTests {
    @Test func aURLAloneKeepsEverything() throws {
        let config = try ConfigLoader(environment: [:]).load(yaml: yaml(extra: "store: postgres://u:p@db:5432/tollgate"))
        #expect(config.store == "postgres://u:p@db:5432/tollgate")
        #expect(config.retentionDays == nil)
    }

    @Test func aMappingCarriesTheRetention() throws {
        let config = try ConfigLoader(environment: [:]).load(yaml: yaml(extra: "store: {url: sqlite:tg.db, retention_days: 30}"))
        #expect(config.store == "sqlite:tg.db")
        #expect(config.retentionDays == 30)
    }

    @Test func aRetentionOutOfRangeOrAnUnknownKeyIsReported() throws {
        let range = try loadError(yaml(extra: "store: {url: sqlite:tg.db, retention_days: 0}"))
        #expect(range.issues.map(\.path) == ["store.retention_days"])
        let unknown = try loadError(yaml(extra: "store: {url: sqlite:tg.db, retention: 30}"))
        #expect(unknown.issues.map(\.path) == ["store.retention"])
    }
}

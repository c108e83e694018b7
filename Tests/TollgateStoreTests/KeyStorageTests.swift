import Foundation
import Testing
import TollgateStore

/// `api_keys` on each backend: what the key ring reloads and the admin API writes.
@Suite("Key storage, on SQLite and PostgreSQL")
struct KeyStorageTests {
    static func key(_ id: String, hash: String, created: TimeInterval, groups: [String] = ["data-eng"]) -> StoredKey {
        StoredKey(
            keyID: id, prefix: "tg-" + id.prefix(7), hash: hash, owner: "\(id)@example.com", groups: groups, servicePrincipal: id.hasPrefix("sp"),
            description: id == "key_a" ? nil : "for \(id)", createdAt: Date(timeIntervalSince1970: created),
            expiresAt: id == "key_b" ? Date(timeIntervalSince1970: created + 86_400) : nil
        )
    }

    @Test(arguments: StoreBackend.allCases)
    func keysComeBackNewestFirstAsStored(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let a = Self.key("key_a", hash: String(repeating: "a", count: 64), created: 1_767_000_000)
            let b = Self.key("key_b", hash: String(repeating: "b", count: 64), created: 1_767_000_100, groups: [])
            let sp = Self.key("sp_c", hash: String(repeating: "c", count: 64), created: 1_767_000_050, groups: ["x", "y \"z\""])
            for key in [a, b, sp] { try await store.keys.insert(key) }
            let all = try await store.keys.all()
            #expect(all == [b, sp, a])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aSecondKeyWithTheSameHashOrIdIsRefused(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let hash = String(repeating: "d", count: 64)
            try await store.keys.insert(Self.key("key_a", hash: hash, created: 1_767_000_000))
            await #expect(throws: StoreError.self) { try await store.keys.insert(Self.key("key_b", hash: hash, created: 1_767_000_001)) }
            await #expect(throws: StoreError.self) {
                try await store.keys.insert(Self.key("key_a", hash: String(repeating: "e", count: 64), created: 1_767_000_002))
            }
            #expect(try await store.keys.all().count == 1)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func revokingKeepsTheFirstTimeAndTouchKeepsTheLatest(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            try await store.keys.insert(Self.key("key_a", hash: String(repeating: "f", count: 64), created: 1_767_000_000))
            let first = Date(timeIntervalSince1970: 1_767_100_000)
            #expect(try await store.keys.revoke("key_a", at: first))
            #expect(try await store.keys.revoke("key_a", at: first.addingTimeInterval(60)))
            #expect(try await store.keys.revoke("key_missing", at: first) == false)
            let later = Date(timeIntervalSince1970: 1_767_200_000)
            try await store.keys.touch(["key_a": later])
            try await store.keys.touch(["key_a": later.addingTimeInterval(-3_600), "key_missing": later])
            let key = try #require(try await store.keys.all().first)
            #expect(key.revokedAt == first)
            #expect(key.lastUsedAt == later)
            #expect(!key.isUsable(at: later))
        }
    }
}

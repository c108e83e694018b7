import Foundation
import Testing
import TollgateStore
@testable import TollgateServer

@Suite("API keys")
struct APIKeysTests {
    @Test func theLookupDigestIsTheStoredHash() {
        let (key, stored) = APIKeys.issue(owner: "alice@example.com", groups: [], servicePrincipal: false, description: nil, expiresAt: nil)
        #expect(KeyDigest(hex: stored.hash) == APIKeys.digest(key))
        #expect(KeyDigest(hex: APIKeys.hash(key + "x")) != APIKeys.digest(key))
    }

    @Test func aStoredHashThatIsNotSHA256HexMatchesNothing() {
        let hash = APIKeys.hash("tg-example")
        #expect(KeyDigest(hex: hash) != nil)
        #expect(KeyDigest(hex: String(hash.dropLast())) == nil)
        #expect(KeyDigest(hex: hash + "0") == nil)
        #expect(KeyDigest(hex: String(hash.dropLast(2)) + "zz") == nil)
        #expect(KeyDigest(hex: "") == nil)
    }
}

/// A key store whose `all()` answers with what it held when the read began, once released.
private final class SlowKeyStorage: KeyStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [StoredKey] = []
    private var pending: CheckedContinuation<Void, Never>?
    private var held = false

    func hold() { lock.withLock { held = true } }
    func release() { lock.withLock { let p = pending; pending = nil; held = false; return p }?.resume() }
    var isWaiting: Bool { lock.withLock { pending != nil } }

    func insert(_ key: StoredKey) async throws(StoreError) { lock.withLock { keys.append(key) } }
    func all() async throws(StoreError) -> [StoredKey] {
        let snapshot = lock.withLock { keys }
        if lock.withLock({ held }) { await withCheckedContinuation { continuation in lock.withLock { pending = continuation } } }
        return snapshot
    }
    func revoke(_ keyID: String, at time: Date) async throws(StoreError) -> Bool {
        lock.withLock {
            guard let index = keys.firstIndex(where: { $0.keyID == keyID }) else { return false }
            keys[index].revokedAt = keys[index].revokedAt ?? time
            return true
        }
    }
    func touch(_ lastUsed: [String: Date]) async throws(StoreError) {}
}

@Suite("Key ring reloads")
struct KeyRingReloadTests {
    @Test func aReloadThatReadBeforeAChangeDoesNotUndoIt() async throws {
        let storage = SlowKeyStorage()
        let ring = KeyRing(store: storage)
        let (first, firstStored) = APIKeys.issue(owner: "a@example.com", groups: [], servicePrincipal: false, description: nil, expiresAt: nil)
        try await storage.insert(firstStored)
        try await ring.reload()
        #expect(ring.lookup(first) != nil)
        // A reload reads the store, then a key is created and the first one revoked before the
        // reload applies what it read.
        storage.hold()
        async let reload: Void = ring.reload()
        while !storage.isWaiting { await Task.yield() }
        let (second, secondStored) = APIKeys.issue(owner: "b@example.com", groups: [], servicePrincipal: false, description: nil, expiresAt: nil)
        try await storage.insert(secondStored)
        ring.add(secondStored)
        #expect(try await storage.revoke(firstStored.keyID, at: Date()))
        ring.revoke(firstStored.keyID, at: Date())
        storage.release()
        try await reload
        #expect(ring.lookup(second) != nil)
        #expect(ring.lookup(first) == nil)
        // The next reload reads both changes from the store.
        try await ring.reload()
        #expect(ring.lookup(second) != nil)
        #expect(ring.lookup(first) == nil)
    }
}

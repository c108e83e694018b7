import Foundation
import Logging
import ServiceLifecycle
import Synchronization
import TollgateCore
import TollgateStore

/// The keys the request path checks, in memory: looked up by hash without touching the store.
/// `ChangeWatcher` reloads them when the store's `keys` change counter moves, so a key created or
/// revoked by another process (the CLI, another replica) takes effect within a fraction of a
/// second; last-used times are written back in batches.
public final class KeyRing: Sendable {
    private struct State {
        var byDigest: [KeyDigest: StoredKey] = [:]
        var used: [String: Date] = [:]
        var loaded = false
        /// Counts local changes (`add`, `revoke`).
        var generation: UInt64 = 0
        /// Keys this process created or revoked, with the generation of the change: a reload
        /// whose read began before the change may not have seen it, so it is applied again.
        var local: [KeyDigest: (key: StoredKey, generation: UInt64)] = [:]
    }

    private let state = Mutex(State())
    let store: any KeyStorage

    public init(store: any KeyStorage) { self.store = store }

    /// The stored key a presented key matches, if it is usable now; notes its use.
    func lookup(_ presented: String, now: Date = Date()) -> StoredKey? {
        let digest = APIKeys.digest(presented)
        return state.withLock { state in
            guard let key = state.byDigest[digest], key.isUsable(at: now) else { return nil }
            state.used[key.keyID] = now
            return key
        }
    }

    /// Reads every key from the store.
    public func reload() async throws(StoreError) {
        // The store is written before a local change is applied, so a read that begins after
        // a change sees it; one that began before might not, and must not undo it (a key just
        // created would vanish, a key just revoked would work again, until the next reload).
        let began = state.withLock { $0.generation }
        let keys = try await store.all()
        state.withLock { state in
            // A stored hash that is not a SHA-256 in hex can match no presented key.
            state.byDigest = Dictionary(keys.compactMap { key in KeyDigest(hex: key.hash).map { ($0, key) } }, uniquingKeysWith: { first, _ in first })
            state.local = state.local.filter { $0.value.generation > began }
            for (digest, change) in state.local { state.byDigest[digest] = change.key }
            state.loaded = true
        }
    }

    /// Adds a key created by this process, usable before the next reload.
    func add(_ key: StoredKey) {
        guard let digest = KeyDigest(hex: key.hash) else { return }
        state.withLock { state in
            state.generation += 1
            state.byDigest[digest] = key
            state.local[digest] = (key, state.generation)
        }
    }

    /// Marks a key revoked in memory at once (the store is written by the caller).
    func revoke(_ keyID: String, at time: Date) {
        state.withLock { state in
            state.generation += 1
            for (digest, key) in state.byDigest where key.keyID == keyID {
                var revoked = key
                revoked.revokedAt = key.revokedAt ?? time
                state.byDigest[digest] = revoked
                state.local[digest] = (revoked, state.generation)
            }
        }
    }

    /// Writes the last-used times noted since the previous flush (kept for the next one when
    /// the write fails).
    func flushUse() async throws(StoreError) {
        let used = state.withLock { state in
            defer { state.used = [:] }
            return state.used
        }
        do throws(StoreError) {
            try await store.touch(used)
        } catch {
            state.withLock { state in state.used.merge(used) { newer, _ in newer } }
            throw error
        }
    }
}

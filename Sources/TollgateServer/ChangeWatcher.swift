import Logging
import ServiceLifecycle
import Synchronization
import TollgateStore

/// Keeps this replica in step with the store: reads the change counters (`StoreChanges`) every
/// `interval` and reloads keys or endpoints whose counter moved, whoever changed them (another
/// replica, the CLI). Keys are also reloaded every `keyRefresh` regardless, and their
/// last-used times flushed every second.
struct ChangeWatcher: Service {
    let database: any SQLDatabase
    let keys: KeyRing
    let endpoints: EndpointManager
    let interval: Duration
    var keyRefresh: Duration = .seconds(30)
    let logger: Logger

    func run() async throws {
        let failing = Mutex(false)
        try? await cancelWhenGracefulShutdown {
            // Unknown at first: the first round reloads both, catching any change made between
            // the gateway's start-up reads and now.
            var seen: [StoreTopic: Int] = [:]
            let clock = ContinuousClock()
            var lastKeyLoad = clock.now
            var lastFlush = clock.now
            while true {
                try await Task.sleep(for: interval)
                do {
                    let versions = try await StoreChanges.versions(in: database)
                    // Keys first and on their own: a revocation must not wait for anything else.
                    if versions[.keys] != seen[.keys] || clock.now - lastKeyLoad >= keyRefresh {
                        try await keys.reload()
                        lastKeyLoad = clock.now
                        seen[.keys] = versions[.keys]
                    }
                    // An endpoint this replica is changing right now is skipped: read again next round.
                    if versions[.endpoints] != seen[.endpoints], try await endpoints.refresh() {
                        seen[.endpoints] = versions[.endpoints]
                    }
                    if clock.now - lastFlush >= .seconds(1) {
                        try? await keys.flushUse()
                        lastFlush = clock.now
                    }
                    if failing.withLock({ $0 }) { logger.notice("store changes read again") }
                    failing.withLock { $0 = false }
                } catch {
                    if !failing.withLock({ $0 }) {
                        logger.error("cannot read store changes; the keys and endpoints last read stay in force", metadata: ["error": "\(error)"])
                    }
                    failing.withLock { $0 = true }
                }
            }
        }
        try? await keys.flushUse()
    }
}

import Foundation
import GRDB
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Copies the write-ahead log back into the database file from a low-priority thread of its
/// own, so that the record writer's commits never do it.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the threshold, on the
/// writer's thread, competing with request handling for the CPU; measured at one connection it
/// was most of the gateway's p99 (bench/README.md). Here a passive checkpoint — it never blocks
/// readers or the writer — runs every `interval` on a thread at the lowest CPU priority. The
/// store keeps a far larger automatic threshold as a backstop, for when this thread is starved.
public final class WALCheckpointer: Service, Sendable {
    let path: String
    let interval: Duration
    private let stopped = Atomic<Bool>(false)

    public init(store: SQLiteStore, interval: Duration = .milliseconds(500)) {
        path = store.path
        self.interval = interval
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        start()
        try? await gracefulShutdown()
        stop()
    }

    private func start() {
        let thread = Thread { [self] in
            ThreadPriority.lowerCurrent(to: 19)
            guard let connection = try? DatabaseQueue(path: path) else { return }
            let pause = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
            while !stopped.load(ordering: .acquiring) {
                Thread.sleep(forTimeInterval: pause)
                _ = try? connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
        thread.name = "tollgate-wal-checkpoint"
        thread.start()
    }

    private func stop() { stopped.store(true, ordering: .releasing) }
}

/// The priority of the calling thread.
public enum ThreadPriority {
    /// Lowers the calling thread's priority to `nice` (0 normal, 19 lowest). Linux keeps the
    /// nice value per thread (`who = 0` is the calling thread), so the rest of the process is
    /// not affected; elsewhere this does nothing.
    public static func lowerCurrent(to nice: Int32) {
        #if canImport(Glibc)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
        #endif
    }
}

import Foundation

/// Where Swift Concurrency runs: on the NIO event loops that serve the sockets (the default), or
/// on Swift's own executor with `TOLLGATE_EXECUTOR=swift` (for comparison in bench/).
enum ConcurrencyExecutor {
    static let onNIOLoops = ProcessInfo.processInfo.environment["TOLLGATE_EXECUTOR"] != "swift"
}

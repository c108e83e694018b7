import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

// Run Swift Concurrency jobs on the NIO event loops that also serve the sockets: request
// handlers, the upstream client and the server then share threads instead of hopping between
// two pools. Must happen on the main thread before any task starts. TOLLGATE_EXECUTOR=swift
// keeps Swift's default executor (for comparison in bench/).
// A write to a child process that has exited (an agent's MCP tool server) must fail as an
// error, not end the gateway.
signal(SIGPIPE, SIG_IGN)

if ConcurrencyExecutor.onNIOLoops {
    NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
}
/// Runs a parsed command through its asynchronous `run()`.
func runAsync(_ command: inout some AsyncParsableCommand) async throws {
    try await command.run()
}

do {
    var command = try Tollgate.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(&asyncCommand)
    } else {
        try command.run()
    }
} catch {
    Tollgate.exit(withError: error)
}

import Foundation
import Logging
import MCP
import SystemPackage
import TollgateCore

#if canImport(Glibc)
import Glibc
#endif

/// Why a tool could not be reached or run.
struct ToolError: Error, Sendable, CustomStringConvertible {
    enum Code: String, Sendable {
        case startFailed = "tool_server_start_failed"
        case timeout = "tool_timeout"
        case callFailed = "tool_call_failed"
        case unknownTool = "tool_unknown"
    }

    var code: Code
    var message: String
    var description: String { "\(code.rawValue): \(message)" }
}

/// What a tool call gave back: its text, and whether the tool reported a failure.
struct ToolResult: Sendable {
    var output: String
    var isError: Bool
}

/// One MCP server child process and the MCP client speaking to it over stdin/stdout.
///
/// The SDK spawns nothing: Tollgate starts the process with pipes and hands its ends to
/// `StdioTransport`. The SDK has no request timeouts and spins when the child dies, so every
/// call runs under a deadline and the child's exit disconnects the client.
actor MCPSession {
    let label: String
    private let client = Client(name: "tollgate", version: "1.0")
    private let process = Process()
    // The transport holds raw descriptors only: the pipes must live as long as the session.
    private let stdinPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let stderrPipe = Pipe()
    private let logger: Logger
    private var closed = false

    init(command: [String], environment: [String: String]?, logger: Logger) throws(ToolError) {
        label = command.joined(separator: " ")
        self.logger = logger
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        if let environment {
            // `${NAME}` references were kept as written in the endpoint definition: resolved here.
            let inherited = ProcessInfo.processInfo.environment
            var resolved = inherited
            for (name, value) in environment {
                switch EnvironmentReferences.expand(value, environment: inherited) {
                case .success(let text): resolved[name] = text
                case .failure(let problem): throw ToolError(code: .startFailed, message: "cannot start \(label): env \(name): \(problem.message)")
                }
            }
            process.environment = resolved
        }
        process.standardInput = stdinPipe
        process.standardOutput = stdoutPipe
        process.standardError = stderrPipe
        let label = self.label
        // A piped stderr must be drained, or the child blocks once the pipe buffer fills.
        stderrPipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                logger.debug("mcp server stderr", metadata: ["server": "\(label)", "line": "\(line)"])
            }
        }
        let client = self.client
        process.terminationHandler = { finished in
            logger.info("mcp server exited", metadata: ["server": "\(label)", "status": "\(finished.terminationStatus)"])
            Task { await client.disconnect() }
        }
        do {
            try process.run()
        } catch {
            throw ToolError(code: .startFailed, message: "cannot start \(label): \(error)")
        }
    }

    /// Runs the MCP handshake (initialize, initialized).
    func connect(timeout: Duration) async throws(ToolError) {
        let transport = StdioTransport(
            input: FileDescriptor(rawValue: stdoutPipe.fileHandleForReading.fileDescriptor),
            output: FileDescriptor(rawValue: stdinPipe.fileHandleForWriting.fileDescriptor),
            logger: logger
        )
        let client = self.client
        do {
            _ = try await Deadline.run(timeout) {
                try await client.connect(transport: transport)
            } onTimeout: {
                await client.disconnect()
            }
        } catch {
            await client.disconnect()
            throw ToolError(code: .startFailed, message: "MCP handshake with \(label) failed: \(error)")
        }
    }

    func listTools() async throws(ToolError) -> [Tool] {
        var tools: [Tool] = []
        var cursor: String?
        do {
            repeat {
                let page = try await client.listTools(cursor: cursor)
                tools += page.tools
                cursor = page.nextCursor
            } while cursor != nil
        } catch {
            throw ToolError(code: .callFailed, message: "tools/list on \(label) failed: \(error)")
        }
        return tools
    }

    /// Calls a tool; returns its text content and whether the tool reported an error.
    func call(_ name: String, arguments: [String: Value]?, timeout: Duration) async throws(ToolError) -> ToolResult {
        let client = self.client
        do {
            let context: RequestContext<CallTool.Result> = try await client.callTool(name: name, arguments: arguments)
            let result = try await Deadline.run(timeout) {
                try await context.value
            } onTimeout: {
                try? await client.cancelRequest(context.requestID, reason: "timeout")
            }
            let text = result.content.compactMap { content -> String? in
                if case .text(let text, _, _) = content { return text }
                return nil
            }.joined(separator: "\n")
            return ToolResult(output: text, isError: result.isError ?? false)
        } catch let error as ToolError {
            throw error
        } catch {
            throw ToolError(code: .callFailed, message: "tools/call \(name) failed: \(error)")
        }
    }

    /// Disconnects, closes the child's stdin, then signals its process group if it lingers.
    func shutdown() async {
        guard !closed else { return }
        closed = true
        await client.disconnect()
        try? stdinPipe.fileHandleForWriting.close()
        for signal in [SIGTERM, SIGKILL] {
            for _ in 0..<50 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
            guard process.isRunning else { return }
            kill(-process.processIdentifier, signal)
        }
    }
}

/// Races an operation against a timer. On timeout `onTimeout` must make the operation finish
/// (the SDK's continuations ignore task cancellation).
enum Deadline {
    static func run<T: Sendable>(
        _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T, onTimeout: @escaping @Sendable () async -> Void
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            if let first = try await group.next(), let value = first {
                group.cancelAll()
                return value
            }
            await onTimeout()
            group.cancelAll()
            throw ToolError(code: .timeout, message: "no answer within \(limit)")
        }
    }
}

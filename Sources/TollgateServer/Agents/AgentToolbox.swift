import Foundation
import Logging
import MCP
import ServiceLifecycle
import TollgateCore

/// The MCP servers of one agent: started on first use (or at warm-up), their tools offered to
/// the model as Chat Completions function tools, their calls routed to the server that has them.
actor AgentToolbox {
    let servers: [MCPServerConfig]
    let logger: Logger
    let callTimeout: Duration
    private var sessions: [MCPSession] = []
    private var catalog: [String: MCPSession] = [:]
    private var definitions: [JSONValue] = []
    private var connected = false
    /// The connection being made: callers that arrive meanwhile (warm-up and a first request,
    /// several first requests) wait for it instead of starting the servers again.
    private var connecting: Task<Result<Void, ToolError>, Never>?
    /// Set by `shutdown()`, for good: a late caller must not start servers nobody will stop.
    private var stopping: Task<Void, Never>?

    init(servers: [MCPServerConfig], logger: Logger, callTimeout: Duration = .seconds(30)) {
        self.servers = servers
        self.logger = logger
        self.callTimeout = callTimeout
    }

    /// The tools as Chat Completions `tools` entries.
    func toolDefinitions() async throws(ToolError) -> [JSONValue] {
        try await connectIfNeeded()
        return definitions
    }

    /// Runs one tool call; tool failures come back as text for the model, marked as errors.
    func call(name: String, argumentsJSON: String) async -> ToolResult {
        do {
            try await connectIfNeeded()
            guard let session = catalog[name] else {
                throw ToolError(code: .unknownTool, message: "no tool named \(name)")
            }
            let arguments = try? JSONDecoder().decode([String: Value].self, from: Data((argumentsJSON.isEmpty ? "{}" : argumentsJSON).utf8))
            return try await session.call(name, arguments: arguments, timeout: callTimeout)
        } catch let error as ToolError {
            logger.warning("agent tool call failed", metadata: ["tool": "\(name)", "error": "\(error)"])
            return ToolResult(output: "Tool error: \(error.message)", isError: true)
        } catch {
            return ToolResult(output: "Tool error: \(error)", isError: true)
        }
    }

    /// Stops the servers for good; every caller (a retired entity's drain, the gateway's
    /// shutdown) waits until they have exited.
    func shutdown() async {
        if let stopping { return await stopping.value }
        let task = Task { await self.stopServers() }
        stopping = task
        await task.value
    }

    private func stopServers() async {
        if let connecting { _ = await connecting.value }  // it sees `stopping` and stops what it started
        for session in sessions { await session.shutdown() }
        sessions = []
        catalog = [:]
        connected = false
    }

    private func connectIfNeeded() async throws(ToolError) {
        guard !connected else { return }
        let task: Task<Result<Void, ToolError>, Never>
        if let connecting {
            task = connecting
        } else {
            task = Task { await self.connect() }
            connecting = task
        }
        let result = await task.value
        if connecting == task { connecting = nil }  // a failed attempt is retried by the next caller
        try result.get()
    }

    private func connect() async -> Result<Void, ToolError> {
        guard stopping == nil else { return .failure(Self.stoppedError) }
        var started: [MCPSession] = []
        var catalog: [String: MCPSession] = [:]
        var definitions: [JSONValue] = []
        do {
            for server in servers {
                guard stopping == nil else { break }
                let session = try MCPSession(command: server.command, environment: server.env, logger: logger)
                started.append(session)
                try await session.connect(timeout: .seconds(20))
                for tool in try await session.listTools() where catalog[tool.name] == nil {
                    catalog[tool.name] = session
                    definitions.append(Self.definition(tool))
                }
            }
        } catch {
            for session in started { await session.shutdown() }
            return .failure(error)
        }
        guard stopping == nil else {  // shut down while the servers were starting
            for session in started { await session.shutdown() }
            return .failure(Self.stoppedError)
        }
        sessions = started
        self.catalog = catalog
        self.definitions = definitions
        connected = true
        return .success(())
    }

    private static let stoppedError = ToolError(code: .startFailed, message: "the agent's tool servers were stopped")

    static func definition(_ tool: Tool) -> JSONValue {
        let encoded = JSONValue.encoded(tool.inputSchema)
        let schema: JSONValue = encoded.isNull ? ["type": "object"] : encoded
        var function: JSONObject = ["name": .string(tool.name), "parameters": schema]
        if let description = tool.description { function["description"] = .string(description) }
        return ["type": "function", "function": .object(function)]
    }
}

/// Owns every agent's tool servers: warms them up at start, stops them on shutdown.
struct ToolHost: Service {
    /// The toolboxes of the endpoints as they are (endpoints change while the gateway runs).
    let toolboxes: @Sendable () -> [AgentToolbox]
    let logger: Logger

    func run() async throws {
        for toolbox in toolboxes() {
            do {
                _ = try await toolbox.toolDefinitions()
            } catch {
                logger.warning("agent tools not ready; will retry on first use", metadata: ["error": "\(error)"])
            }
        }
        try? await gracefulShutdown()
        for toolbox in toolboxes() { await toolbox.shutdown() }
    }
}

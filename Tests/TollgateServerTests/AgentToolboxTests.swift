import Foundation
import Logging
import Testing
import TollgateCore
import TollgateProviders

@testable import TollgateServer

@Suite("Agent toolbox: one set of tool servers")
struct AgentToolboxTests {
    /// A toolbox whose server notes each start in `starts` before running the orders server.
    static func toolbox(_ starts: URL) -> AgentToolbox {
        let command = ["sh", "-c", "echo started >> \"$0\"; exec python3 \"$1\"", starts.path, AgentToolTests.serverScript]
        return AgentToolbox(servers: [MCPServerConfig(command: command)], logger: Logger(label: "toolbox-test"))
    }

    static func startCount(_ starts: URL) -> Int {
        ((try? String(contentsOf: starts, encoding: .utf8)) ?? "").split(separator: "\n").count
    }

    @Test func concurrentFirstUsesStartTheServersOnce() async throws {
        let starts = FileManager.default.temporaryDirectory.appendingPathComponent("toolbox-starts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: starts) }
        let toolbox = Self.toolbox(starts)
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 { group.addTask { try await toolbox.toolDefinitions().count } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts.count == 4 && counts.allSatisfy { $0 > 0 && $0 == counts[0] })
        #expect(Self.startCount(starts) == 1)
        await toolbox.shutdown()
    }

    @Test func environmentReferencesAreResolvedWhenTheServerStarts() async throws {
        let seen = FileManager.default.temporaryDirectory.appendingPathComponent("toolbox-env-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: seen) }
        let command = ["sh", "-c", "echo \"$GREETING\" >> \"$0\"; exec python3 \"$1\"", seen.path, AgentToolTests.serverScript]
        let resolved = AgentToolbox(
            servers: [MCPServerConfig(command: command, env: ["GREETING": "${TOLLGATE_TEST_UNSET_VARIABLE:-hello from the default}"])],
            logger: Logger(label: "toolbox-test")
        )
        _ = try await resolved.toolDefinitions()
        await resolved.shutdown()
        #expect(try String(contentsOf: seen, encoding: .utf8) == "hello from the default\n")

        let unresolved = AgentToolbox(
            servers: [MCPServerConfig(command: command, env: ["GREETING": "${TOLLGATE_TEST_UNSET_VARIABLE}"])], logger: Logger(label: "toolbox-test")
        )
        let error = try await #require(throws: ToolError.self) { try await unresolved.toolDefinitions() }
        #expect(error.message.contains("TOLLGATE_TEST_UNSET_VARIABLE is not set"))
    }

    @Test func aShutdownDuringTheFirstConnectionStopsWhatItStarted() async throws {
        let pids = FileManager.default.temporaryDirectory.appendingPathComponent("toolbox-pids-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: pids) }
        let command = ["sh", "-c", "echo $$ >> \"$0\"; sleep 1; exec python3 \"$1\"", pids.path, AgentToolTests.serverScript]
        let toolbox = AgentToolbox(servers: [MCPServerConfig(command: command)], logger: Logger(label: "toolbox-test"))
        let first = Task { () -> Bool in (try? await toolbox.toolDefinitions()) != nil }
        var pid: Int32?
        while pid == nil {
            try await Task.sleep(for: .milliseconds(20))
            pid = ((try? String(contentsOf: pids, encoding: .utf8)) ?? "").split(separator: "\n").first.flatMap { Int32($0) }
        }
        async let one: Void = toolbox.shutdown()
        async let two: Void = toolbox.shutdown()
        _ = await (one, two)
        #expect(kill(try #require(pid), 0) == -1)  // both shutdowns returned after the server exited
        #expect(await first.value == false)
        #expect(Self.startCount(pids) == 1)
    }

    @Test func aStoppedToolboxStartsNothingMore() async throws {
        let starts = FileManager.default.temporaryDirectory.appendingPathComponent("toolbox-starts-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: starts) }
        let toolbox = Self.toolbox(starts)
        _ = try await toolbox.toolDefinitions()
        await toolbox.shutdown()
        await #expect(throws: ToolError.self) { try await toolbox.toolDefinitions() }
        let result = await toolbox.call(name: "get_order", argumentsJSON: "{}")
        #expect(result.isError)
        #expect(Self.startCount(starts) == 1)
    }
}

@Suite("Local model server: stopping a start")
struct LocalModelStartTests {
    @Test func aStopWhileStartingEndsTheStartWithoutWaitingForItsTimeout() async throws {
        // A "server" that never answers its health check; the startup timeout is long enough that
        // a stop waiting for it would end with a different error.
        let config = LocalModelConfig(modelPath: "unused.gguf", command: ["sleep", "600"], startupTimeoutSeconds: 300)
        let server = LocalModelServer(label: "slow-start", config: config, logger: Logger(label: "local-model-test"))
        let request = Task { () -> String in
            do {
                try await server.ensureRunning()
                return "started"
            } catch {
                return "\(error)"
            }
        }
        var pid: Int32?
        while pid == nil {
            try await Task.sleep(for: .milliseconds(20))
            pid = await server.pid
        }
        await server.shutdown()
        let outcome = await request.value
        #expect(outcome.contains("stopped while starting"))
        #expect(await server.isRunning == false)
        #expect(kill(try #require(pid), 0) == -1)
        await #expect(throws: UpstreamError.self) { try await server.ensureRunning() }  // stopped for good
    }
}

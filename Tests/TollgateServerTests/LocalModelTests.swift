import Foundation
import GRDB
import Testing
import TollgateCore
import TollgateStore

/// Local models run as child processes. Here the model server is `tollgate simulate` (the
/// project's own simulator as a real server on loopback); the e2e suite runs the real SmolLM2.
@Suite("Local models: processes, scale to zero, compute cost")
struct LocalModelTests {
    static var tollgate: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/tollgate").path
    }

    static func yaml(scaleToZero: Bool, idle: Double = 1, workload: String = "Small", extra: String = "") -> String {
        """
        store: STORE
        server: {admin_token: t}
        pricing: [{local_model: "*", cpu_hour: 3.6, gb_hour: 36}]
        endpoints:
          - name: local
            config:
              served_entities:
                - name: local-v1
                  scale_to_zero_enabled: \(scaleToZero)
                  workload_size: \(workload)
                  local_model:
                    model_path: unused.gguf
                    command: ["\(tollgate)", simulate, --host, "{host}", --port, "{port}"]
                    idle_timeout_seconds: \(idle)
                    startup_timeout_seconds: 30
        \(extra)
        """
    }

    func process(_ gateway: LiveGateway) async throws -> JSONValue {
        let versions = try await gateway.post("/api/2.0/serving-endpoints/local/versions", body: "", headers: ["authorization": "Bearer t"], method: .GET)
        return try #require(versions.json?["versions"]?[0]?["process"])
    }

    func pidAlive(_ pid: Int) -> Bool { kill(Int32(pid), 0) == 0 }

    /// The model-server command is the `tollgate` executable (`swift build --build-tests` builds it).
    static func requireBinary() throws {
        try #require(FileManager.default.isExecutableFile(atPath: tollgate), "\(tollgate) is missing: run `swift build --build-tests` first")
    }

    @Test func scaleToZeroStopsWhenIdleAndStartsOnTheNextRequest() async throws {
        try Self.requireBinary()
        let gateway = try await LiveGateway.start(yaml: Self.yaml(scaleToZero: true))
        #expect(try await process(gateway)["running"]?.intValue == 0)  // nothing runs before the first request

        let first = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello", endpoint: "local"))
        #expect(first.status == 200)
        #expect(first.headers["served-model-name"] == "local-v1")
        let cold = try #require(try await gateway.rows(for: first.requestID).inference?["cold_start_ms"] as Int?)
        #expect(cold > 0)
        let warm = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("again", endpoint: "local"))
        #expect(try await gateway.rows(for: warm.requestID).inference?["cold_start_ms"] as Int? == nil)
        let running = try await process(gateway)
        #expect(running["running"]?.intValue == 1)
        let pid = try #require(running["pids"]?[0]?.intValue)
        #expect(pidAlive(pid))
        #expect((running["rss_bytes"]?.intValue ?? 0) > 0)

        // Idle for longer than idle_timeout_seconds: the process is stopped.
        var stopped = false
        for _ in 0..<100 where !stopped {
            try await Task.sleep(for: .milliseconds(100))
            stopped = try await process(gateway)["running"]?.intValue == 0
        }
        #expect(stopped)
        #expect(!pidAlive(pid))

        let again = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("wake up", endpoint: "local"))
        #expect(again.status == 200)
        #expect((try await gateway.rows(for: again.requestID).inference?["cold_start_ms"] as Int? ?? 0) > 0)
        let second = try await process(gateway)
        #expect(second["starts"]?.intValue == 2)
        let secondPID = try #require(second["pids"]?[0]?.intValue)
        try await gateway.stop()
        #expect(!pidAlive(secondPID))  // stopping the gateway stops its model processes
    }

    @Test func anAlwaysOnModelIsRestartedWhenItDiesAndStoppedWithTheGateway() async throws {
        try Self.requireBinary()
        let gateway = try await LiveGateway.start(yaml: Self.yaml(scaleToZero: false))
        var pid = 0
        for _ in 0..<100 where pid == 0 {
            try await Task.sleep(for: .milliseconds(100))
            pid = try await process(gateway)["pids"]?[0]?.intValue ?? 0
        }
        #expect(pid > 0)
        kill(Int32(pid), SIGKILL)
        var restarted = 0
        for _ in 0..<150 where restarted == 0 {
            try await Task.sleep(for: .milliseconds(100))
            let now = try await process(gateway)["pids"]?[0]?.intValue ?? 0
            if now != 0 && now != pid { restarted = now }
        }
        #expect(restarted > 0)
        #expect(try await process(gateway)["crashes"]?.intValue == 1)
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello", endpoint: "local")).status == 200)
        try await gateway.stop()
        // Compute samples are recorded with their cost (the last one as the gateway stops).
        #expect(try gateway.count("compute_usage") > 0)
        #expect(!pidAlive(restarted))
        let store = try SQLiteStore(path: gateway.dbPath)
        let cost = try await store.pool.read { db in try Double.fetchOne(db, sql: "SELECT SUM(cost_usd) FROM compute_usage") ?? 0 }
        #expect(cost > 0)
    }

    @Test func workloadSizeRunsReplicasAndAnIdleVersionIsNamedInTheCostReport() async throws {
        try Self.requireBinary()
        let gateway = try await LiveGateway.start(yaml: Self.yaml(scaleToZero: false, workload: "Medium"))
        var status = JSONValue.null
        for _ in 0..<150 where status["running"]?.intValue != 2 {
            try await Task.sleep(for: .milliseconds(100))
            status = try await process(gateway)
        }
        #expect(status["replicas"]?.intValue == 2)
        #expect(status["running"]?.intValue == 2)
        #expect(Set((status["pids"]?.arrayValue ?? []).compactMap(\.intValue)).count == 2)
        try await gateway.stop()
        // Kept running, serving nothing: the report names it.
        let report = try await CostQueries(database: try SQLiteStore(path: gateway.dbPath)).report(by: .version)
        #expect(report.idle.map(\.entityName) == ["local-v1"])
        #expect((report.idle.first?.computeCostUSD ?? 0) > 0)
    }
}

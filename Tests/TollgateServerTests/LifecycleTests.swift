import Foundation
import GRDB
import HTTPTypes
import NIOHTTP1
import Synchronization
import Testing
import TollgateCore
import TollgateServer
import TollgateStore

@Suite("Endpoint lifecycle: admin API, versions, retention, cost")
struct LifecycleTests {
    static let token = "admin-secret"
    static let auth = ["authorization": "Bearer \(token)"]

    static func yaml(token: Bool = true, keep: Int = 1, extraEndpoints: String = "") -> String {
        """
        store: STORE
        server: {\(token ? "admin_token: \(Self.token), allow_admin_tool_commands: true" : "")}
        providers: [{name: sim, kind: simulator}]
        pricing:
          - {provider: sim, model: gpt-sim, input_per_million: 2.0, output_per_million: 8.0}
          - {provider: sim, model: gpt-sim-2, input_per_million: 1.0, output_per_million: 4.0}
        endpoints:
          - name: support
            retention: {keep_zero_traffic_versions: \(keep)}
            config:
              served_entities:
                - name: support-v1
                  agent: {instructions: You answer support questions., model: {provider: sim, name: gpt-sim}}
        \(extraEndpoints)
        """
    }

    static func agentEntity(_ name: String, model: String = "gpt-sim") -> String {
        #"{"name":"\#(name)","agent":{"instructions":"You answer support questions (\#(name)).","model":{"provider":"sim","name":"\#(model)"}}}"#
    }

    func admin(_ gateway: LiveGateway, _ method: HTTPMethod, _ path: String, body: String = "") async throws -> LiveGateway.Answer {
        try await gateway.post("/api/2.0/serving-endpoints" + path, body: body, headers: Self.auth, method: method)
    }

    /// Polls until the endpoint's update is applied.
    func settled(_ gateway: LiveGateway, _ name: String) async throws -> JSONValue {
        for _ in 0..<400 {
            let endpoint = try #require(try await admin(gateway, .GET, "/\(name)").json)
            if endpoint["state"]?["config_update"]?.stringValue == "NOT_UPDATING" { return endpoint }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("endpoint \(name) did not settle")
        return .null
    }

    func traffic(_ endpoint: JSONValue) -> [String: Int] {
        var out: [String: Int] = [:]
        for route in endpoint["config"]?["traffic_config"]?["routes"]?.arrayValue ?? [] {
            out[route["served_entity_name"]?.stringValue ?? ""] = route["traffic_percentage"]?.intValue
        }
        return out
    }

    @Test func adminRoutesNeedTheToken() async throws {
        let open = try await LiveGateway.start(yaml: Self.yaml(token: false))
        #expect(try await open.post("/api/2.0/serving-endpoints", body: "", headers: Self.auth, method: .GET).status == 401)
        try await open.stop()
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        let wrong = try await gateway.post("/api/2.0/serving-endpoints", body: "", headers: ["authorization": "Bearer nope"], method: .GET)
        #expect(wrong.status == 401)
        #expect(wrong.json?["error_code"]?.stringValue == "UNAUTHENTICATED")
        let list = try await admin(gateway, .GET, "")
        #expect(list.status == 200)
        #expect(list.json?["endpoints"]?[0]?["name"]?.stringValue == "support")
        #expect(list.json?["endpoints"]?[0]?["state"]?["ready"]?.stringValue == "READY")
        try await gateway.stop()
    }

    @Test func createUpdateAndDeleteInTheDatabricksShape() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        let body = #"{"name":"faq","config":{"served_entities":[{"name":"faq-a","external_model":{"provider":"sim","name":"gpt-sim"}}]}}"#
        let created = try await admin(gateway, .POST, "", body: body)
        #expect(created.status == 200)
        #expect(created.json?["config"]?["config_version"]?.intValue == 1)
        #expect(try await admin(gateway, .POST, "", body: body).json?["error_code"]?.stringValue == "RESOURCE_ALREADY_EXISTS")
        _ = try await settled(gateway, "faq")
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello", endpoint: "faq")).status == 200)

        let bad = #"{"served_entities":[{"name":"faq-a","external_model":{"provider":"sim","name":"gpt-sim"}},{"name":"faq-b","external_model":{"provider":"sim","name":"gpt-sim"}}],"traffic_config":{"routes":[{"served_entity_name":"faq-a","traffic_percentage":50},{"served_entity_name":"faq-b","traffic_percentage":40}]}}"#
        let refused = try await admin(gateway, .PUT, "/faq/config", body: bad)
        #expect(refused.status == 400)
        #expect(refused.json?["message"]?.stringValue == "config.traffic_config.routes: percentages sum to 90, expected 100")

        let unresolvable = #"{"served_entities":[{"name":"faq-tools","agent":{"instructions":"x","model":{"provider":"sim","name":"gpt-sim"},"tools":[{"mcp":{"command":["python3","tool.py"],"env":{"TOKEN":"${TOLLGATE_TEST_UNSET_VARIABLE}"}}}]}}]}"#
        let unset = try await admin(gateway, .PUT, "/faq/config", body: unresolvable)
        #expect(unset.status == 400)
        #expect(
            unset.json?["message"]?.stringValue
                == "config.served_entities[0].agent.tools[0].mcp.env.TOKEN: environment variable TOLLGATE_TEST_UNSET_VARIABLE is not set"
        )

        let good = bad.replacingOccurrences(of: "40}", with: "50}")
        let updated = try await admin(gateway, .PUT, "/faq/config", body: good)
        #expect(updated.json?["config"]?["config_version"]?.intValue == 2)
        let after = try await settled(gateway, "faq")
        #expect(traffic(after) == ["faq-a": 50, "faq-b": 50])
        #expect(after["config"]?["served_entities"]?[1]?["state"]?["deployment"]?.stringValue == "DEPLOYMENT_READY")

        let gatewaySettings = try await admin(gateway, .PUT, "/faq/ai-gateway", body: #"{"usage_tracking_config":{"enabled":false}}"#)
        // Answered as Databricks' PutAiGatewayResponse: the gateway configuration itself.
        #expect(gatewaySettings.json?["usage_tracking_config"]?["enabled"]?.boolValue == false)
        #expect(gatewaySettings.json?["inference_table_config"]?["enabled"]?.boolValue == true)
        #expect(try await settled(gateway, "faq")["config"]?["config_version"]?.intValue == 3)

        #expect(try await admin(gateway, .DELETE, "/faq").status == 200)
        #expect(try await admin(gateway, .GET, "/faq").json?["error_code"]?.stringValue == "RESOURCE_DOES_NOT_EXIST")
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hello", endpoint: "faq")).status == 404)
        try await gateway.stop()
    }

    @Test func anUpdateWhileOneIsInProgressIsRefused() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        // An agent with tools is warmed up (its MCP server started) before it takes traffic.
        let toolAgent = #"{"name":"support-tools","agent":{"instructions":"x","model":{"provider":"sim","name":"gpt-sim"},"tools":[{"mcp":{"command":["python3","\#(AgentToolTests.serverScript)"]}}]}}"#
        let first = try await admin(gateway, .POST, "/support/deploy", body: #"{"entity":\#(toolAgent)}"#)
        #expect(first.json?["state"]?["config_update"]?.stringValue == "IN_PROGRESS")
        let second = try await admin(gateway, .POST, "/support/deploy", body: #"{"entity":\#(Self.agentEntity("support-v3"))}"#)
        #expect(second.status == 409)
        #expect(second.json?["error_code"]?.stringValue == "RESOURCE_CONFLICT")
        let done = try await settled(gateway, "support")
        #expect(traffic(done)["support-tools"] == 100)
        try await gateway.stop()
    }

    @Test func threeVersionsUnderLoadRetentionRollbackAndCost() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(keep: 1))
        let failures = Atomic<Int>(0)
        let served = Mutex<Set<String>>([])
        let stop = Atomic<Bool>(false)
        let progress = Atomic<Int>(0)
        var target = 0
        // A bounded loop of requests on loopback while the versions change.
        let load = Task {
            var sent = 0
            while !stop.load(ordering: .acquiring) && sent < 2000 {
                sent += 1
                progress.store(sent, ordering: .releasing)
                let answer = try await gateway.post("/serving-endpoints/support/invocations", body: #"{"input":"Where is my order?"}"#)
                if answer.status != 200 { failures.add(1, ordering: .relaxed) }
                served.withLock { _ = $0.insert(answer.headers["served-model-name"] ?? "") }
            }
            return sent
        }
        // Every phase waits (bounded) until the load has sent a few more requests, however slow the machine.
        target = progress.load(ordering: .acquiring) + 4
        for _ in 0..<3000 where progress.load(ordering: .acquiring) < target { try await Task.sleep(for: .milliseconds(10)) }
        let v2 = try await admin(gateway, .POST, "/support/deploy", body: #"{"entity":\#(Self.agentEntity("support-v2")),"canary_percentage":25}"#)
        #expect(v2.status == 200)
        #expect(traffic(try await settled(gateway, "support")) == ["support-v1": 75, "support-v2": 25])
        // Every phase waits (bounded) until the load has sent a few more requests, however slow the machine.
        target = progress.load(ordering: .acquiring) + 4
        for _ in 0..<3000 where progress.load(ordering: .acquiring) < target { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await admin(gateway, .POST, "/support/deploy", body: #"{"entity":\#(Self.agentEntity("support-v3", model: "gpt-sim-2"))}"#)
        let three = try await settled(gateway, "support")
        // Every phase waits (bounded) until the load has sent a few more requests, however slow the machine.
        target = progress.load(ordering: .acquiring) + 4
        for _ in 0..<3000 where progress.load(ordering: .acquiring) < target { try await Task.sleep(for: .milliseconds(10)) }
        stop.store(true, ordering: .releasing)
        let sent = try await load.value
        #expect(sent > 10)
        #expect(failures.load(ordering: .relaxed) == 0)
        #expect(served.withLock { $0 }.isSuperset(of: ["support-v1", "support-v3"]))

        // keep_zero_traffic_versions = 1: v2 (the most recent at 0%) stays for rollback, v1 goes.
        #expect(traffic(three) == ["support-v2": 0, "support-v3": 100])
        let versions = try #require(try await admin(gateway, .GET, "/support/versions").json?["versions"]?.arrayValue)
        let states = Dictionary(uniqueKeysWithValues: versions.map { ($0["entity_name"]?.stringValue ?? "", $0["state"]?.stringValue ?? "") })
        #expect(states == ["support-v1": "RETIRED", "support-v2": "READY", "support-v3": "READY"])
        let v1 = try #require(versions.first { $0["entity_name"]?.stringValue == "support-v1" })
        #expect(v1["retired_reason"]?.stringValue?.contains("keep_zero_traffic_versions") == true)
        #expect((v1["requests"]?.intValue ?? 0) > 0)

        // Rollback restores the traffic before the last deploy (v1 comes back); v3 stays at 0%.
        _ = try await admin(gateway, .POST, "/support/rollback")
        let rolledBack = try await settled(gateway, "support")
        #expect(traffic(rolledBack) == ["support-v1": 75, "support-v2": 25, "support-v3": 0])
        let refused = try await admin(gateway, .POST, "/support/retire", body: #"{"entity_name":"support-v2"}"#)
        #expect(refused.status == 400)
        #expect(refused.json?["message"]?.stringValue?.contains("25% of the traffic") == true)
        #expect(try await admin(gateway, .POST, "/support/retire", body: #"{"entity_name":"support-v3"}"#).status == 200)
        #expect(traffic(try await settled(gateway, "support")) == ["support-v1": 75, "support-v2": 25])

        // Every usage row is priced; the report's total is their sum.
        try await gateway.stop()
        let store = try SQLiteStore(path: gateway.dbPath)
        let sum = try await store.pool.read { db in
            try Double.fetchOne(db, sql: "SELECT SUM(cost_usd) FROM endpoint_usage") ?? 0
        }
        let unpriced = try await store.pool.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM endpoint_usage WHERE cost_usd IS NULL") ?? -1
        }
        let expected = try await store.pool.read { db in
            try Double.fetchOne(db, sql: """
                SELECT SUM((input_token_count * CASE WHEN served_entity_name = 'support-v3' THEN 1.0 ELSE 2.0 END
                          + output_token_count * CASE WHEN served_entity_name = 'support-v3' THEN 4.0 ELSE 8.0 END) / 1000000.0)
                FROM endpoint_usage
                """) ?? 0
        }
        #expect(unpriced == 0)
        #expect(sum > 0)
        #expect(abs(sum - expected) < 1e-9)
        for grouping in CostGrouping.allCases {
            let report = try await CostQueries(database: store).report(by: grouping)
            #expect(abs(report.total.tokenCostUSD - sum) < 1e-9)
            #expect(report.total.requests == sent)
        }
    }

    @Test func applyIsIdempotentAndDeploysSurviveARestart() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml())
        let client = AdminClient(baseURL: gateway.baseURL, token: Self.token)
        let definition = #"{"name":"faq","config":{"served_entities":[{"name":"faq-a","external_model":{"provider":"sim","name":"gpt-sim"}}]}}"#
        let parsed = try JSONValue.parse(definition)
        #expect(try await client.send(.PUT, "/faq", body: parsed)["change"]?.stringValue == "created")
        _ = try await client.settled("faq")
        #expect(try await client.send(.PUT, "/faq", body: parsed)["change"]?.stringValue == "unchanged")
        _ = try await client.send(.POST, "/support/deploy", body: try JSONValue.parse(#"{"entity":\#(Self.agentEntity("support-v2"))}"#))
        let deployed = try await client.settled("support")
        try await gateway.stop()

        // Same file, same store: the file has not changed, so the deploy made since stays.
        let again = try await LiveGateway.start(yaml: Self.yaml(), directory: gateway.directory)
        let after = try #require(try await admin(again, .GET, "/support").json)
        #expect(after["config"]?["config_version"] == deployed["config"]?["config_version"])
        #expect(traffic(after) == ["support-v1": 0, "support-v2": 100])
        #expect(try await admin(again, .GET, "/faq").status == 200)
        let answer = try await again.post("/serving-endpoints/support/invocations", body: #"{"input":"hi"}"#)
        #expect(answer.headers["served-model-name"] == "support-v2")
        try await again.stop()
    }

    @Test func aRetiredVersionFinishesTheStreamItIsServing() async throws {
        let gateway = try await LiveGateway.start(yaml: """
            store: STORE
            server: {admin_token: \(Self.token)}
            providers: [{name: sim, kind: simulator, simulator: {tokens_per_second: 40}}]
            endpoints:
              - name: slow
                retention: {keep_zero_traffic_versions: 0}
                config:
                  served_entities: [{name: slow-v1, external_model: {provider: sim, name: gpt-sim}}]
            """)
        let (response, reader) = try await gateway.openStream("/v1/chat/completions", body: TestConfigs.chat("tell me", endpoint: "slow", stream: true))
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        _ = try await reader.next()
        // v2 takes all the traffic; with keep_zero_traffic_versions 0, v1 is retired at once.
        _ = try await admin(gateway, .POST, "/slow/deploy", body: #"{"entity":{"name":"slow-v2","external_model":{"provider":"sim","name":"gpt-sim"}}}"#)
        let after = try await settled(gateway, "slow")
        #expect(traffic(after) == ["slow-v2": 100])
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "slow")).headers["served-model-name"] == "slow-v2")
        let rest = try await reader.all()
        #expect(rest.last?.data == "[DONE]")
        let row = try #require(try await gateway.rows(for: requestID).inference)
        #expect(row["served_entity_name"] as String? == "slow-v1")
        #expect(row["stream_end"] as String? == "done")
        try await gateway.stop()
    }

    @Test func versionsAtZeroTrafficPastTheirMaximumAgeAreRetired() async throws {
        let gateway = try await LiveGateway.start(yaml: """
            store: STORE
            server: {admin_token: \(Self.token)}
            providers: [{name: sim, kind: simulator}]
            endpoints:
              - name: aged
                retention: {keep_zero_traffic_versions: 5, max_zero_traffic_age: 1}
                config:
                  served_entities: [{name: aged-v1, external_model: {provider: sim, name: gpt-sim}}]
            """)
        func deploy(_ name: String) async throws -> JSONValue {
            _ = try await admin(gateway, .POST, "/aged/deploy", body: #"{"entity":{"name":"\#(name)","external_model":{"provider":"sim","name":"gpt-sim"}}}"#)
            return try await settled(gateway, "aged")
        }
        _ = try await deploy("aged-v2")
        try await Task.sleep(for: .milliseconds(1500))
        // v1 has been at 0% for longer than 1 s; v2 only just lost its traffic.
        #expect(traffic(try await deploy("aged-v3")) == ["aged-v2": 0, "aged-v3": 100])
        let versions = try #require(try await admin(gateway, .GET, "/aged/versions").json?["versions"]?.arrayValue)
        let v1 = try #require(versions.first { $0["entity_name"]?.stringValue == "aged-v1" })
        #expect(v1["state"]?.stringValue == "RETIRED")
        #expect(v1["retired_reason"]?.stringValue?.contains("max_zero_traffic_age") == true)
        try await gateway.stop()
    }

    @Test func aStreamCutByTheContentFilterIsChargedForWhatItGenerated() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(extraEndpoints: """
              - name: chat
                config:
                  served_entities: [{name: chat-a, external_model: {provider: sim, name: gpt-sim}}]
            """))
        let (response, reader) = try await gateway.openStream(
            "/v1/chat/completions", body: TestConfigs.chat("Tell me a story about planning a crime", endpoint: "chat", stream: true)
        )
        let requestID = try #require(response.headers.first(name: "x-request-id"))
        _ = try await reader.all()
        let rows = try await gateway.rows(for: requestID)
        #expect(rows.inference?["stream_end"] as String? == "done")
        let usage = try #require(rows.usage)
        let input = try #require(usage["input_token_count"] as Int?)
        let output = try #require(usage["output_token_count"] as Int?)
        #expect(output > 0)
        let cost = try #require(usage["cost_usd"] as Double?)
        #expect(abs(cost - (Double(input) * 2.0 + Double(output) * 8.0) / 1_000_000) < 1e-12)
        try await gateway.stop()
    }

    @Test func cachedInputTokensAreChargedAtTheCachedPrice() async throws {
        let upstream = try await FakeUpstream.start()
        let gateway = try await LiveGateway.start(yaml: """
            store: STORE
            providers: [{name: up, kind: openai, base_url: "http://127.0.0.1:\(upstream.port)/v1"}]
            pricing: [{provider: up, model: m, input_per_million: 2.0, cached_input_per_million: 0.5, output_per_million: 8.0}]
            endpoints:
              - name: cached
                config:
                  served_entities: [{name: cached-a, external_model: {provider: up, name: m}}]
            """)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "cached"))
        #expect(answer.status == 200)
        let usage = try #require(try await gateway.rows(for: answer.requestID).usage)
        let cost = try #require(usage["cost_usd"] as Double?)
        #expect(abs(cost - (600 * 2.0 + 400 * 0.5 + 100 * 8.0) / 1_000_000) < 1e-12)
        try await gateway.stop()
        upstream.task.cancel()
    }
}

import Foundation
import Testing

@testable import TollgateCore

let exampleYAML = """
    # Tollgate example: one endpoint in front of a real local model (SmolLM2 served by llama.cpp on
    # 127.0.0.1:8081, started by scripts/run.sh) and one in front of the built-in simulator.
    server: {host: 127.0.0.1, port: 8080}
    store: sqlite:tollgate.db
    environment: dev
    limits:
      upstream_timeout_seconds: 120
    providers:
      - name: local
        kind: openai
        base_url: ${TOLLGATE_LOCAL_MODEL_URL:-http://127.0.0.1:8081/v1}
      - name: sim
        kind: simulator
        simulator: {latency_ms: 20, tokens_per_second: 400}
    endpoints:
      - name: smollm2
        config:
          served_entities:
            - name: smollm2-135m
              external_model: {provider: local, name: smollm2, task: llm/v1/chat}
          traffic_config:
            routes: [{served_entity_name: smollm2-135m, traffic_percentage: 100}]
        ai_gateway:
          inference_table_config: {enabled: true}
          usage_tracking_config: {enabled: true}
      - name: simulated
        config:
          served_entities:
            - name: sim-a
              external_model: {provider: sim, name: gpt-sim}
          traffic_config:
            routes: [{served_entity_name: sim-a, traffic_percentage: 100}]
        ai_gateway:
          inference_table_config: {enabled: true}
          usage_tracking_config: {enabled: true}
    """

/// A minimal valid configuration with one openai provider and one endpoint; `provider` and
/// `endpoint` replace the respective blocks.
func yaml(
    provider: String = """
          - name: p
            kind: openai
            base_url: http://127.0.0.1:9000/v1
        """,
    endpoint: String = """
          - name: e
            config:
              served_entities:
                - name: a
                  external_model: {provider: p, name: m}
        """,
    extra: String = ""
) -> String {
    """
    \(extra)
    providers:
    \(provider)
    endpoints:
    \(endpoint)
    """
}

/// Loads `text` expecting failure and returns the error.
func loadError(_ text: String, environment: [String: String] = [:]) throws -> ConfigError {
    try #require(throws: ConfigError.self) {
        try ConfigLoader(environment: environment).load(yaml: text)
    }
}

@Suite("Config loading")
struct ConfigTests {
    @Test func exampleFileTextLoadsWithDefaultsForUnsetVariables() throws {
        let config = try ConfigLoader(environment: [:]).load(yaml: exampleYAML)
        #expect(config.providers.count == 2)
        #expect(config.endpoints.count == 2)
        #expect(config.providers.map(\.name) == ["local", "sim"])
        #expect(config.providers[0].kind == .openai)
        #expect(config.providers[0].baseURL == "http://127.0.0.1:8081/v1")
        #expect(config.providers[1].kind == .simulator)
        #expect(config.providers[1].simulator == SimulatorConfig(latencyMs: 20, tokensPerSecond: 400))
        #expect(config.endpoints.map(\.name) == ["smollm2", "simulated"])
        let first = try #require(config.endpoint(named: "smollm2"))
        #expect(first.config.servedEntities == [
            ServedEntityConfig(name: "smollm2-135m", externalModel: ExternalModelConfig(provider: "local", name: "smollm2", task: "llm/v1/chat")),
        ])
        #expect(first.config.trafficConfig == TrafficConfig(routes: [TrafficRoute(servedEntityName: "smollm2-135m", trafficPercentage: 100)]))
        #expect(config.server == ServerConfig(host: "127.0.0.1", port: 8080))
        #expect(config.store == "sqlite:tollgate.db")
        #expect(config.environment == "dev")
        #expect(config.limits.upstreamTimeoutSeconds == 120)
    }

    @Test func exampleFileOnDiskLoads() throws {
        let url = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/tollgate.yaml")
        let config = try ConfigLoader(environment: ["TOLLGATE_SMOLLM2_GGUF": "/models/smol.gguf"]).load(path: url.path)
        let inline = try ConfigLoader(environment: [:]).load(yaml: exampleYAML)
        #expect(config.endpoints[1] == inline.endpoints[1])
        let local = try #require(config.endpoints[0].config.servedEntities[0].localModel)
        #expect(local.modelPath == "/models/smol.gguf")
        #expect(local.commandLine(host: "127.0.0.1", port: 9).contains("--port"))
        #expect(config.endpoints[0].config.servedEntities[0].scaleToZeroEnabled == true)
        #expect(config.pricing.count == 2)
        #expect(config.endpoints.map(\.name) == ["smollm2", "simulated", "smol-agent", "support-agent"])
        #expect(config.endpoints[3].config.servedEntities[0].agent?.onModelError == .respond("Sorry, I can't help with that request."))
        #expect(config.endpoints[2].config.servedEntities[0].agent?.model.endpoint == "smollm2")
    }

    @Test func routesNotSummingToOneHundredAreReported() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
                    - name: b
                      external_model: {provider: p, name: m2}
                  traffic_config:
                    routes:
                      - {served_entity_name: a, traffic_percentage: 60}
                      - {served_entity_name: b, traffic_percentage: 30}
            """)
        let error = try loadError(text)
        #expect(error.code == .invalid)
        let issue = try #require(error.issues.first)
        #expect(error.issues.count == 1)
        #expect(issue.description == "endpoints[0].config.traffic_config.routes: percentages sum to 90, expected 100")
    }

    @Test func unknownProviderIsReported() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: nope, name: m}
            """)
        let error = try loadError(text)
        #expect(error.issues == [
            ConfigIssue(path: "endpoints[0].config.served_entities[0].external_model.provider", message: "unknown provider \"nope\""),
        ])
    }

    @Test func routeToUnknownEntityIsReported() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
                  traffic_config:
                    routes: [{served_entity_name: ghost, traffic_percentage: 100}]
            """)
        let error = try loadError(text)
        #expect(error.issues == [
            ConfigIssue(path: "endpoints[0].config.traffic_config.routes[0].served_entity_name", message: "no served entity named \"ghost\""),
        ])
    }

    @Test func twoEntitiesWithoutTrafficConfigAreReported() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
                    - name: b
                      external_model: {provider: p, name: m}
            """)
        let error = try loadError(text)
        #expect(error.issues.map(\.path) == ["endpoints[0].config.traffic_config"])
    }

    @Test func typeMismatchNamesTheKeyPath() throws {
        let error = try loadError(yaml(extra: "server: {port: abc}"))
        #expect(error.code == .invalid)
        #expect(error.issues.count == 1)
        #expect(error.issues.first?.path == "server.port")
    }

    @Test func typeMismatchInsideASequenceUsesBracketIndices() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
                  traffic_config:
                    routes: [{served_entity_name: a, traffic_percentage: lots}]
            """)
        let error = try loadError(text)
        #expect(error.issues.map(\.path) == ["endpoints[0].config.traffic_config.routes[0].traffic_percentage"])
    }

    @Test func missingRequiredKeyNamesTheKeyPath() throws {
        let text = yaml(endpoint: """
              - name: e
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "endpoints[0].config", message: "required key is missing")])
    }

    @Test func missingRequiredKeyInSecondEntryNamesItsIndex() throws {
        let text = yaml(provider: """
              - name: p
                kind: openai
                base_url: http://127.0.0.1:9000/v1
              - name: q
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "providers[1].kind", message: "required key is missing")])
    }

    @Test func unknownProviderKindNamesTheKeyPath() throws {
        let text = yaml(provider: """
              - name: p
                kind: bedrock
                base_url: http://127.0.0.1:9000/v1
            """)
        let error = try loadError(text)
        #expect(error.code == .invalid)
        #expect(error.issues.map(\.path) == ["providers[0].kind"])
    }

    @Test func azureOpenAIRequiresAnAPIVersion() throws {
        let text = yaml(provider: """
              - name: p
                kind: azure-openai
                base_url: https://x.openai.azure.com
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "providers[0].api_version", message: "required for kind azure-openai")])

        let fixed = yaml(provider: """
              - name: p
                kind: azure-openai
                base_url: https://x.openai.azure.com
                api_version: 2024-10-21
            """)
        let config = try ConfigLoader(environment: [:]).load(yaml: fixed)
        #expect(config.providers[0].kind == .azureOpenAI)
        #expect(config.providers[0].apiVersion == "2024-10-21")
    }

    @Test func nonSimulatorProviderRequiresAnHTTPBaseURL() throws {
        let missing = try loadError(yaml(provider: """
              - name: p
                kind: openai
            """))
        #expect(missing.issues == [ConfigIssue(path: "providers[0].base_url", message: "required for kind openai")])

        let badScheme = try loadError(yaml(provider: """
              - name: p
                kind: anthropic
                base_url: ftp://example.com
            """))
        #expect(badScheme.issues == [ConfigIssue(path: "providers[0].base_url", message: "must start with http:// or https://")])
    }

    @Test func duplicateEndpointNamesAreReported() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "endpoints[1].name", message: "duplicate endpoint name \"e\"")])
    }

    @Test func duplicateProviderNamesAreReported() throws {
        let text = yaml(provider: """
              - name: p
                kind: openai
                base_url: http://127.0.0.1:9000/v1
              - name: p
                kind: simulator
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "providers[1].name", message: "duplicate provider name \"p\"")])
    }

    @Test func severalIssuesAreAllReported() throws {
        let text = yaml(
            endpoint: """
                  - name: a/b
                    config:
                      served_entities:
                        - name: x
                          external_model: {provider: nope, name: m}
                """,
            extra: "server: {port: 70000}\nstore: mysql://db"
        )
        let error = try loadError(text)
        #expect(error.issues.map(\.path) == [
            "server.port",
            "store",
            "endpoints[0].name",
            "endpoints[0].config.served_entities[0].external_model.provider",
        ])
    }

    @Test func defaultsApplyWhenSectionsAreOmitted() throws {
        let config = try ConfigLoader(environment: [:]).load(yaml: yaml())
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 8080)
        #expect(config.store == "sqlite:tollgate.db")
        #expect(config.environment == "dev")
        #expect(config.limits.maxRequestBytes == 10_485_760)
        #expect(config.limits.logPayloadLimitBytes == 1_048_576)
        #expect(config.limits.maxResponseBytes == 67_108_864)
        #expect(config.limits.upstreamTimeoutSeconds == 120)
        #expect(config.limits.connectTimeoutSeconds == 10)
        let endpoint = try #require(config.endpoints.first)
        #expect(endpoint.aiGateway.inferenceTableConfig.enabled)
        #expect(endpoint.aiGateway.usageTrackingConfig.enabled)
        #expect(endpoint.config.trafficConfig == nil)
        #expect(endpoint.config.servedEntities[0].servedEntityID == "a/1")
    }

    @Test func partialSectionsKeepDefaultsForOmittedKeys() throws {
        let text = yaml(
            endpoint: """
                  - name: e
                    config:
                      served_entities:
                        - name: a
                          entity_version: "3"
                          external_model: {provider: p, name: m}
                    ai_gateway:
                      usage_tracking_config: {enabled: false}
                """,
            extra: "server: {host: 0.0.0.0}\nlimits: {log_payload_limit_bytes: 2048}"
        )
        let config = try ConfigLoader(environment: [:]).load(yaml: text)
        #expect(config.server == ServerConfig(host: "0.0.0.0", port: 8080))
        #expect(config.limits.logPayloadLimitBytes == 2048)
        #expect(config.limits.maxRequestBytes == 10 * 1024 * 1024)
        let gateway = config.endpoints[0].aiGateway
        #expect(gateway.inferenceTableConfig.enabled == true)
        #expect(gateway.usageTrackingConfig.enabled == false)
        #expect(config.endpoints[0].config.servedEntities[0].servedEntityID == "a/3")
    }

    @Test func nonPositiveLimitsAreReported() throws {
        let error = try loadError(yaml(extra: "limits: {max_request_bytes: 0, upstream_timeout_seconds: -1}"))
        #expect(error.issues.map(\.path) == ["limits.max_request_bytes", "limits.upstream_timeout_seconds"])
    }

    @Test func yamlSyntaxErrorHasSyntaxCode() throws {
        let error = try loadError("providers: [unclosed")
        #expect(error.code == .syntax)
        #expect(error.issues.count == 1)
        #expect(error.issues.first?.path == "")
    }

    @Test func unreadableFileHasUnreadableCode() throws {
        do {
            _ = try ConfigLoader(environment: [:]).load(path: "/nonexistent/tollgate-config.yaml")
            Issue.record("expected a ConfigError")
        } catch {
            #expect(error.code == .unreadable)
            #expect(error.description == "cannot read /nonexistent/tollgate-config.yaml")
        }
    }
}

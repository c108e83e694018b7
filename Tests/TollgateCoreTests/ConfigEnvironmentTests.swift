import Testing

@testable import TollgateCore

@Suite("Config: environment references")
struct ConfigEnvironmentTests {
    @Test func environmentValueReplacesTheDefault() throws {
        let config = try ConfigLoader(environment: ["TOLLGATE_LOCAL_MODEL_URL": "https://models.example.com/v1"]).load(yaml: exampleYAML)
        #expect(config.providers[0].baseURL == "https://models.example.com/v1")
    }

    @Test func emptyEnvironmentValueFallsBackToTheDefault() throws {
        let config = try ConfigLoader(environment: ["TOLLGATE_LOCAL_MODEL_URL": ""]).load(yaml: exampleYAML)
        #expect(config.providers[0].baseURL == "http://127.0.0.1:8081/v1")
    }

    @Test func variablesAreSubstitutedFromTheGivenEnvironment() throws {
        let text = yaml(provider: """
              - name: p
                kind: openai
                base_url: https://${HOST}/v1
                api_key: ${SECRET_KEY}
                headers: {x-team: "team-${TEAM}"}
            """)
        let config = try ConfigLoader(environment: ["SECRET_KEY": "sk-test-123", "HOST": "api.example.com", "TEAM": "ml"]).load(yaml: text)
        #expect(config.providers[0].apiKey == "sk-test-123")
        #expect(config.providers[0].baseURL == "https://api.example.com/v1")
        #expect(config.providers[0].headers == ["x-team": "team-ml"])
    }

    @Test func substitutedNumbersDecodeAsNumbers() throws {
        let text = yaml(extra: "server:\n  port: ${PORT}")
        let config = try ConfigLoader(environment: ["PORT": "9191"]).load(yaml: text)
        #expect(config.server.port == 9191)
    }

    @Test func missingVariableNamesItsKeyPath() throws {
        let text = yaml(provider: """
              - name: p
                kind: openai
                base_url: http://127.0.0.1:9000/v1
                api_key: ${SECRET_KEY}
            """)
        let error = try loadError(text)
        #expect(error.code == .invalid)
        #expect(error.issues == [ConfigIssue(path: "providers[0].api_key", message: "environment variable SECRET_KEY is not set")])
        #expect(error.description == "providers[0].api_key: environment variable SECRET_KEY is not set")
    }

    /// Tool-server `env` keeps its references as written (resolved when the server starts), so
    /// the secrets it carries are not stored with the endpoint; an unset variable is still an error.
    @Test func toolServerEnvironmentKeepsItsReferences() throws {
        let text = """
            providers: [{name: sim, kind: simulator}]
            endpoints:
              - name: agent
                config:
                  served_entities:
                    - name: agent-v1
                      agent:
                        instructions: Help.
                        model: {provider: sim, name: gpt-sim}
                        tools: [{mcp: {command: [python3, tool.py], env: {TOKEN: "${TOOL_TOKEN}", MODE: plain}}}]
            """
        let config = try ConfigLoader(environment: ["TOOL_TOKEN": "secret-value"]).load(yaml: text)
        let env = config.endpoints[0].config.servedEntities[0].agent?.tools.first?.mcp.env
        #expect(env == ["TOKEN": "${TOOL_TOKEN}", "MODE": "plain"])
        let error = try #require(throws: ConfigError.self) { try ConfigLoader(environment: [:]).load(yaml: text) }
        #expect(error.issues == [
            ConfigIssue(path: "endpoints[0].config.served_entities[0].agent.tools[0].mcp.env.TOKEN", message: "environment variable TOOL_TOKEN is not set"),
        ])
        #expect(EnvironmentReferences.expand("${TOOL_TOKEN}-${NONE:-x}", environment: ["TOOL_TOKEN": "v"]) == .success("v-x"))
    }

    @Test func unterminatedReferenceIsReported() throws {
        let text = yaml(provider: """
              - name: p
                kind: openai
                base_url: ${HOST
            """)
        let error = try loadError(text)
        #expect(error.issues == [ConfigIssue(path: "providers[0].base_url", message: "unterminated ${ reference")])
    }
}

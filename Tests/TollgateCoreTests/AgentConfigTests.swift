import Foundation
import Testing

@testable import TollgateCore

@Suite("Agent configuration")
struct AgentConfigTests {
    func load(_ agent: String, extra: String = "") throws(ConfigError) -> GatewayConfig {
        try ConfigLoader(environment: [:]).load(yaml: """
            providers: [{name: sim, kind: simulator}]
            endpoints:
              - {name: model, config: {served_entities: [{name: m, external_model: {provider: sim, name: x}}]}}
              - name: agent
                config:
                  served_entities:
                    - name: a
                      agent: \(agent)
            \(extra)
            """)
    }

    func issues(_ agent: String) -> [String] {
        do {
            _ = try load(agent)
            return []
        } catch {
            return error.issues.map(\.description)
        }
    }

    @Test func policiesAndParametersDecode() throws {
        let config = try load(#"{model: {endpoint: model}, parameters: {temperature: 0.5, max_tokens: 10}, on_model_error: {respond: "no"}, max_steps: 3}"#)
        let agent = try #require(config.endpoints[1].config.servedEntities[0].agent)
        #expect(agent.onModelError == .respond("no"))
        #expect(agent.parameters?["max_tokens"]?.intValue == 10)
        #expect(agent.maxSteps == 3)
        let propagate = try load("{model: {provider: sim, name: x}, on_model_error: propagate}")
        #expect(propagate.endpoints[1].config.servedEntities[0].agent?.onModelError == .propagate)
    }

    @Test func badAgentsNameTheirKeyPath() {
        let base = "endpoints[1].config.served_entities[0].agent"
        #expect(issues("{model: {endpoint: nowhere}}") == ["\(base).model.endpoint: unknown endpoint \"nowhere\""])
        #expect(issues("{model: {endpoint: agent}}") == ["\(base).model.endpoint: an agent cannot call its own endpoint"])
        #expect(issues("{model: {provider: ghost, name: x}}") == ["\(base).model.provider: unknown provider \"ghost\""])
        #expect(issues("{model: {name: x}}") == ["\(base).model: give either endpoint, or provider and name"])
        #expect(issues("{model: {endpoint: model}, max_steps: 0}") == ["\(base).max_steps: must be at least 1"])
        #expect(issues("{model: {endpoint: model}, on_model_error: shrug}").first?.hasPrefix("\(base).on_model_error") == true)
    }
}

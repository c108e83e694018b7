import Testing
@testable import TollgateCore

@Suite("Databricks' inline provider configs and route names")
struct InlineProviderTests {
    static func yaml(_ openaiConfig: String) -> String {
        """
        endpoints:
          - name: gpt
            config:
              served_entities:
                - name: gpt-a
                  external_model: {name: gpt-4o, provider: openai, openai_config: \(openaiConfig)}
              traffic_config: {routes: [{served_model_name: gpt-a, traffic_percentage: 100}]}
        """
    }

    @Test func anOpenAIConfigIsAProviderWithItsKeyReferenceKept() throws {
        let config = try ConfigLoader(environment: ["KEY": "sk-1"]).load(yaml: Self.yaml("{openai_api_key: \"${KEY}\", openai_api_base: \"http://h/v1\"}"))
        let model = try #require(config.endpoints[0].config.servedEntities[0].externalModel)
        #expect(model.openaiConfig?.openaiAPIKey == "${KEY}")  // kept as written: never stored expanded
        #expect(config.endpoints[0].config.trafficConfig?.routes[0].servedEntityName == "gpt-a")
        let provider = try #require(config.provider(for: model, environment: ["KEY": "sk-1"]))
        #expect(provider.kind == .openai && provider.baseURL == "http://h/v1" && provider.apiKey == "sk-1")
        #expect(config.provider(for: model, environment: [:]) == nil)
    }

    @Test func azureTypeCallsTheNamedDeployment() throws {
        let config = try ConfigLoader(environment: ["KEY": "k"]).load(yaml: Self.yaml(
            "{openai_api_key: \"${KEY}\", openai_api_type: azure, openai_api_base: \"https://r.openai.azure.com\", openai_deployment_name: prod}"))
        let model = try #require(config.endpoints[0].config.servedEntities[0].externalModel)
        #expect(model.inlineProvider?.kind == .azureOpenAI)
        #expect(model.upstreamName == "prod")
    }

    @Test func plaintextLiteralAndSecretKeysAreRefused() throws {
        for (body, path) in [
            ("{openai_api_key_plaintext: sk-x}", "openai_config.openai_api_key_plaintext"),
            ("{openai_api_key: sk-literal}", "openai_config.openai_api_key"),
            ("{openai_api_key: \"{{secrets/scope/key}}\"}", "openai_config.openai_api_key"),
        ] {
            let error = try loadError(Self.yaml(body))
            #expect(error.issues.contains { $0.path.hasSuffix("external_model.\(path)") }, "\(body)")
        }
    }
}

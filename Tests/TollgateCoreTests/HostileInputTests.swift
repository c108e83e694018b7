import Foundation
import Testing

@testable import TollgateCore

@Suite("Numbers a client controls: exact, range-checked, never a trap")
struct NumberSafetyTests {
    @Test func hugeNumbersConvertToNilInsteadOfTrapping() throws {
        for text in ["1e19", "1e300", "1e999", "-1e999", "9223372036854775808", "2.5"] {
            let value = try JSONValue.parse(text)
            #expect(value.intValue == nil, "\(text)")
            #expect(value.countValue == nil, "\(text)")
        }
        #expect(try JSONValue.parse("1e3").intValue == 1000)
        #expect(try JSONValue.parse("9223372036854775807").intValue == Int.max)
        #expect(try JSONValue.parse("-5").countValue == nil)
    }

    @Test func integersAndOutOfRangeValuesAreReEncodedExactly() throws {
        let text = #"{"a":9007199254740993,"b":1e999,"c":-0.0,"d":123456789012345678901234567890,"e":0.1}"#
        let value = try JSONValue.parse(text)
        #expect(value.jsonText == text)
        #expect(value["a"]?.intValue == 9_007_199_254_740_993)
        #expect(try JSONValue.parse("[1.0]") == .array([1]))
    }

    @Test func tokenCountsPastTheLimitAreIgnoredNotSummed() throws {
        let usage = try JSONValue.parse(#"{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}"#)
        #expect(TokenEstimator.reported(in: usage) == nil)
        let small = try JSONValue.parse(#"{"prompt_tokens":3,"completion_tokens":4}"#)
        #expect(TokenEstimator.reported(in: small)?.input == 3)
    }

    @Test func anthropicTranslationAndTheEstimatorSurviveHugeLimits() throws {
        let chat = try #require(try JSONValue.parse(#"{"model":"m","max_tokens":1e19,"messages":[{"role":"user","content":"hi"}]}"#).objectValue)
        let messages = AnthropicTranslation.messagesRequest(fromChat: chat, upstreamModel: "claude")
        #expect(messages["max_tokens"]?.intValue != nil)
        #expect(TokenEstimator.estimateInput(parsed: .object(chat)) > 0)
    }

    @Test func trafficPercentagesThatWouldOverflowAreReportedNotSummed() throws {
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
                      - {served_entity_name: a, traffic_percentage: 9223372036854775807}
                      - {served_entity_name: b, traffic_percentage: 9223372036854775807}
            """)
        let error = try loadError(text)
        #expect(error.issues.map(\.description).contains("endpoints[0].config.traffic_config.routes[0].traffic_percentage: must be between 0 and 100"))
        let scaled = VersionPlans.scale([TrafficRoute(servedEntityName: "a", trafficPercentage: .max), TrafficRoute(servedEntityName: "b", trafficPercentage: .max)], to: 100)
        #expect(scaled.map(\.trafficPercentage).reduce(0, +) == 100)
    }
}

@Suite("Request bodies: one value per key, OpenAI's checks on every route")
struct RequestRulesTests {
    func scan(_ text: String, all: Bool = false) throws -> RequestMembers {
        try RequestMembers.scan(Array(text.utf8), parsing: RequestRules.checkedKeys, parseAll: all)
    }

    func refusal(_ text: String, needsMessages: Bool = true) throws -> TranslationError {
        try #require(throws: TranslationError.self) {
            try RequestRules.check(try scan(text), needsMessages: needsMessages)
        }
    }

    @Test func duplicateTopLevelKeysAreRefusedWhateverTheirSpelling() throws {
        for text in [#"{"model":"chat","model":"o1-pro"}"#, #"{"model":"chat","mod\u0065l":"o1-pro"}"#] {
            let error = try #require(throws: TranslationError.self) { try scan(text) }
            #expect(error.param == "model")
        }
        // Nested duplicates are the upstream's business, not routing's.
        _ = try scan(#"{"model":"m","metadata":{"a":1,"a":2}}"#)
    }

    @Test func theUpstreamBodyCarriesExactlyOneModelAndEveryOtherByte() throws {
        let body = try scan(#"{ "messages": [{"role":"user","content":"hi"}], "seed": 9007199254740993 , "model":"chat"}"#)
        let out = String(decoding: body.settingOnly("model", to: "gpt-4o"), as: UTF8.self)
        #expect(out == #"{"model":"gpt-4o","messages": [{"role":"user","content":"hi"}],"seed": 9007199254740993}"#)
        #expect(try JSONValue.parse(out)["model"] == "gpt-4o")
    }

    @Test func outOfRangeNumbersNameTheirParameter() throws {
        let messages = #""messages":[{"role":"user","content":"hi"}]"#
        for (field, value) in [("max_tokens", "1e19"), ("max_tokens", "1e300"), ("max_completion_tokens", "0"), ("max_output_tokens", "1e999"),
                               ("temperature", "3"), ("top_p", "-1"), ("n", "100000"), ("seed", "1e30")] {
            let error = try refusal("{\"model\":\"m\",\(messages),\"\(field)\":\(value)}")
            #expect(error.param == field, "\(field)=\(value)")
            #expect(error.code == .invalidRequest)
        }
        try RequestRules.check(try scan("{\"model\":\"m\",\(messages),\"max_tokens\":16,\"temperature\":0.7,\"seed\":-3}"), needsMessages: true)
    }

    @Test func wrongTypesAreRefused() throws {
        let messages = #""messages":[{"role":"user","content":"hi"}]"#
        #expect(try refusal("{\(messages),\"stream\":\"yes\"}").param == "stream")
        #expect(try refusal("{\(messages),\"max_tokens\":2.5}").param == "max_tokens")
        #expect(try refusal("{\(messages),\"temperature\":\"hot\"}").param == "temperature")
        #expect(try refusal("{\(messages),\"stream_options\":true}").param == "stream_options")
    }

    @Test func messagesAreCheckedAsOpenAIChecksThem() throws {
        #expect(try refusal(#"{"model":"m"}"#).message == "Missing required parameter: 'messages'.")
        #expect(try refusal(#"{"model":"m","messages":[]}"#).message.contains("empty array"))
        #expect(try refusal(#"{"model":"m","messages":"hi"}"#).param == "messages")
        #expect(try refusal(#"{"model":"m","messages":[{"role":"user","content":"a"},{"role":"wizard","content":"b"}]}"#).param == "messages[1].role")
        #expect(try refusal(#"{"model":"m","messages":[{"content":"a"}]}"#).param == "messages[0].role")
        #expect(try refusal(#"{"model":"m","messages":[3]}"#).param == "messages[0].role")
        // Parsed (Responses and invocations) and walked (chat) bodies agree.
        let text = #"{"messages":[{"role":"developer","content":"a"},{"role":"tool","content":"b"}]}"#
        #expect(try scan(text).messages == (try scan(text, all: true)).messages)
    }

    @Test func bodiesThatAreNotOneObjectAreInvalidJSON() throws {
        // Truncated anywhere inside `messages` (found by the fuzzer: the walk read past the end).
        for text in [#"{"messages":"#, #"{"messages":["#, #"{"messages":[4,2,"#, #"{"messages":[{"role":"#, #"{"messages":[{"#] {
            let error = try #require(throws: TranslationError.self) { try scan(text) }
            #expect(error.code == .invalidJSON, "\(text)")
        }
        for text in ["[1]", "{", #"{"a":1} x"#, "", #"{"a":01}"#] {
            let error = try #require(throws: TranslationError.self) { try scan(text) }
            #expect(error.code == .invalidJSON, "\(text)")
        }
    }
}

@Suite("Configuration keys: unknown ones are errors, Databricks-only ones warnings")
struct UnknownKeyTests {
    @Test func unknownKeysNameTheirPathAndTheClosestKnownKey() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      external_model: {provider: p, name: m}
                ai_gateway:
                  rate_limit: [{calls: 1, renewal_period: minute}]
            """, extra: "server: {authentication: keys}")
        let error = try loadError(text)
        let lines = error.issues.map(\.description)
        #expect(lines.contains("endpoints[0].ai_gateway.rate_limit: unknown key (did you mean rate_limits?)") || lines.contains { $0.hasPrefix("endpoints[0].ai_gateway.rate_limit: unknown key") })
        #expect(lines.contains { $0.hasPrefix("server.authentication: unknown key") })
    }

    @Test func databricksOnlyKeysAreWarnings() throws {
        let text = yaml(endpoint: """
              - name: e
                config:
                  served_entities:
                    - name: a
                      workload_type: CPU
                      external_model: {provider: p, name: m}
                ai_gateway:
                  inference_table_config: {enabled: true, catalog_name: main, schema_name: logs}
            """)
        let (_, warnings) = try ConfigLoader(environment: [:]).loadWithWarnings(yaml: text)
        #expect(Set(warnings.map(\.path)) == [
            "endpoints[0].ai_gateway.inference_table_config.catalog_name", "endpoints[0].ai_gateway.inference_table_config.schema_name",
            "endpoints[0].config.served_entities[0].workload_type",
        ])
    }

    @Test func governanceKeysDecodeAndAMistypedGuardrailFieldIsRefused() throws {
        let good = #"{"rate_limits":[{"key":"user","calls":1,"renewal_period":"minute"}],"guardrails":{"input":{"pii":{"behavior":"MASK"}}},"fallback_config":{"enabled":true}}"#
        let (settings, _) = try StrictDecoding.decodeJSON(AIGatewayConfig.self, from: Data(good.utf8))
        #expect(settings.rateLimits.first?.calls == 1)
        #expect(settings.guardrails?.input?.pii?.behavior == .mask)
        #expect(settings.fallbackEnabled)
        let typo = #"{"guardrails":{"input":{"invalid_keyword":["rob"]}}}"#
        let error = try #require(throws: ConfigError.self) { try StrictDecoding.decodeJSON(AIGatewayConfig.self, from: Data(typo.utf8)) }
        #expect(error.issues.map(\.path) == ["guardrails.input.invalid_keyword"])
        #expect(error.issues.first?.message == "unknown key (did you mean invalid_keywords?)")
    }

    @Test func adminBodiesAreCheckedTheSameWay() throws {
        let body = #"{"name":"e","config":{"served_entities":[{"name":"a","external_model":{"provider":"p","name":"m","tasks":"x"}}]}}"#
        let error = try #require(throws: ConfigError.self) { try StrictDecoding.decodeJSON(EndpointConfig.self, from: Data(body.utf8)) }
        #expect(error.issues.map(\.path) == ["config.served_entities[0].external_model.tasks"])
        #expect(error.issues.first?.message == "unknown key (did you mean task?)")
    }

    @Test func agentModelShorthandNamesAnEndpoint() throws {
        let body = #"{"instructions":"be brief","model":"chat"}"#
        let agent = try StrictDecoding.decodeJSON(AgentConfig.self, from: Data(body.utf8)).value
        #expect(agent.model == AgentModelConfig(endpoint: "chat"))
    }
}

@Suite("Small things")
struct SmallThingsTests {
    @Test func csvFieldsWithAnyLineBreakAreQuoted() {
        #expect(CSVText.field("a\r\nb") == "\"a\r\nb\"")
        #expect(CSVText.field("a\rb") == "\"a\rb\"")
        #expect(CSVText.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVText.field("plain") == "plain")
    }
}

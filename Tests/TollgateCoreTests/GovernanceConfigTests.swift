import Foundation
import Testing
@testable import TollgateCore

/// Bad governance configuration is a `validate` error naming the key path.
@Suite("Governance configuration")
struct GovernanceConfigTests {
    static func load(_ gateway: String, permissions: String = "[]", server: String = "{}") throws -> GatewayConfig {
        try ConfigLoader(environment: [:]).load(yaml: """
            server: \(server)
            providers: [{name: p, kind: simulator}]
            endpoints:
              - name: e
                permissions: \(permissions)
                ai_gateway: \(gateway)
                config:
                  served_entities: [{name: a, external_model: {provider: p, name: m}}]
              - name: judge
                config:
                  served_entities: [{name: j, external_model: {provider: p, name: m}}]
            """)
    }

    static func issues(_ gateway: String, permissions: String = "[]") -> [String] {
        do {
            _ = try load(gateway, permissions: permissions)
            return []
        } catch let error as ConfigError {
            return error.issues.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aWellFormedGovernedEndpointLoads() throws {
        let config = try Self.load("""
            {rate_limits: [{key: user, calls: 10}, {key: user_group, principal: eng, tokens: 5000}],
             guardrails: {input: {safety: true, pii: {behavior: MASK, entities: [EMAIL]}, judge: {endpoint: judge}},
                          output: {pii: {behavior: BLOCK}, patterns: [{name: ticket, regex: "TCK-[0-9]+"}]}},
             fallback_config: {enabled: true}}
            """, permissions: "[{group: eng, level: CAN_QUERY}]", server: "{auth: keys, default_permission: NONE}")
        let gateway = config.endpoints[0].aiGateway
        #expect(gateway.rateLimits.count == 2)
        #expect(gateway.guardrails?.input?.pii?.detectors == [.email])
        #expect(gateway.guardrails?.output?.patterns.first?.behavior == .block)
        #expect(config.endpoints[0].permissions == [EndpointPermission(subject: .group("eng"), level: .canQuery)])
        #expect(config.server.auth == .keys && config.server.defaultPermission == nil)
    }

    @Test func aLimitWithNeitherCallsNorTokensNamesItsPath() {
        #expect(Self.issues("{rate_limits: [{key: user}]}").contains { $0.hasPrefix("endpoints[0].ai_gateway.rate_limits[0]") })
    }

    @Test func anUnknownGuardrailFieldNamesItsPath() {
        #expect(Self.issues("{guardrails: {input: {pii: {behavior: MASK, entity: [EMAIL]}}}}")
            .contains { $0.hasPrefix("endpoints[0].ai_gateway.guardrails.input.pii.entity: unknown key") })
        #expect(Self.issues("{guardrails: {input: {safty: true}}}")
            .contains { $0.hasPrefix("endpoints[0].ai_gateway.guardrails.input.safty: unknown key (did you mean safety?)") })
    }

    @Test func aJudgeEndpointThatDoesNotExistNamesItsPath() {
        #expect(Self.issues("{guardrails: {input: {safety: true, judge: {endpoint: nope}}}}")
            == [#"endpoints[0].ai_gateway.guardrails.input.judge.endpoint: no endpoint named "nope""#])
        #expect(Self.issues("{guardrails: {input: {safety: true}}}")
            == ["endpoints[0].ai_gateway.guardrails.input.judge: safety and valid_topics need a judge endpoint ({endpoint: NAME})"])
    }

    @Test func badPatternsTopicsAndPermissionsAreRefused() {
        #expect(Self.issues(#"{guardrails: {input: {patterns: [{name: x, regex: "([a-"}]}}}"#)
            == ["endpoints[0].ai_gateway.guardrails.input.patterns[0].regex: is not a valid regular expression"])
        #expect(Self.issues("{guardrails: {output: {valid_topics: [billing], judge: {endpoint: judge}}}}")
            == ["endpoints[0].ai_gateway.guardrails.output.valid_topics: applies to input only"])
        #expect(!Self.issues("{}", permissions: "[{user: a, group: b, level: CAN_QUERY}]").isEmpty)
        #expect(!Self.issues("{}", permissions: "[{user: a, level: CAN_EAT}]").isEmpty)
    }

    @Test func permissionLevelsIncludeTheWeakerOnes() {
        let alice = Requester(name: "alice", groups: ["eng"], isServicePrincipal: false)
        let entries = [EndpointPermission(subject: .group("eng"), level: .canView), EndpointPermission(subject: .user("alice"), level: .canManage)]
        #expect(EndpointAccess.level(of: alice, in: entries, defaultLevel: nil) == .canManage)
        #expect(EndpointAccess.level(of: Requester(name: "bob", groups: [], isServicePrincipal: false), in: entries, defaultLevel: .canQuery) == nil)
        #expect(EndpointAccess.level(of: alice, in: [], defaultLevel: .canQuery) == .canQuery)
        #expect(PermissionLevel.canView < .canQuery && PermissionLevel.canQuery < .canManage)
        let robot = Requester(name: "alice", groups: [], isServicePrincipal: true)
        #expect(EndpointAccess.level(of: robot, in: [EndpointPermission(subject: .user("alice"), level: .canQuery)], defaultLevel: nil) == nil)
    }
}

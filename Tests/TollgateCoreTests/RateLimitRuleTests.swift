import Foundation
import Testing
@testable import TollgateCore

@Suite("Rate limits: configuration")
struct RateLimitRuleTests {
    @Test func decodesDatabricksShapeWithDefaults() throws {
        let json = #"[{"calls":5},{"key":"USER_GROUP","principal":"ml","tokens":10,"renewal_period":"MINUTE"}]"#
        let rules = try JSONDecoder().decode([RateLimitRule].self, from: Data(json.utf8))
        #expect(rules == [RateLimitRule(key: .endpoint, calls: 5), RateLimitRule(key: .userGroup, principal: "ml", tokens: 10)])
        let encoded = try JSONEncoder().encode(rules[1])
        #expect(try JSONDecoder().decode(RateLimitRule.self, from: encoded) == rules[1])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RateLimitRule.self, from: Data(#"{"key":"team","calls":1}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(RateLimitRule.self, from: Data(#"{"calls":1,"renewal_period":"hour"}"#.utf8)) }
    }

    @Test func validationNamesEachProblemByItsPath() {
        let rules = [
            RateLimitRule(key: .user, calls: 10),
            RateLimitRule(key: .user),
            RateLimitRule(key: .endpoint, principal: "x", calls: 0, tokens: -5),
            RateLimitRule(key: .userGroup, tokens: 10),
            RateLimitRule(key: .user, calls: 3),
            RateLimitRule(key: .servicePrincipal, principal: " ", calls: 1),
        ]
        let base = "endpoints[0].ai_gateway.rate_limits"
        let issues = RateLimitRule.validate(rules, path: base)
        #expect(issues == [
            ConfigIssue(path: "\(base)[1]", message: "set calls, tokens or both: a limit needs something to count"),
            ConfigIssue(path: "\(base)[1]", message: "has the same key and principal as \(base)[0]; put both limits in one entry"),
            ConfigIssue(path: "\(base)[2].calls", message: "must be at least 1 (got 0); leave it out to count no calls"),
            ConfigIssue(path: "\(base)[2].tokens", message: "must be at least 1 (got -5); leave it out to count no tokens"),
            ConfigIssue(path: "\(base)[2].principal", message: "an endpoint limit counts all traffic and takes no principal"),
            ConfigIssue(path: "\(base)[3].principal", message: "a user_group limit needs the group's name"),
            ConfigIssue(path: "\(base)[4]", message: "has the same key and principal as \(base)[0]; put both limits in one entry"),
            ConfigIssue(path: "\(base)[5].principal", message: "must not be empty; leave it out for the default limit"),
        ])
        #expect(RateLimitRule.validate([RateLimitRule(key: .user, principal: "a", calls: 1), RateLimitRule(key: .user, calls: 1)], path: base).isEmpty)
    }
}

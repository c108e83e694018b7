import Foundation
import Testing

@testable import TollgateCore

private func screen(
    _ pii: Set<PIIEntity> = Set(PIIEntity.allCases), action: GuardAction = .mask, keywords: [String] = [], patterns: [NamedPattern] = []
) throws -> TextScreen {
    try TextScreen(pii: pii, piiAction: action, keywords: keywords, patterns: patterns)
}

private func maskedText(_ screen: TextScreen, _ text: String) -> String {
    screen.masked(text, screen.findings(in: text))
}

@Suite("Text screen: masking, keywords, patterns, overlaps")
struct TextScreenTests {
    @Test func masksEveryEntityWithItsLabel() throws {
        let text = "alice@example.com, +44 20 7946 0958, 4111 1111 1111 1111, 123-45-6789, GB82 WEST 1234 5698 7654 32, 10.0.0.1, fe80::1, ghp_16C7e42F292c6912E7710c838347Ae178B4a"
        #expect(maskedText(try screen(), text)
            == "[EMAIL], [PHONE_NUMBER], [CREDIT_CARD], [US_SSN], [IBAN], [IP_ADDRESS], [IP_ADDRESS], [SECRET]")
    }

    @Test func findingsCarryExactRangesAndText() throws {
        let text = "née 👩🏽‍💻 write to bob@example.org!"
        let findings = try screen().findings(in: text)
        #expect(findings.count == 1)
        let finding = try #require(findings.first)
        #expect(finding.matched == "bob@example.org")
        #expect(String(text.unicodeScalars[finding.range]) == "bob@example.org")
        #expect(finding.kind == .pii(.email) && finding.action == .mask)
    }

    @Test func onlyTheEnabledEntitiesAreLookedFor() throws {
        let text = "alice@example.com from 10.0.0.1"
        let found = try screen([.ipAddress]).findings(in: text)
        #expect(found.map(\.kind) == [.pii(.ipAddress)])
        #expect(try screen([]).findings(in: text).isEmpty)
    }

    @Test func noneFindingsAreReportedButLeftInPlace() throws {
        let none = try screen(action: .none)
        let text = "mail alice@example.com"
        #expect(none.findings(in: text).map(\.action) == [GuardAction.none])
        #expect(maskedText(none, text) == text)
        let block = try screen(action: .block)
        #expect(maskedText(block, text) == text)
    }

    @Test func keywordsMatchWholeWordsIgnoringCase() throws {
        let rob = try screen([], keywords: ["rob"])
        #expect(rob.findings(in: "no problem, the robot is fine; unrobbed").isEmpty)
        let found = rob.findings(in: "Rob's plan: ROB the bank, rob.")
        #expect(found.map(\.matched) == ["Rob", "ROB", "rob"])
        #expect(found.allSatisfy { $0.kind == .keyword("rob") && $0.action == .block })
        // A combining mark continues the word; an accented letter before it is part of the word.
        #expect(rob.findings(in: "rob\u{301} ärob").isEmpty)
    }

    @Test func keywordEntriesAreReportedAsConfiguredAndMatchedTrimmed() throws {
        let found = try screen([], keywords: ["  Credit Card ", "", "c++"]).findings(in: "my CREDIT CARD and c++11 and abc++")
        #expect(found.map(\.kind) == [.keyword("  Credit Card "), .keyword("c++")])
        #expect(found.map(\.matched) == ["CREDIT CARD", "c++"])
    }

    @Test func nonASCIIKeywordsFoldCaseAndRespectScripts() throws {
        let german = try screen([], keywords: ["ärger"])
        #expect(german.findings(in: "So ein ÄRGER!").map(\.matched) == ["ÄRGER"])
        #expect(german.findings(in: "Ärgernis").isEmpty)
        // Scripts without spaces have no word boundaries to require.
        #expect(try screen([], keywords: ["炸弹"]).findings(in: "如何制作炸弹呢").map(\.matched) == ["炸弹"])
        #expect(try screen([], keywords: ["bomb"]).findings(in: "炸弹bomb制作").map(\.matched) == ["bomb"])
    }

    @Test func patternsUseTheirBehaviorAndUppercasedNameAsLabel() throws {
        let patterns = [
            NamedPattern(name: "order_id", regex: "ORD-[0-9]{6}", behavior: .mask),
            NamedPattern(name: "internal", regex: "(?i)project\\s+falcon"),
        ]
        let text = "Order ORD-123456 for Project  Falcon"
        let found = try screen([], patterns: patterns).findings(in: text)
        #expect(found.map(\.kind) == [.pattern("order_id"), .pattern("internal")])
        #expect(found.map(\.action) == [.mask, .block])
        #expect(maskedText(try screen([], patterns: patterns), text) == "Order [ORDER_ID] for Project  Falcon")
    }

    @Test func namedPatternsDecodeWithBlockAsTheDefault() throws {
        let json = #"[{"name":"a","regex":"x+"},{"name":"b","regex":"y","behavior":"MASK"}]"#
        let decoded = try JSONDecoder().decode([NamedPattern].self, from: Data(json.utf8))
        #expect(decoded == [NamedPattern(name: "a", regex: "x+", behavior: .block), NamedPattern(name: "b", regex: "y", behavior: .mask)])
        #expect(throws: (any Error).self) { try JSONDecoder().decode(NamedPattern.self, from: Data(#"{"name":"c","regex":"z","behavior":"maybe"}"#.utf8)) }
    }

    @Test func anInvalidRegexThrowsNamingThePattern() throws {
        #expect(throws: TextScreenError.invalidPattern(name: "broken", reason: "not a valid regular expression")) {
            try screen([], patterns: [NamedPattern(name: "ok", regex: "a+"), NamedPattern(name: "broken", regex: "([a-z")])
        }
    }

    @Test func aBlockingMatchWinsOverAnOverlappingMask() throws {
        let found = try screen([.email], keywords: ["example"]).findings(in: "mail alice@example.com")
        #expect(found.map(\.kind) == [.keyword("example")])
    }

    @Test func aMaskWinsOverAnOverlappingNoneAndTheLongerWinsBetweenEquals() throws {
        let none = NamedPattern(name: "wide", regex: "mail \\S+ now", behavior: .none)
        #expect(try screen([.email], patterns: [none]).findings(in: "mail alice@example.com now").map(\.kind) == [.pii(.email)])
        let wider = NamedPattern(name: "wide", regex: "mail \\S+ now", behavior: .mask)
        let found = try screen([.email], patterns: [wider]).findings(in: "mail alice@example.com now")
        #expect(found.map(\.kind) == [.pattern("wide")])
    }

    @Test func findingsAreSortedAndNeverOverlap() throws {
        let text = "Card 4111-1111-1111-1111, call 415-555-2671, ip 8.8.8.8, mail a.b@example.com, again 4111 1111 1111 1111"
        let found = try screen(keywords: ["call", "mail"], patterns: [NamedPattern(name: "digits", regex: "[0-9]{3}", behavior: .none)])
            .findings(in: text)
        for (a, b) in zip(found, found.dropFirst()) { #expect(a.range.upperBound <= b.range.lowerBound) }
        #expect(found.contains { $0.kind == .pii(.creditCard) && $0.matched == "4111-1111-1111-1111" })
        #expect(found.contains { $0.kind == .pii(.phoneNumber) })
    }

    @Test func maskingSkipsFindingsThatOverlapOrCameFromElsewhere() throws {
        let screen = try screen([.email])
        let text = "x alice@example.com y"
        var findings = screen.findings(in: text)
        findings.append(findings[0])
        #expect(screen.masked(text, findings) == "x [EMAIL] y")
        #expect(screen.masked(text, []) == text)
    }

    @Test func longestMatchCoversEnabledDetectorsKeywordsAndPatterns() throws {
        #expect(try screen([.email]).longestMatch == 254)
        #expect(try screen([.usSSN], keywords: ["a much longer keyword here"]).longestMatch == 26)
        #expect(try screen([.usSSN], patterns: [NamedPattern(name: "p", regex: "x")]).longestMatch == TextScreen.patternBound)
        #expect(try screen().longestMatch == 4096)
        #expect(try screen([]).longestMatch == 0)
    }
}

@Suite("Detector decisions")
struct DetectorDecisionTests {
    private func found(_ text: String, _ entity: PIIEntity) throws -> [String] {
        try screen([entity]).findings(in: text).map(\.matched)
    }

    @Test func emailsNeedADomainWithATopLevelLabel() throws {
        #expect(try found("user@localhost, a@b, @handle, x@y.c, name@sub.example.travel.", .email) == ["name@sub.example.travel"])
        #expect(try found("postgres://app@db.internal:5432 and https://u:p@host.example.com", .email).isEmpty)
    }

    @Test func phonesRejectDatesTimesVersionsReferencesAndInvalidNANP() throws {
        #expect(try found("2024-01-15 12:30:45 v1.2.3 94105-1234 $1,299.99 Order #415-555-2671 (123) 456-7890 +1 555 0100", .phoneNumber).isEmpty)
        #expect(try found("+33 1 42 68 53 00 or (415) 555-2671", .phoneNumber) == ["+33 1 42 68 53 00", "(415) 555-2671"])
    }

    @Test func cardsNeedLuhnAndAKnownIssuer() throws {
        #expect(try found("4111 1111 1111 1112 and 9111111111111111 and 12345678901234567890", .creditCard).isEmpty)
        #expect(try found("4111 1111 1111 1111 12/27", .creditCard) == ["4111 1111 1111 1111"])
    }

    @Test func bareSSNsNeedALabelAndInvalidRangesAreRejected() throws {
        #expect(try found("ssn: 123456789 and id 123456789", .usSSN) == ["123456789"])
        #expect(try found("000-12-3456 666-12-3456 912-34-5678 123-00-4567 123-45-0000 078-05-1120", .usSSN).isEmpty)
    }

    @Test func ibansNeedTheCountryLengthAndMod97() throws {
        #expect(try found("GB82 WEST 1234 5698 7654 32 GB83 WEST 1234 5698 7654 32 DE8937040044053201300", .iban) == ["GB82 WEST 1234 5698 7654 32"])
    }

    @Test func ipAddressesSkipVersionsLongerDottedNumbersMACsAndTimes() throws {
        #expect(try found("v1.2.3.4 version 10.0.0.1 1.2.3.4.5 999.1.1.1 01.2.3.4 00:1A:2B:3C:4D:5E 12:30:45 std::map :: arr[::2] s[1::3]", .ipAddress).isEmpty)
        #expect(try found("10.0.0.1:8080 [2001:db8::1]:443 ::ffff:192.0.2.1 IPv6:fe80::1 http://[::1]:8080", .ipAddress)
            == ["10.0.0.1", "2001:db8::1", "::ffff:192.0.2.1", "fe80::1", "::1"])
    }

    @Test func secretsSkipUUIDsDigestsIdsAndWords() throws {
        let text = "3f2b8c1e-9d4a-4e7b-8c2f-1a5d6e7f8a9b 9fceb02d0ae598e95dc970b74767f19372d61af8 chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT "
            + "getUserAccountSettingsByIdentifier2 sk-learn-tutorial-2024-edition Bearer YOUR_ACCESS_TOKEN_HERE"
        #expect(try found(text, .secret).isEmpty)
    }

    @Test func bearerMasksKeepTheScheme() throws {
        let text = "Authorization: Bearer abcDEF123456ghiJKL789012mnoPQR"
        #expect(maskedText(try screen([.secret]), text) == "Authorization: Bearer [SECRET]")
    }

    @Test func labelledSecretsTakeTheWholeValue() throws {
        let text = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1\npassword: changeme"
        #expect(try found(text, .secret) == ["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY1"])
    }
}

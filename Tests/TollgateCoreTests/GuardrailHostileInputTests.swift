import Foundation
import Testing

@testable import TollgateCore

@Suite("Guardrails on hostile input")
struct GuardrailHostileInputTests {
    private let everything = { () throws -> TextScreen in
        try TextScreen(
            pii: Set(PIIEntity.allCases), piiAction: .mask, keywords: ["rob", "$$", "炸弹"],
            patterns: [NamedPattern(name: "ticket", regex: "TCK-[0-9]+", behavior: .mask)]
        )
    }

    @Test func emptyAndTinyTexts() throws {
        let screen = try everything()
        for text in ["", " ", "@", ":", "::", "+", "(", "eyJ", "\u{301}", "🎉", "\r\n"] {
            #expect(screen.findings(in: text).isEmpty, "\(text.debugDescription)")
            #expect(screen.masked(text, screen.findings(in: text)) == text)
        }
    }

    @Test func emojiAndCombiningMarksAroundFindingsSurviveMasking() throws {
        let screen = try everything()
        let text = "👨‍👩‍👧 e\u{301}mail: bob@example.org\u{301} 🇩🇪 +49 30 901820 é"
        let masked = screen.masked(text, screen.findings(in: text))
        #expect(masked == "👨‍👩‍👧 e\u{301}mail: [EMAIL]\u{301} 🇩🇪 [PHONE_NUMBER] é")
    }

    @Test func degenerateMegabyteTextsScanInLinearTime() throws {
        let screen = try everything()
        let size = 1 << 20
        for unit in ["a", "7", "@", ":", ".", "+1 ", "1.", "a@", "$", "-", "ff:", "eyJ.", "Bearer ", "\u{301}", "é", "🎉"] {
            let text = String(repeating: unit, count: size / unit.utf8.count)
            let start = ContinuousClock.now
            let findings = screen.findings(in: text)
            let elapsed = ContinuousClock.now - start
            _ = screen.masked(text, findings)
            print("1 MB of \(unit.debugDescription): \(findings.count) findings in \(elapsed)")
        }
        // `$$` matches at every offset of `$$$$…`: one huge overlap cluster, resolved by the byte map.
        let dollars = screen.findings(in: String(repeating: "$", count: 100_000))
        #expect(dollars.count == 50_000)
    }

    @Test func aMegabyteOfMixedTextIsScreenedAndMasked() throws {
        let screen = try everything()
        let line = "Call +1 (415) 555-2671 or mail alice@example.com from 10.0.0.1; card 4111 1111 1111 1111. TCK-42 🎉\n"
        let text = String(repeating: line, count: (1 << 20) / line.utf8.count)
        let findings = screen.findings(in: text)
        let lines = text.split(separator: "\n").count
        #expect(findings.count == lines * 5)
        let masked = screen.masked(text, findings)
        #expect(masked.hasPrefix("Call [PHONE_NUMBER] or mail [EMAIL] from [IP_ADDRESS]; card [CREDIT_CARD]. [TICKET] 🎉\n"))
    }

    @Test func aStreamOfOneEndlessWordStillReleasesText() throws {
        let screen = try everything()
        var stream = StreamScreen(screen: screen)
        var sent = 0
        let piece = String(repeating: "a", count: 100)
        for _ in 0..<100 {
            guard case .send(let text) = stream.feed(piece) else { Issue.record("blocked"); return }
            sent += text.count
        }
        // Held whole up to `maxHeldRun`, then released from a window's distance behind the end.
        #expect(sent >= 10_000 - StreamScreen.maxHeldRun - StreamScreen.defaultWindow - StreamScreen.contextCharacters - 100)
        guard case .send(let rest) = stream.finish() else { Issue.record("blocked"); return }
        #expect(sent + rest.count == 10_000)
    }

    @Test func invalidRegexesAreReportedNotTrapped() throws {
        for regex in ["(", "[z-a]", "*a", "a{2,1}", "(?<name", "\\"] {
            #expect(throws: TextScreenError.self) {
                try TextScreen(pii: [], piiAction: .none, keywords: [], patterns: [NamedPattern(name: "p", regex: regex)])
            }
        }
        let error = TextScreenError.invalidPattern(name: "p", reason: "not a valid regular expression")
        #expect(error.description == "pattern \"p\": not a valid regular expression")
    }

    @Test func scanTimeOfTenKilobytes() throws {
        // Prints only: timings depend on the machine and the build configuration (debug builds
        // are some 20 times slower than release).
        let screen = try TextScreen(pii: Set(PIIEntity.allCases), piiAction: .mask, keywords: ["rob", "bomb", "confidential"], patterns: [])
        var dense = ""
        for item in try PIICorpus.load() where dense.utf8.count < 10_240 { dense += item.text + "\n" }
        let sentence = "The quarterly report covers 12 regions, 3,400 customers and revenue of $1.2M (up 4.5% on 2023). "
        let prose = String(repeating: sentence, count: 10_240 / sentence.utf8.count + 1)
        for (name, text) in [("PII-dense corpus text", dense), ("ordinary prose", prose)] {
            var found = 0
            let rounds = 200
            let start = ContinuousClock.now
            for _ in 0..<rounds { found += screen.findings(in: text).count }
            let each = (ContinuousClock.now - start) / rounds
            print("scan of \(text.utf8.count) bytes of \(name) (\(found / rounds) findings): \(each) per scan")
        }
    }
}

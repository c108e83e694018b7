import Foundation
import Testing

@testable import TollgateCore

/// SplitMix64: a seeded generator, so a failing chunking can be reproduced.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// `text` cut into pieces of 1…`maxPiece` Unicode scalars: harsher than cutting by `Character`,
/// since a delta may end inside a grapheme (an emoji and its skin tone arriving apart).
private func chunks(_ text: String, maxPiece: Int, using generator: inout SeededGenerator) -> [String] {
    var pieces: [String] = []
    var index = text.unicodeScalars.startIndex
    while index < text.unicodeScalars.endIndex {
        let end = text.unicodeScalars.index(index, offsetBy: Int.random(in: 1...maxPiece, using: &generator), limitedBy: text.unicodeScalars.endIndex)
            ?? text.unicodeScalars.endIndex
        pieces.append(String(String.UnicodeScalarView(text.unicodeScalars[index..<end])))
        index = end
    }
    return pieces
}

/// Runs `pieces` through a stream: everything sent, and the block if there was one.
private func stream(_ pieces: [String], _ screen: TextScreen, window: Int = StreamScreen.defaultWindow) -> (sent: String, block: FindingSummary?, findings: [FindingSummary]) {
    var stream = StreamScreen(screen: screen, windowCharacters: window)
    var sent = ""
    for piece in pieces {
        switch stream.feed(piece) {
        case .send(let text): sent += text
        case .block(let text, let finding): return (sent + text, finding, stream.findings)
        }
    }
    switch stream.finish() {
    case .send(let text): return (sent + text, nil, stream.findings)
    case .block(let text, let finding): return (sent + text, finding, stream.findings)
    }
}

@Suite("Stream screen: held window, masks across chunks, blocks")
struct StreamScreenTests {
    @Test func anyChunkingOfTheCorpusSendsExactlyTheMaskedText() throws {
        let screen = try TextScreen(pii: Set(PIIEntity.allCases), piiAction: .mask, keywords: [], patterns: [])
        var generator = SeededGenerator(state: 0x70_11_6A_7E)
        var checked = 0
        for item in try PIICorpus.load() {
            let findings = screen.findings(in: item.text)
            let expected = screen.masked(item.text, findings)
            // The guarantee covers findings up to the window: give texts with longer ones (JWTs,
            // long keys) a window that long, the rest the default.
            let longest = findings.map(\.matched.count).max() ?? 0
            let window = max(StreamScreen.defaultWindow, longest)
            for maxPiece in [1, 3, 8, 24] {
                let result = stream(chunks(item.text, maxPiece: maxPiece, using: &generator), screen, window: window)
                #expect(result.block == nil)
                #expect(result.sent == expected, "window \(window), pieces ≤ \(maxPiece): \(item.text.debugDescription)")
                #expect(result.findings == findings.map(FindingSummary.init))
                checked += 1
            }
        }
        print("stream property: \(checked) chunkings of corpus texts matched the masked whole text")
    }

    @Test func theDefaultWindowCatchesLongKeysAndJWTsToo() throws {
        // Keys with a known prefix and JWTs are findings before they are complete, so they are
        // held back whole even past the window.
        let screen = try TextScreen(pii: [.secret], piiAction: .mask, keywords: [], patterns: [])
        let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
        let key = "sk-ant-api03-" + String(repeating: "Xy7Zw3Vu9Ts1Rq5Po8Nm", count: 5)
        let text = "token \(jwt) and key \(key) done"
        var generator = SeededGenerator(state: 7)
        for maxPiece in [1, 2, 5] {
            let result = stream(chunks(text, maxPiece: maxPiece, using: &generator), screen)
            #expect(result.sent == "token [SECRET] and key [SECRET] done")
        }
    }

    @Test func aMatchSplitAcrossDeltasIsMasked() throws {
        let screen = try TextScreen(pii: [.email], piiAction: .mask, keywords: [], patterns: [])
        var stream = StreamScreen(screen: screen, windowCharacters: 16)
        var sent = ""
        for piece in ["Hello, write to ali", "ce@exa", "mple.com ", String(repeating: "and more words ", count: 10)] {
            guard case .send(let text) = stream.feed(piece) else { Issue.record("blocked"); return }
            #expect(!text.contains("ali") || text.contains("[EMAIL]"))
            sent += text
        }
        guard case .send(let rest) = stream.finish() else { Issue.record("blocked"); return }
        #expect(sent + rest == "Hello, write to [EMAIL] " + String(repeating: "and more words ", count: 10))
        #expect(stream.findings == [FindingSummary(kind: .pii(.email), action: .mask)])
    }

    @Test func textIsHeldBackAndReleasedOnWordBoundaries() throws {
        let screen = try TextScreen(pii: [.email], piiAction: .mask, keywords: [], patterns: [])
        var stream = StreamScreen(screen: screen, windowCharacters: 8)
        let words = (0..<40).map { "word\($0) " }.joined()
        guard case .send(let sent) = stream.feed(words) else { Issue.record("blocked"); return }
        #expect(!sent.isEmpty)
        #expect(sent.hasSuffix(" "))
        #expect(words.count - sent.count >= 8 + StreamScreen.contextCharacters)
        guard case .send(let rest) = stream.finish() else { Issue.record("blocked"); return }
        #expect(sent + rest == words)
    }

    @Test func aKeywordSplitAcrossDeltasBlocksAndSendsWhatCameBefore() throws {
        let screen = try TextScreen(pii: [.email], piiAction: .mask, keywords: ["bomb"], patterns: [])
        let result = stream(["Mail bob@example.com about the bo", "mb now, then more text"], screen)
        #expect(result.block == FindingSummary(kind: .keyword("bomb"), action: .block))
        #expect(result.sent == "Mail [EMAIL] about the ")
        #expect(result.findings == [FindingSummary(kind: .pii(.email), action: .mask), FindingSummary(kind: .keyword("bomb"), action: .block)])
    }

    @Test func aKeywordPrefixAtTheEndOfADeltaDoesNotBlockWhenTheWordGoesOn() throws {
        let screen = try TextScreen(pii: [], piiAction: .mask, keywords: ["rob"], patterns: [])
        let result = stream(["the rob", "ot works; no pro", "blem"], screen)
        #expect(result.block == nil)
        #expect(result.sent == "the robot works; no problem")
    }

    @Test func afterABlockEveryCallBlocksAndSendsNothing() throws {
        let screen = try TextScreen(pii: [], piiAction: .mask, keywords: ["secret plan"], patterns: [])
        var stream = StreamScreen(screen: screen)
        _ = stream.feed("the secret plan is")
        let block = stream.finish()
        let finding = FindingSummary(kind: .keyword("secret plan"), action: .block)
        #expect(block == .block(send: "the ", finding: finding))
        #expect(stream.isBlocked)
        #expect(stream.feed("more") == .block(send: "", finding: finding))
        #expect(stream.finish() == .block(send: "", finding: finding))
    }

    @Test func aFindingAsLongAsTheWindowIsCaughtAcrossEveryCut() throws {
        let pattern = NamedPattern(name: "ticket", regex: "TICKET( [0-9]{4}){11}", behavior: .mask)
        let screen = try TextScreen(pii: [], piiAction: .mask, keywords: [], patterns: [pattern])
        let ticket = "TICKET" + String(repeating: " 1234", count: 11)
        let text = "before " + ticket + " after " + String(repeating: "x ", count: 40)
        for cut in 1..<text.count {
            let split = text.index(text.startIndex, offsetBy: cut)
            let result = stream([String(text[..<split]), String(text[split...])], screen, window: ticket.count)
            #expect(result.sent == "before [TICKET] after " + String(repeating: "x ", count: 40), "cut at \(cut)")
        }
    }

    @Test func emptyDeltasAndAnEmptyStreamSendNothing() throws {
        let screen = try TextScreen(pii: Set(PIIEntity.allCases), piiAction: .mask, keywords: [], patterns: [])
        var stream = StreamScreen(screen: screen)
        #expect(stream.feed("") == .send(""))
        #expect(stream.finish() == .send(""))
        #expect(stream.findings.isEmpty)
    }
}

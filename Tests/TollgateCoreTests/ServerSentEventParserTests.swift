import Testing

@testable import TollgateCore

/// Feeds `text` to a fresh parser in chunks of `size` bytes and collects every event, including
/// the one `finish()` returns.
private func parse(_ text: String, chunkSize size: Int = .max, finish: Bool = true) -> [ServerSentEvent] {
    var parser = ServerSentEventParser()
    let bytes = Array(text.utf8)
    var events: [ServerSentEvent] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + min(size, bytes.count))
        events += parser.feed(bytes[start..<end])
        start = end
    }
    if finish, let last = parser.finish() { events.append(last) }
    return events
}

@Suite("Server-sent event parser")
struct ServerSentEventParserTests {
    private let stream = "event: response.created\ndata: {\"a\":1}\n\ndata: {\"b\":2}\n\nevent: done\ndata: [DONE]\n\n"
    private let expected = [
        ServerSentEvent(event: "response.created", data: #"{"a":1}"#),
        ServerSentEvent(data: #"{"b":2}"#),
        ServerSentEvent(event: "done", data: "[DONE]"),
    ]

    @Test func wholeStreamInOneChunk() {
        #expect(parse(stream) == expected)
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16])
    func sameEventsWhateverTheChunkSize(size: Int) {
        #expect(parse(stream, chunkSize: size) == expected)
    }

    @Test func oneByteAtATimeEmitsEachEventOnItsBlankLine() {
        var parser = ServerSentEventParser()
        var emittedAt: [Int: [ServerSentEvent]] = [:]
        for (offset, byte) in Array(stream.utf8).enumerated() {
            let events = parser.feed([byte])
            if !events.isEmpty { emittedAt[offset] = events }
        }
        let bytes = Array(stream.utf8)
        let blankLineEnds = bytes.indices.filter { $0 > 0 && bytes[$0] == 0x0A && bytes[$0 - 1] == 0x0A }
        #expect(emittedAt.keys.sorted() == blankLineEnds)
        #expect(blankLineEnds.compactMap { emittedAt[$0] }.flatMap { $0 } == expected)
        #expect(parser.finish() == nil)
        #expect(parser.consumedByteCount == bytes.count)
    }

    @Test func multiByteUTF8SplitAcrossChunks() {
        let text = "data: héllo — 你好 🎉\n\n"
        #expect(parse(text, chunkSize: 1) == [ServerSentEvent(data: "héllo — 你好 🎉")])
    }

    @Test func crlfLineEndings() {
        let text = "event: a\r\ndata: one\r\n\r\ndata: two\r\n\r\n"
        let events = [ServerSentEvent(event: "a", data: "one"), ServerSentEvent(data: "two")]
        #expect(parse(text) == events)
        #expect(parse(text, chunkSize: 1) == events)
    }

    @Test func crlfSplitBetweenChunksIsOneLineEnd() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: x\r".utf8)) == [])
        #expect(parser.feed(Array("\n\r".utf8)) == [ServerSentEvent(data: "x")])
        #expect(parser.feed(Array("\ndata: y\r\n".utf8)) == [])
        #expect(parser.feed(Array("\r\n".utf8)) == [ServerSentEvent(data: "y")])
    }

    @Test func bareCRLineEndings() {
        let text = "event: a\rdata: one\r\rdata: two\r\r"
        let events = [ServerSentEvent(event: "a", data: "one"), ServerSentEvent(data: "two")]
        #expect(parse(text) == events)
        #expect(parse(text, chunkSize: 1) == events)
    }

    @Test func mixedLineEndings() {
        #expect(parse("data: a\rdata: b\r\ndata: c\n\r\n") == [ServerSentEvent(data: "a\nb\nc")])
    }

    @Test func multipleDataLinesAreJoinedWithNewlines() {
        let text = "event: multi\ndata: first\ndata: second\ndata:\ndata: fourth\n\n"
        #expect(parse(text) == [ServerSentEvent(event: "multi", data: "first\nsecond\n\nfourth")])
    }

    @Test func onlyOneLeadingSpaceIsStripped() {
        #expect(parse("data:no-space\n\ndata:  two-spaces\n\n") == [
            ServerSentEvent(data: "no-space"),
            ServerSentEvent(data: " two-spaces"),
        ])
    }

    @Test func colonsInTheValueAreKept() {
        #expect(parse("data: {\"k\": \"a:b\"}\n\n") == [ServerSentEvent(data: #"{"k": "a:b"}"#)])
    }

    @Test func commentsAndUnknownFieldsAreIgnored() {
        let text = ": keep-alive\n\n:comment\ndata: x\n: another comment\nid: 7\nretry: 1000\nfoo: bar\n\n"
        #expect(parse(text) == [ServerSentEvent(data: "x")])
    }

    @Test func eventWithoutDataIsNotDispatchedAndItsNameDoesNotLeak() {
        let text = "event: ping\n\ndata: real\n\n"
        #expect(parse(text) == [ServerSentEvent(data: "real")])
    }

    @Test func emptyDataLineStillDispatches() {
        #expect(parse("data:\n\n") == [ServerSentEvent(data: "")])
    }

    @Test func extraBlankLinesProduceNothing() {
        #expect(parse("\n\n\r\n\rdata: a\n\n\n\n") == [ServerSentEvent(data: "a")])
    }

    @Test func finishReturnsLastEventWithoutTrailingBlankLine() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: one\n\nevent: tail\ndata: two".utf8)) == [ServerSentEvent(data: "one")])
        #expect(parser.pendingLine == "data: two")
        #expect(parser.finish() == ServerSentEvent(event: "tail", data: "two"))
        #expect(parser.finish() == nil)
    }

    @Test func finishAfterTerminatedDataLineWithoutBlankLine() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: a\ndata: b\n".utf8)) == [])
        #expect(parser.pendingLine == "")
        #expect(parser.finish() == ServerSentEvent(data: "a\nb"))
    }

    @Test func finishWithoutPendingDataReturnsNil() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: a\n\nevent: only-a-name\n".utf8)) == [ServerSentEvent(data: "a")])
        #expect(parser.finish() == nil)
        var empty = ServerSentEventParser()
        #expect(empty.finish() == nil)
    }

    @Test func encodedFraming() {
        #expect(ServerSentEvent(data: "x").encoded == "data: x\n\n")
        #expect(ServerSentEvent(event: "response.completed", data: "{}").encoded == "event: response.completed\ndata: {}\n\n")
        #expect(ServerSentEvent(data: "a\nb").encoded == "data: a\ndata: b\n\n")
        #expect(ServerSentEvent(data: "").encoded == "data: \n\n")
    }

    @Test func encodedRoundTripsThroughTheParser() {
        let events = [
            ServerSentEvent(event: "response.output_text.delta", data: #"{"delta":"Hi"}"#),
            ServerSentEvent(data: "line one\nline two\n\nline four"),
            ServerSentEvent(data: ""),
            ServerSentEvent(data: " leading space"),
            ServerSentEvent(event: "e", data: "trailing newline\n"),
            ServerSentEvent(data: "[DONE]"),
        ]
        let wire = events.map(\.encoded).joined()
        #expect(parse(wire) == events)
        #expect(parse(wire, chunkSize: 1) == events)
    }
}

import Testing

@testable import TollgateCore

@Suite("JSON parser")
struct JSONParserTests {
    @Test func escapesAndSurrogatePairs() throws {
        let value = try JSONValue.parse(#"{"a":"line\nbreak \"q\" \\ \/ \u00e9 \ud83c\udf89 \t"}"#)
        #expect(value["a"]?.stringValue == "line\nbreak \"q\" \\ / é 🎉 \t")
    }

    @Test func numbers() throws {
        let value = try JSONValue.parse("[0, -1, 3.25, 1e3, -2.5E-2, 1795597420279000000]")
        #expect(value.arrayValue?.compactMap(\.doubleValue) == [0, -1, 3.25, 1000, -0.025, 1795597420279000000])
    }

    @Test(arguments: ["[1,]", "{\"a\":1,}", "01", "1.", "-", "[1 2]", "{\"a\" 1}", "\"unterminated", "tru", "[1] x", "\"a\u{01}b\"", "\"\\x\"", "{a:1}", ""])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(deep) }
    }

    @Test func longStringsAreReadWhateverTheOffsetOfTheirSpecialBytes() throws {
        for offset in 0..<20 {
            let plain = String(repeating: "a", count: offset)
            let document = #"[""# + plain + #"é\"\u00e9"# + plain + #"\n"# + plain + #""]"#
            #expect(try JSONValue.parse(document)[0]?.stringValue == plain + "é\"é" + plain + "\n" + plain)
            let control = "[\"" + plain + "\u{01}" + plain + "\"]"
            #expect(throws: JSONParseError.self) { try JSONValue.parse(control) }
            #expect(throws: JSONParseError.self) { try RequestPreviewSource.read(#"{"messages":"# + control + "}") }
            let unterminated = #"{"messages":[""# + plain + "é" + plain
            #expect(throws: JSONParseError.self) { try RequestPreviewSource.read(unterminated) }
        }
    }

    @Test func duplicateKeysKeepTheLastValue() throws {
        #expect(try JSONValue.parse(#"{"k":1,"k":2}"#)["k"]?.intValue == 2)
    }
}

@Suite("Request preview")
struct RequestPreviewTests {
    /// The preview as it reads when the whole body is parsed first.
    static func fromTree(_ body: String) -> String {
        guard let json = try? JSONValue.parse(body) else { return String(body.prefix(TracePreview.limit)) }
        if let input = json["input"]?.stringValue { return String(input.prefix(TracePreview.limit)) }
        let items = json["messages"]?.arrayValue ?? json["input"]?.arrayValue ?? []
        for item in items.reversed() where item["role"]?.stringValue == "user" {
            return String(TracePreview.text(of: item["content"]).prefix(TracePreview.limit))
        }
        return ""
    }

    @Test(arguments: [
        #"{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"first"},{"role":"assistant","content":"ok"},{"role":"user","content":"last \"one\" \u00e9"}]}"#,
        #"{"messages":[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:x"}},{"type":"text","text":"here"}]}]}"#,
        #"{"input":"plain input","messages":[{"role":"user","content":"ignored"}]}"#,
        #"{"input":[{"role":"user","content":[{"type":"input_text","text":"responses"}]}]}"#,
        #"{"messages":{"role":"user"},"input":[{"role":"user","content":"from input"}]}"#,
        #"{"messages":[{"role":"user"}]}"#,
        #"{"messages":[{"role":"user","content":"a","role":"assistant"},{"content":"b","role":"user","content":"c"}]}"#,
        #"{"messages":[1,"x",null,[{"role":"user"}],{"role":7,"content":"n"}]}"#,
        #"{"messages":"not a list"}"#,
        #"[{"role":"user","content":"top-level list"}]"#,
        #""just a string""#,
        #"{"messages":[{"role":"user","content":"unterminated"}"#,
        #"{"messages":[{"role":"user","content":"bad \x escape"}]}"#,
        #"{"messages":[{"role":"user","content":"ok"}]} trailing"#,
        #"{"messages":[{"role":"user","content":"x"}],"n":01}"#,
        "",
        "not json at all",
    ])
    func matchesTheWholeTreeReading(_ body: String) {
        #expect(TracePreview.request(body) == Self.fromTree(body))
    }

    @Test func longMessagesAreCut() {
        let body = #"{"messages":[{"role":"user","content":""# + String(repeating: "é", count: 3000) + #""}]}"#
        #expect(TracePreview.request(body) == String(repeating: "é", count: TracePreview.limit))
    }

    @Test func deepNestingIsRefusedNotACrash() {
        let body = #"{"messages":"# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(TracePreview.request(body) == String(body.prefix(TracePreview.limit)))
    }
}

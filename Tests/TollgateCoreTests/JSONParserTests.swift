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

    @Test func duplicateKeysKeepTheLastValue() throws {
        #expect(try JSONValue.parse(#"{"k":1,"k":2}"#)["k"]?.intValue == 2)
    }
}

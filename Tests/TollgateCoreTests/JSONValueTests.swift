import Testing

@testable import TollgateCore

/// Structural equality that ignores member order (parsed objects do not keep it).
private func sameContent(_ a: JSONValue?, _ b: JSONValue?) -> Bool {
    switch (a, b) {
    case (.object(let x)?, .object(let y)?):
        return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { sameContent(x[$0], y[$0]) }
    case (.array(let x)?, .array(let y)?):
        return x.count == y.count && zip(x, y).allSatisfy { sameContent($0, $1) }
    default:
        return a == b
    }
}

@Suite("JSON value")
struct JSONValueTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue.parse(#"{"s":"text","i":42,"f":-1.5,"t":true,"n":null,"a":[1,"two",false],"o":{"k":"v"}}"#)
        #expect(value["s"] == .string("text"))
        #expect(value["i"] == .number(42))
        #expect(value["i"]?.intValue == 42)
        #expect(value["f"]?.doubleValue == -1.5)
        #expect(value["t"] == .bool(true))
        #expect(value["n"] == .null)
        #expect(value["n"]?.isNull == true)
        #expect(value["a"] == .array([.number(1), .string("two"), .bool(false)]))
        #expect(value["o"]?["k"]?.stringValue == "v")
        #expect(value["missing"] == nil)
        #expect(value["a"]?[3] == nil)
        #expect(value["a"]?[-1] == nil)
        #expect(value["s"]?["k"] == nil)
        #expect(value.objectValue?.keys.count == 7)
    }

    @Test func numbersAndBooleansStayDistinct() throws {
        #expect(try JSONValue.parse("1") == .number(1))
        #expect(try JSONValue.parse("0") == .number(0))
        #expect(try JSONValue.parse("true") == .bool(true))
        #expect(try JSONValue.parse("false") == .bool(false))
        #expect(try JSONValue.parse("[1,true,0,false]") == [1, true, 0, false])
        #expect(try JSONValue.parse(#""1""#) == .string("1"))
    }

    @Test(arguments: [
        #"null"#, #"true"#, #"false"#, #"0"#, #"-7"#, #"3.25"#, #""""#, #""plain""#, #"[]"#, #"{}"#,
        #"[1,[2,[3,[]]],{"a":null}]"#, #"{"k":"v"}"#, #"{"nested":{"deeper":{"deepest":[true]}}}"#,
        #""a\"b\\c\nd\te\r/""#, #""\u0001\u001f""#, #""é 你好 🎉""#,
    ])
    func serializingAParsedDocumentGivesTheSameText(text: String) throws {
        #expect(try JSONValue.parse(text).jsonText == text)
    }

    @Test func roundTripKeepsContentOfMultiKeyObjects() throws {
        let text = #"{"model":"m","messages":[{"role":"user","content":"Hi \"there\""}],"temperature":0.7,"max_tokens":256,"stream":false,"stop":null,"meta":{"a":[1,2.5,"x"]}}"#
        let parsed = try JSONValue.parse(text)
        let reparsed = try JSONValue.parse(parsed.jsonText)
        #expect(sameContent(parsed, reparsed))
        #expect(reparsed["messages"]?[0]?["content"] == #"Hi "there""#)
        #expect(reparsed["max_tokens"] == 256)
        #expect(parsed.jsonText.count == text.count)
        #expect(parsed.jsonBytes == Array(parsed.jsonText.utf8))
    }

    @Test func quotesAndBackslashesAreEscaped() {
        #expect(JSONValue.quoted(#"say "hi""#) == #""say \"hi\"""#)
        #expect(JSONValue.quoted(#"C:\path\file"#) == #""C:\\path\\file""#)
        #expect(JSONValue.quoted(#"\""#) == #""\\\"""#)
        #expect(JSONValue.string(#"a"b\c"#).jsonText == #""a\"b\\c""#)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSONValue.quoted("line1\nline2") == #""line1\nline2""#)
        #expect(JSONValue.quoted("a\rb\tc") == #""a\rb\tc""#)
        #expect(JSONValue.quoted("\u{0}") == #""\u0000""#)
        #expect(JSONValue.quoted("\u{1}x\u{8}\u{c}\u{1b}\u{1f}") == #""\u0001x\u0008\u000c\u001b\u001f""#)
        #expect(JSONValue.quoted(" ") == #"" ""#)
        #expect(JSONValue.quoted("\u{7f}") == "\"\u{7f}\"")
    }

    @Test func unicodeIsWrittenAsIs() {
        #expect(JSONValue.quoted("é") == "\"é\"")
        #expect(JSONValue.quoted("你好 🎉 e\u{301}") == "\"你好 🎉 e\u{301}\"")
        #expect(JSONValue.string("\u{2028}").jsonText == "\"\u{2028}\"")
    }

    @Test func unicodeEscapesAreDecodedOnParse() throws {
        #expect(try JSONValue.parse(#""\u00e9\u4f60\ud83c\udf89\/""#) == .string("é你🎉/"))
        #expect(try JSONValue.parse(#""\u0001""#).jsonText == #""\u0001""#)
    }

    @Test func escapedStringsSurviveARoundTrip() throws {
        let original = "q\"b\\s/n\nr\rt\tc\u{1}u é🎉"
        let text = JSONValue.string(original).jsonText
        #expect(try JSONValue.parse(text) == .string(original))
    }

    @Test func slashesAreNotEscaped() {
        #expect(JSONValue.string("https://example.com/v1/chat").jsonText == #""https://example.com/v1/chat""#)
        #expect(JSONValue.object(["llm/v1/chat": "a/b"]).jsonText == #"{"llm/v1/chat":"a/b"}"#)
    }

    @Test func integralNumbersHaveNoFractionPart() {
        #expect(JSONValue.int(0).jsonText == "0")
        #expect(JSONValue.int(42).jsonText == "42")
        #expect(JSONValue.int(-3).jsonText == "-3")
        #expect(JSONValue.number(2.0).jsonText == "2")
        #expect(JSONValue.number(-0.0).jsonText == "0")
        #expect(JSONValue.int(1_700_000_000).jsonText == "1700000000")
        #expect(JSONValue.number(123_456_789_012_345).jsonText == "123456789012345")
        #expect(JSONValue(integerLiteral: 256).jsonText == "256")
    }

    @Test func fractionalNumbersKeepTheirDigits() {
        #expect(JSONValue.number(0.5).jsonText == "0.5")
        #expect(JSONValue.number(-1.25).jsonText == "-1.25")
        #expect(JSONValue.number(0.1).jsonText == "0.1")
        #expect(JSONValue.number(3.14159).jsonText == "3.14159")
    }

    @Test func nonFiniteNumbersBecomeNull() {
        #expect(JSONValue.double(.nan).jsonText == "null")
        #expect(JSONValue.double(.infinity).jsonText == "null")
        #expect(JSONValue.double(-.infinity).jsonText == "null")
        #expect(JSONValue.double(.nan).intValue == nil)
    }

    @Test func objectsBuiltInCodeKeepInsertionOrder() {
        let value: JSONValue = ["zeta": 1, "alpha": "a", "mid": [true, nil], "beta": ["y": 2, "x": 1]]
        #expect(value.jsonText == #"{"zeta":1,"alpha":"a","mid":[true,null],"beta":{"y":2,"x":1}}"#)
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid", "beta"])
    }

    @Test func updatingKeepsPositionAndRemovingThenAddingMovesToTheEnd() {
        var object: JSONObject = ["id": "x", "object": "response", "model": "m"]
        object["object"] = "chat.completion"
        #expect(JSONValue.object(object).jsonText == #"{"id":"x","object":"chat.completion","model":"m"}"#)
        object["id"] = nil
        #expect(object.keys == ["object", "model"])
        object["id"] = "y"
        #expect(JSONValue.object(object).jsonText == #"{"object":"chat.completion","model":"m","id":"y"}"#)
        object["absent"] = nil
        #expect(object.keys == ["object", "model", "id"])
        #expect(object.pairs.map(\.0) == ["object", "model", "id"])
        #expect(!object.isEmpty)
        #expect(JSONObject().isEmpty)
    }

    @Test func keyValuePairsInitializerKeepsOrder() {
        let object = JSONObject(["b": 1, "a": 2])
        #expect(JSONValue.object(object).jsonText == #"{"b":1,"a":2}"#)
    }

    @Test func emptyContainersAndNull() {
        #expect(JSONValue.array([]).jsonText == "[]")
        #expect(JSONValue.object(JSONObject()).jsonText == "{}")
        #expect(JSONValue.null.jsonText == "null")
        #expect(JSONValue.optionalString(nil).jsonText == "null")
        #expect(JSONValue.optionalString("s").jsonText == #""s""#)
        #expect(JSONValue.optionalInt(nil) == .null)
        #expect(JSONValue.optionalInt(7).jsonText == "7")
    }

    @Test(arguments: ["", "{", "[1 2]", "{\"a\" 1}", "nul", "\"unterminated", "{'a':1}"])
    func malformedInputThrows(text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(text) }
    }

    @Test func objectsKeepOrderAndLastWriteAcrossTheIndexThreshold() throws {
        var object = JSONObject()
        for index in 0..<40 { object["k\(index)"] = .int(index) }
        object["k3"] = "replaced"
        object["k30"] = nil
        object["k5"] = nil
        #expect(object.count == 38)
        #expect(object.keys.first == "k0" && object.keys.last == "k39")
        #expect(object["k3"] == "replaced" && object["k30"] == nil && object["k31"] == .int(31))
        var reordered = JSONObject()
        for key in object.keys.reversed() { reordered[key] = object[key] }
        #expect(reordered == object)
        let parsed = try JSONValue.parse(#"{"a":1,"b":2,"a":3}"#)
        #expect(parsed["a"] == .int(3) && parsed.objectValue?.keys == ["a", "b"])
    }

    @Test func escapingCopiesPlainRunsAndEscapesTheRest() throws {
        let text = "plain \"quoted\" back\\slash\nnew\ttab\u{01}ctl é 🙂"
        let literal = JSONValue.quoted(text)
        #expect(literal == #""plain \"quoted\" back\\slash\nnew\ttab\u0001ctl é 🙂""#)
        #expect(try JSONValue.parse(literal) == .string(text))
    }
}

import Testing

@testable import TollgateCore

/// Applies the patch to `text` and returns the patched text.
private func patched(_ text: String, key: String = "model", to value: String = "gpt-4o-mini") throws -> String {
    let bytes = try #require(JSONFieldPatch.settingString(key, to: value, in: Array(text.utf8)))
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("JSON field patch")
struct JSONFieldPatchTests {
    @Test func replacesModelWhenFirst() throws {
        let out = try patched(#"{"model":"alias","messages":[{"role":"user","content":"Hi"}],"stream":true}"#)
        #expect(out == #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}"#)
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["messages"]?[0]?["content"] == "Hi")
        #expect(json["stream"] == true)
    }

    @Test func replacesModelWhenInTheMiddle() throws {
        let out = try patched(#"{"temperature":0.5,"model":"alias","max_tokens":10}"#)
        #expect(out == #"{"temperature":0.5,"model":"gpt-4o-mini","max_tokens":10}"#)
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["temperature"] == 0.5)
        #expect(json["max_tokens"] == 10)
    }

    @Test func replacesModelWhenLast() throws {
        let out = try patched(#"{"messages":[],"n":1,"model":"alias"}"#)
        #expect(out == #"{"messages":[],"n":1,"model":"gpt-4o-mini"}"#)
        #expect(try JSONValue.parse(out)["model"] == "gpt-4o-mini")
    }

    @Test func replacesNonStringModelValues() throws {
        #expect(try patched(#"{"model":null,"a":1}"#) == #"{"model":"gpt-4o-mini","a":1}"#)
        #expect(try patched(#"{"a":1,"model":42}"#) == #"{"a":1,"model":"gpt-4o-mini"}"#)
        #expect(try patched(#"{"model":{"name":"x"},"a":1}"#) == #"{"model":"gpt-4o-mini","a":1}"#)
        #expect(try patched(#"{"model":["x","y"]}"#) == #"{"model":"gpt-4o-mini"}"#)
    }

    @Test func textModelInsideOtherStringsIsNotTouched() throws {
        let text = #"{"messages":[{"role":"user","content":"which \"model\": \"alias\" are you?"}],"note":"model","model":"alias"}"#
        let out = try patched(text)
        #expect(out == #"{"messages":[{"role":"user","content":"which \"model\": \"alias\" are you?"}],"note":"model","model":"gpt-4o-mini"}"#)
        let json = try JSONValue.parse(out)
        #expect(json["messages"]?[0]?["content"] == #"which "model": "alias" are you?"#)
        #expect(json["note"] == "model")
        #expect(json["model"] == "gpt-4o-mini")
    }

    @Test func nestedModelKeysAreNotTouched() throws {
        let text = #"{"metadata":{"model":"inner","deep":{"model":"deeper"}},"tools":[{"model":"in-array"}],"model":"alias"}"#
        let out = try patched(text)
        #expect(out == #"{"metadata":{"model":"inner","deep":{"model":"deeper"}},"tools":[{"model":"in-array"}],"model":"gpt-4o-mini"}"#)
        let json = try JSONValue.parse(out)
        #expect(json["metadata"]?["model"] == "inner")
        #expect(json["metadata"]?["deep"]?["model"] == "deeper")
        #expect(json["tools"]?[0]?["model"] == "in-array")
        #expect(json["model"] == "gpt-4o-mini")
    }

    @Test func nestedModelKeyIsNotTakenForAnAbsentTopLevelKey() throws {
        let text = #"{"metadata":{"model":"inner"},"x":"}{"}"#
        let out = try patched(text)
        #expect(out == #"{"model":"gpt-4o-mini","metadata":{"model":"inner"},"x":"}{"}"#)
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["metadata"]?["model"] == "inner")
        #expect(json["x"] == "}{")
    }

    @Test func escapedQuotesAndBackslashesInStrings() throws {
        let text = #"{"a":"say \"hi\", \\","b":"\\\"model\\\":","model":"old \"alias\""}"#
        let out = try patched(text)
        #expect(out == #"{"a":"say \"hi\", \\","b":"\\\"model\\\":","model":"gpt-4o-mini"}"#)
        let json = try JSONValue.parse(out)
        #expect(json["a"] == #"say "hi", \"#)
        #expect(json["b"] == #"\"model\":"#)
        #expect(json["model"] == "gpt-4o-mini")
    }

    @Test func bracketsInsideNestedStringsDoNotEndTheValue() throws {
        let text = #"{"messages":[{"content":"]}]} \" ]"}],"model":"alias"}"#
        let out = try patched(text)
        #expect(out == #"{"messages":[{"content":"]}]} \" ]"}],"model":"gpt-4o-mini"}"#)
        #expect(try JSONValue.parse(out)["messages"]?[0]?["content"] == #"]}]} " ]"#)
    }

    @Test func whitespaceAndNewlinesArePreserved() throws {
        let text = "{\n  \"stream\" : false ,\n\t\"model\"\t:\r\n  \"alias\"  ,\n  \"n\": 2\n}\n"
        let out = try patched(text)
        #expect(out == "{\n  \"stream\" : false ,\n\t\"model\"\t:\r\n  \"gpt-4o-mini\"  ,\n  \"n\": 2\n}\n")
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["stream"] == false)
        #expect(json["n"] == 2)
    }

    @Test func leadingWhitespaceBeforeTheObject() throws {
        let out = try patched("  \n{\"model\": \"alias\"}")
        #expect(out == "  \n{\"model\": \"gpt-4o-mini\"}")
    }

    @Test func replacementValueIsEscaped() throws {
        let out = try patched(#"{"model":"alias"}"#, to: "a\"b\\c\nd")
        #expect(out == #"{"model":"a\"b\\c\nd"}"#)
        #expect(try JSONValue.parse(out)["model"] == "a\"b\\c\nd")
    }

    @Test func onlyTheFirstOccurrenceOfTheKeyIsReplaced() throws {
        let out = try patched(#"{"model":"a","other":1}"#, key: "other", to: "x")
        #expect(out == #"{"model":"a","other":"x"}"#)
    }

    @Test func keyPrefixIsNotAMatch() throws {
        let out = try patched(#"{"model_name":"keep","models":"keep"}"#)
        #expect(out == #"{"model":"gpt-4o-mini","model_name":"keep","models":"keep"}"#)
        let json = try JSONValue.parse(out)
        #expect(json["model_name"] == "keep")
        #expect(json["models"] == "keep")
        #expect(json["model"] == "gpt-4o-mini")
    }

    @Test func absentKeyIsAddedAtTheFront() throws {
        let out = try patched(#"{"messages":[{"role":"user","content":"Hi"}]}"#)
        #expect(out == #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]}"#)
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["messages"]?[0]?["role"] == "user")
    }

    @Test func absentKeyIsAddedToAnEmptyObject() throws {
        let out = try patched("{}")
        #expect(out == #"{"model":"gpt-4o-mini"}"#)
        #expect(try JSONValue.parse(out)["model"] == "gpt-4o-mini")

        let spaced = try patched("{ \n }")
        #expect(spaced == "{\"model\":\"gpt-4o-mini\" \n }")
        #expect(try JSONValue.parse(spaced)["model"] == "gpt-4o-mini")
    }

    @Test func absentKeyIsAddedAfterLeadingWhitespace() throws {
        let out = try patched("  { \"a\": 1 }")
        #expect(out == "  {\"model\":\"gpt-4o-mini\", \"a\": 1 }")
        let json = try JSONValue.parse(out)
        #expect(json["model"] == "gpt-4o-mini")
        #expect(json["a"] == 1)
    }

    @Test(arguments: ["[1,2]", "\"model\"", "42", "null", "true", "", "   ", "model", "[{\"model\":\"a\"}]"])
    func nonObjectInputGivesNil(text: String) {
        #expect(JSONFieldPatch.settingString("model", to: "x", in: Array(text.utf8)) == nil)
    }

    @Test(arguments: ["{", "{\"model\"", "{\"model\":", "{\"a\":1", "{\"a\":\"b}", "{\"a\" \"b\"}", "{1:2}"])
    func truncatedOrMalformedObjectGivesNil(text: String) {
        #expect(JSONFieldPatch.settingString("model", to: "x", in: Array(text.utf8)) == nil)
    }
}

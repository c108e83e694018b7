import Testing

@testable import TollgateCore

/// The body sent upstream: `model` set once and first, every other top-level member as sent.
private func patched(_ text: String, key: String = "model", to value: String = "gpt-4o-mini") throws -> String {
    String(decoding: try RequestMembers.scan(Array(text.utf8)).settingOnly(key, to: value), as: UTF8.self)
}

@Suite("Upstream body: exactly one model, every other member byte for byte")
struct SettingOnlyTests {
    @Test func replacesModelWhereverItIs() throws {
        #expect(try patched(#"{"model":"alias","messages":[{"role":"user","content":"Hi"}],"stream":true}"#)
            == #"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}],"stream":true}"#)
        #expect(try patched(#"{"temperature":0.5,"model":"alias","max_tokens":10}"#) == #"{"model":"gpt-4o-mini","temperature":0.5,"max_tokens":10}"#)
        #expect(try patched(#"{"messages":[],"n":1,"model":"alias"}"#) == #"{"model":"gpt-4o-mini","messages":[],"n":1}"#)
    }

    @Test func replacesNonStringModelValues() throws {
        #expect(try patched(#"{"model":null,"a":1}"#) == #"{"model":"gpt-4o-mini","a":1}"#)
        #expect(try patched(#"{"a":1,"model":42}"#) == #"{"model":"gpt-4o-mini","a":1}"#)
        #expect(try patched(#"{"model":{"name":"x"},"a":1}"#) == #"{"model":"gpt-4o-mini","a":1}"#)
        #expect(try patched(#"{"model":["x","y"]}"#) == #"{"model":"gpt-4o-mini"}"#)
    }

    @Test func modelInsideStringsAndNestedObjectsIsNotTouched() throws {
        let text = #"{"messages":[{"role":"user","content":"which \"model\": \"alias\" are you?"}],"metadata":{"model":"inner","deep":{"model":"x"}},"tools":[{"model":"in-array"}],"model":"alias"}"#
        let json = try JSONValue.parse(try patched(text))
        #expect(json["messages"]?[0]?["content"] == #"which "model": "alias" are you?"#)
        #expect(json["metadata"]?["model"] == "inner")
        #expect(json["metadata"]?["deep"]?["model"] == "x")
        #expect(json["tools"]?[0]?["model"] == "in-array")
        #expect(json["model"] == "gpt-4o-mini")
    }

    @Test func escapesBracketsAndNumbersAreCopiedAsSent() throws {
        let text = #"{"a":"say \"hi\", \\","b":"]}]} \" ]","big":9007199254740993,"e":1e999,"model":"old"}"#
        #expect(try patched(text) == #"{"model":"gpt-4o-mini","a":"say \"hi\", \\","b":"]}]} \" ]","big":9007199254740993,"e":1e999}"#)
    }

    @Test func spacingInsideMembersIsKept() throws {
        let out = try patched("  {\n  \"stream\" : false ,\n\t\"model\"\t:\r\n  \"alias\"  ,\n  \"n\": 2\n}\n")
        #expect(out == "{\"model\":\"gpt-4o-mini\",\"stream\" : false,\"n\": 2}")
    }

    @Test func replacementValueIsEscaped() throws {
        let out = try patched(#"{"model":"alias"}"#, to: "a\"b\\c\nd")
        #expect(try JSONValue.parse(out)["model"] == "a\"b\\c\nd")
    }

    @Test func anAbsentKeyIsAddedAndPrefixesAreNotMatches() throws {
        #expect(try patched("{}") == #"{"model":"gpt-4o-mini"}"#)
        #expect(try patched(#"{"model_name":"keep","models":"keep"}"#) == #"{"model":"gpt-4o-mini","model_name":"keep","models":"keep"}"#)
    }

    @Test(arguments: ["[1,2]", "\"model\"", "42", "null", "", "{", "{\"model\"", "{\"a\":1", "{\"a\" \"b\"}", "{1:2}", "{\"model\":1,\"model\":2}"])
    func anythingButOneValidObjectIsRefused(text: String) {
        #expect(throws: TranslationError.self) { try RequestMembers.scan(Array(text.utf8)) }
    }
}

@Suite("Appending a member to a relayed answer")
struct AppendingMemberTests {
    @Test func appendsAsTheLastMember() throws {
        #expect(JSONFieldPatch.appendingMember("databricks_output", ["trace": 1], to: " {\"id\":\"x\"} \n") == #"{"id":"x","databricks_output":{"trace":1}}"#)
        #expect(JSONFieldPatch.appendingMember("a", true, to: "{ }") == #"{ "a":true}"#)
        #expect(JSONFieldPatch.appendingMember("a", true, to: "[1]") == nil)
    }
}

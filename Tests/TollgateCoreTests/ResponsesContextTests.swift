import Testing
@testable import TollgateCore

@Suite("Stored Responses: input items and the conversation a later request continues")
struct ResponsesContextTests {
    @Test func inputBecomesItemsWithIDs() throws {
        let text = ResponsesContext.inputItems(of: ["input": "hello"], responseID: "resp_abc")
        #expect(text.count == 1)
        #expect(text[0]["id"]?.stringValue == "msg_abcin0")
        #expect(text[0]["content"]?[0]?["type"]?.stringValue == "input_text")
        let items = ResponsesContext.inputItems(
            of: ["input": [["role": "user", "content": "a"], ["type": "function_call_output", "call_id": "c1", "output": "4"], ["id": "msg_kept", "type": "message", "role": "user", "content": []]]],
            responseID: "resp_abc"
        )
        #expect(items[0]["id"]?.stringValue == "msg_abcin0")
        #expect(items[0]["type"]?.stringValue == "message")
        #expect(items[1]["id"] == nil)
        #expect(items[2]["id"]?.stringValue == "msg_kept")
    }

    @Test func aContinuedRequestSendsTheEarlierTurnsFirstWithoutTheirInstructions() throws {
        let first: JSONValue = ["id": "resp_1", "output": [["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "Teal."]]]]]
        let context = ResponsesContext.context(
            previous: [], input: ResponsesContext.inputItems(of: ["input": "colour?"], responseID: "resp_1"), response: first
        )
        let continued = ResponsesContext.continuing(["input": "again?", "instructions": "Be brief."], after: context, responseID: "resp_2")
        let chat = try ResponsesTranslation.chatRequest(fromResponses: continued, upstreamModel: "m")
        let roles = chat["messages"]?.arrayValue?.compactMap { $0["role"]?.stringValue }
        #expect(roles == ["system", "user", "assistant", "user"])
        #expect(chat["messages"]?[2]?["content"]?.stringValue == "Teal.")
    }
}

import Foundation

/// A Responses object kept for `GET /v1/responses/{id}`, `input_items` and
/// `previous_response_id` (`store` defaults to true, as OpenAI's).
public struct StoredResponse: Sendable, Equatable {
    public var responseID: String
    public var requestID: String
    public var endpointName: String
    public var createdAt: Date
    /// The response object as the client got it.
    public var response: JSONValue
    /// This request's input items, each with an id.
    public var inputItems: [JSONValue]
    /// Every item of the conversation through this response's output: what a request naming it
    /// as `previous_response_id` continues from.
    public var contextItems: [JSONValue]

    public init(
        responseID: String, requestID: String, endpointName: String, createdAt: Date, response: JSONValue, inputItems: [JSONValue],
        contextItems: [JSONValue]
    ) {
        self.responseID = responseID
        self.requestID = requestID
        self.endpointName = endpointName
        self.createdAt = createdAt
        self.response = response
        self.inputItems = inputItems
        self.contextItems = contextItems
    }
}

/// Conversation state across Responses requests: a request with `previous_response_id` is sent
/// upstream as the earlier conversation's items followed by its own input (the earlier
/// `instructions` are not carried over, as OpenAI does not).
public enum ResponsesContext {
    /// The request's `input` as items: a string becomes one user message; items without an id
    /// get one (`msg_…`), so `input_items` can list them.
    public static func inputItems(of request: JSONObject, responseID: String) -> [JSONValue] {
        let suffix = ResponsesObjects.idSuffix(of: responseID)
        switch request["input"] {
        case .string(let text)?:
            return [message(id: "msg_\(suffix)in0", text: text)]
        case .array(let items)?:
            return items.enumerated().map { index, item in
                guard case .object(var object) = item, object["id"] == nil else { return item }
                if object["type"] == nil || object["type"]?.stringValue == "message" {
                    object["id"] = .string("msg_\(suffix)in\(index)")
                    if object["type"] == nil { object["type"] = "message" }
                    if case .string(let text)? = object["content"] {
                        let role = object["role"]?.stringValue ?? "user"
                        object["content"] = [["type": .string(role == "assistant" ? "output_text" : "input_text"), "text": .string(text)]]
                    }
                }
                return .object(object)
            }
        default:
            return []
        }
    }

    /// The request with the earlier conversation's items before its own input.
    public static func continuing(_ request: JSONObject, after context: [JSONValue], responseID: String) -> JSONObject {
        var continued = request
        continued["input"] = .array(context + inputItems(of: request, responseID: responseID))
        return continued
    }

    /// What a later request continues from: the earlier context, this input, this output.
    public static func context(previous: [JSONValue], input: [JSONValue], response: JSONValue) -> [JSONValue] {
        previous + input + (response["output"]?.arrayValue ?? [])
    }

    static func message(id: String, text: String) -> JSONValue {
        ["id": .string(id), "type": "message", "role": "user", "status": "completed", "content": [["type": "input_text", "text": .string(text)]]]
    }
}

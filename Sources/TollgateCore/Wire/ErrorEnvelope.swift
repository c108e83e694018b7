/// The OpenAI error envelope: `{"error":{"message","type","param","code"}}`.
public struct ErrorEnvelope: Sendable, Equatable {
    public var message: String
    public var type: String
    public var param: String?
    public var code: String?
    /// Extra members kept beside the standard four (for example the raw upstream body).
    public var extra: JSONObject

    public init(message: String, type: String, param: String? = nil, code: String? = nil, extra: JSONObject = JSONObject()) {
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.extra = extra
    }

    public var json: JSONValue {
        var error = JSONObject()
        error["message"] = .string(message)
        error["type"] = .string(type)
        error["param"] = .optionalString(param)
        error["code"] = .optionalString(code)
        for (key, value) in extra.pairs { error[key] = value }
        return ["error": .object(error)]
    }

    public var jsonText: String { json.jsonText }
}

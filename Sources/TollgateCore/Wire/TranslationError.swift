/// A request that cannot be translated between wire formats, reported to the client as a 400.
public struct TranslationError: Error, Sendable, Equatable {
    public enum Code: String, Sendable {
        case invalidRequest = "invalid_request"
        /// The body is not a valid JSON object.
        case invalidJSON = "invalid_json"
    }

    public var code: Code
    public var message: String
    /// The offending request member, for example `input` or `tools[2].type`.
    public var param: String?

    public init(code: Code = .invalidRequest, message: String, param: String? = nil) {
        self.code = code
        self.message = message
        self.param = param
    }

    /// The OpenAI error envelope a client should receive for this error.
    public var envelope: ErrorEnvelope {
        ErrorEnvelope(message: message, type: "invalid_request_error", param: param, code: code.rawValue)
    }
}

import TollgateCore
import TollgateProviders

/// An error answered to the client: HTTP status plus the OpenAI error envelope. The only place
/// where internal errors become HTTP.
struct GatewayError: Error, Sendable {
    enum Code: String, Sendable {
        case invalidJSON = "invalid_json"
        case invalidRequest = "invalid_request"
        case endpointNotFound = "endpoint_not_found"
        case modelNotFound = "model_not_found"
        case previousResponseNotFound = "previous_response_not_found"
        case responseNotFound = "response_not_found"
        case routeNotFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        case requestTooLarge = "request_too_large"
        case requestTimeout = "request_timeout"
        case noServedEntity = "no_served_entity"
        case upstreamUnreachable = "upstream_unreachable"
        case upstreamTimeout = "upstream_timeout"
        case upstreamInvalidResponse = "upstream_invalid_response"
        case upstreamError = "upstream_error"
        case internalError = "internal_error"
        case clientClosedRequest = "client_closed_request"
        // Governance.
        case invalidAPIKey = "invalid_api_key"
        case forbidden = "permission_denied"
        case rateLimitExceeded = "rate_limit_exceeded"
        case contentFilter = "content_filter"
        // Admin API: Databricks' error codes.
        case unauthenticated = "UNAUTHENTICATED"
        case resourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST"
        case resourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
        case resourceConflict = "RESOURCE_CONFLICT"
        case invalidParameterValue = "INVALID_PARAMETER_VALUE"
        case permissionDenied = "PERMISSION_DENIED"
    }

    var code: Code
    var status: Int
    var message: String
    var param: String?
    /// Extra envelope members (e.g. the upstream's raw bytes).
    var extra: JSONObject = JSONObject()

    var envelope: ErrorEnvelope {
        ErrorEnvelope(message: message, type: Self.type(for: status), param: param, code: code.rawValue, extra: extra)
    }

    /// Databricks' REST error body (`{"error_code", "message"}`), which the databricks-sdk turns
    /// into its typed errors; the admin and trace routes answer with it.
    var databricksEnvelope: JSONValue {
        ["error_code": .string(databricksCode), "message": .string(message)]
    }

    /// The Databricks error code: the code itself when it is one, else the one for the status.
    var databricksCode: String {
        if code.rawValue == code.rawValue.uppercased() { return code.rawValue }
        switch status {
        case 400, 405, 408, 413: return "INVALID_PARAMETER_VALUE"
        case 401: return "UNAUTHENTICATED"
        case 403: return "PERMISSION_DENIED"
        case 404: return "RESOURCE_DOES_NOT_EXIST"
        case 409: return "RESOURCE_CONFLICT"
        case 429: return "REQUEST_LIMIT_EXCEEDED"
        default: return "INTERNAL_ERROR"
        }
    }

    static func type(for status: Int) -> String {
        switch status {
        case 400, 404, 405, 408, 409, 413, 422, 499: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 429: "rate_limit_error"
        case 502, 504: "upstream_error"
        default: "server_error"
        }
    }

    /// How an upstream failure is answered.
    init(_ error: UpstreamError) {
        switch error.code {
        case .connectFailed:
            self.init(code: .upstreamUnreachable, status: 502, message: error.message)
        case .timeout:
            self.init(code: .upstreamTimeout, status: 504, message: error.message)
        case .invalidResponse, .invalidStream, .responseTooLarge:
            self.init(code: .upstreamInvalidResponse, status: 502, message: error.message)
        case .connectionLost, .streamError:
            self.init(code: .upstreamError, status: 502, message: error.message)
        }
        if let raw = error.rawBody { extra["upstream_body"] = .string(String(raw.prefix(64 * 1024))) }
    }

    /// A request refused before it was sent upstream.
    init(_ error: TranslationError) {
        self.init(code: error.code == .invalidJSON ? .invalidJSON : .invalidRequest, status: 400, message: error.message, param: error.param)
    }

    init(code: Code, status: Int, message: String, param: String? = nil) {
        self.code = code
        self.status = status
        self.message = message
        self.param = param
    }
}

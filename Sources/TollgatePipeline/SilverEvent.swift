/// A bronze row parsed once: what the request was, what came back, and every piece of evidence
/// (errors, filter annotations, token usage, trace exceptions) found anywhere in it.
public struct SilverEvent: Sendable, Equatable {
    public var requestID: String
    public var rowID: Int64
    public var requestTime: String
    public var requestDate: String
    public var endpointName: String
    public var servedEntityName: String?
    public var requester: String?
    public var clientRequestID: String?
    public var api: String
    public var stream: Bool
    public var statusCode: Int
    public var streamEnd: String?
    public var executionDurationMs: Int?
    public var timeToFirstTokenMs: Int?
    public var traceID: String?

    /// `chat_completion`, `chat_stream`, `responses`, `responses_stream`, `error`, `not_logged`, `unparsable`.
    public var responseShape = "not_logged"
    public var model: String?
    public var text = ""
    public var finishReason: String?
    public var errorType: String?
    public var errorCode: String?
    public var errorMessage: String?
    /// The provider's error as JSON text, wherever it was found (response, stream, trace).
    public var errorBody: String?
    public var inputTokens: Int?
    public var outputTokens: Int?
    public var totalTokens: Int?
    public var cachedTokens: Int?
    public var reasoningTokens: Int?
    /// `response`, `stream`, `trace`, `usage_table_reported`, `usage_table_estimated`.
    public var tokenSource: String?
    public var filters: [FilterResult] = []
    public var spanCount: Int?
    /// A model call in the trace failed (the agent may still have answered 200).
    public var traceException = false
    public var requestPreview = ""
    public var parseProblems: [String] = []

    public init(bronze: BronzeRow) {
        requestID = bronze.requestID
        rowID = bronze.rowID
        requestTime = bronze.requestTime
        requestDate = bronze.requestDate ?? String(bronze.requestTime.prefix(10))
        endpointName = bronze.endpointName
        servedEntityName = bronze.servedEntityName
        requester = bronze.requester
        clientRequestID = bronze.clientRequestID
        api = bronze.api
        stream = bronze.stream
        statusCode = bronze.statusCode
        streamEnd = bronze.streamEnd
        executionDurationMs = bronze.executionDurationMs
        timeToFirstTokenMs = bronze.timeToFirstTokenMs
        traceID = bronze.traceID
    }
}

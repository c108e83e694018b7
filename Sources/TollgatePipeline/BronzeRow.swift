/// One `inference_table` row as the pipeline reads it (with its usage row and trace, if any).
public struct BronzeRow: Sendable {
    public var rowID: Int64
    public var requestID: String
    public var clientRequestID: String?
    public var requestTime: String
    public var requestDate: String?
    public var endpointName: String
    public var servedEntityName: String?
    public var api: String
    public var stream: Bool
    public var statusCode: Int
    public var executionDurationMs: Int?
    public var timeToFirstTokenMs: Int?
    public var request: String?
    public var response: String?
    public var streamEnd: String?
    public var loggingErrorCodes: String?
    public var requester: String?
    public var traceID: String?
    /// The stored trace's spans (gateway rows), when there is one.
    public var traceSpans: [SpanFacts]?
    public var traceUsage: (input: Int?, output: Int?)?
    /// `endpoint_usage` counts, when recorded.
    public var usageInput: Int?
    public var usageOutput: Int?
    public var usageSource: String?

    public init(
        rowID: Int64, requestID: String, clientRequestID: String? = nil, requestTime: String, requestDate: String? = nil,
        endpointName: String, servedEntityName: String? = nil, api: String, stream: Bool, statusCode: Int,
        executionDurationMs: Int? = nil, timeToFirstTokenMs: Int? = nil, request: String? = nil, response: String? = nil,
        streamEnd: String? = nil, loggingErrorCodes: String? = nil, requester: String? = nil, traceID: String? = nil,
        usageInput: Int? = nil, usageOutput: Int? = nil, usageSource: String? = nil
    ) {
        self.rowID = rowID
        self.requestID = requestID
        self.clientRequestID = clientRequestID
        self.requestTime = requestTime
        self.requestDate = requestDate
        self.endpointName = endpointName
        self.servedEntityName = servedEntityName
        self.api = api
        self.stream = stream
        self.statusCode = statusCode
        self.executionDurationMs = executionDurationMs
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.request = request
        self.response = response
        self.streamEnd = streamEnd
        self.loggingErrorCodes = loggingErrorCodes
        self.requester = requester
        self.traceID = traceID
        self.usageInput = usageInput
        self.usageOutput = usageOutput
        self.usageSource = usageSource
    }
}

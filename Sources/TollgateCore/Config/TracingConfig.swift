/// `tracing:` — where traces go besides the store.
public struct TracingConfig: Sendable, Equatable, Codable {
    /// Whether requests are traced at all (default true).
    public var enabled: Bool
    /// Export to an OTLP/HTTP collector (MLflow, Jaeger, Phoenix, Langfuse …).
    public var otlp: OTLPConfig?

    public init(enabled: Bool = true, otlp: OTLPConfig? = nil) {
        self.enabled = enabled
        self.otlp = otlp
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled) ?? true
        otlp = try c.decodeIfPresent(OTLPConfig.self, forKey: .otlp)
    }
}

/// `tracing.otlp` — batched OTLP/HTTP JSON export, off the request path.
public struct OTLPConfig: Sendable, Equatable, Codable {
    /// Collector base URL; spans are posted to `{endpoint}/v1/traces`.
    public var endpoint: String
    /// Extra headers, e.g. `x-mlflow-experiment-id: "0"` for MLflow (values may use `${ENV}`).
    public var headers: [String: String]
    /// Traces per request to the collector.
    public var batchSize: Int
    /// Longest wait before queued traces are sent.
    public var flushIntervalMs: Int
    /// Traces held while the collector is slow or down; beyond this the oldest are dropped.
    public var maxQueue: Int
    /// Attempts per batch before it is dropped.
    public var maxAttempts: Int
    /// Seconds to wait for the collector per attempt.
    public var timeoutSeconds: Double

    public init(
        endpoint: String, headers: [String: String] = [:], batchSize: Int = 256, flushIntervalMs: Int = 1000,
        maxQueue: Int = 10_000, maxAttempts: Int = 3, timeoutSeconds: Double = 5
    ) {
        self.endpoint = endpoint
        self.headers = headers
        self.batchSize = batchSize
        self.flushIntervalMs = flushIntervalMs
        self.maxQueue = maxQueue
        self.maxAttempts = maxAttempts
        self.timeoutSeconds = timeoutSeconds
    }

    enum CodingKeys: String, CodingKey {
        case endpoint, headers
        case batchSize = "batch_size"
        case flushIntervalMs = "flush_interval_ms"
        case maxQueue = "max_queue"
        case maxAttempts = "max_attempts"
        case timeoutSeconds = "timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let d = OTLPConfig(endpoint: "")
        let c = try decoder.container(keyedBy: CodingKeys.self)
        endpoint = try c.decode(String.self, forKey: .endpoint)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        flushIntervalMs = try c.decodeIfPresent(Int.self, forKey: .flushIntervalMs) ?? d.flushIntervalMs
        maxQueue = try c.decodeIfPresent(Int.self, forKey: .maxQueue) ?? d.maxQueue
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? d.maxAttempts
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? d.timeoutSeconds
    }
}

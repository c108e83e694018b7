/// `pipeline:` — the bronze → silver → gold pipeline.
public struct PipelineConfig: Sendable, Equatable, Codable {
    /// `tollgate serve` runs the pipeline this often (seconds); 0 leaves it to `tollgate pipeline run`.
    public var intervalSeconds: Int
    /// Bronze rows per batch; each batch is one transaction.
    public var batchSize: Int
    /// Whether the built-in expectations run beside the configured ones.
    public var builtinExpectations: Bool
    public var expectations: [ExpectationConfig]
    /// Prompts `tollgate probe` sends, by inference case (`predict_valid`, `predict_blocked`,
    /// `stream_valid`, `stream_blocked_immediately`, `stream_blocked_partially`).
    public var probePrompts: [String: String]

    public init(
        intervalSeconds: Int = 0, batchSize: Int = 5000, builtinExpectations: Bool = true, expectations: [ExpectationConfig] = [],
        probePrompts: [String: String] = [:]
    ) {
        self.probePrompts = probePrompts
        self.intervalSeconds = intervalSeconds
        self.batchSize = batchSize
        self.builtinExpectations = builtinExpectations
        self.expectations = expectations
    }

    enum CodingKeys: String, CodingKey {
        case expectations
        case probePrompts = "probe_prompts"
        case intervalSeconds = "interval_seconds"
        case batchSize = "batch_size"
        case builtinExpectations = "builtin_expectations"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        intervalSeconds = try c.decodeIfPresent(Int.self, forKey: .intervalSeconds) ?? 0
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? 5000
        builtinExpectations = try c.decodeIfPresent(Bool.self, forKey: .builtinExpectations) ?? true
        expectations = try c.decodeIfPresent([ExpectationConfig].self, forKey: .expectations) ?? []
        probePrompts = try c.decodeIfPresent([String: String].self, forKey: .probePrompts) ?? [:]
    }
}

/// One data-quality expectation, with Lakeflow/DLT semantics.
public struct ExpectationConfig: Sendable, Equatable, Codable {
    public enum Action: String, Sendable, Codable {
        /// Keep the row; count it as failed.
        case warn
        /// Leave the row out of the dataset; count it.
        case drop
        /// Stop the flow; nothing of the batch is written.
        case fail
        /// Route the row to `quarantine` with the names of the rules it failed.
        case quarantine
    }

    public enum Dataset: String, Sendable, Codable {
        case silverEvents = "silver_events"
        case goldRequests = "gold_requests"
    }

    public var name: String
    public var dataset: Dataset
    /// A SQL boolean over the dataset's columns; a row fails when it is false.
    public var constraint: String
    public var onViolation: Action

    public init(name: String, dataset: Dataset, constraint: String, onViolation: Action = .warn) {
        self.name = name
        self.dataset = dataset
        self.constraint = constraint
        self.onViolation = onViolation
    }

    enum CodingKeys: String, CodingKey {
        case name, dataset, constraint
        case onViolation = "on_violation"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        dataset = try c.decode(Dataset.self, forKey: .dataset)
        constraint = try c.decode(String.self, forKey: .constraint)
        onViolation = try c.decodeIfPresent(Action.self, forKey: .onViolation) ?? .warn
    }
}

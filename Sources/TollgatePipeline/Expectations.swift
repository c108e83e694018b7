import TollgateCore

/// The expectations that run on every pipeline update unless `builtin_expectations: false`.
public enum BuiltinExpectations {
    public static let all: [ExpectationConfig] = [
        ExpectationConfig(
            name: "stream_rows_have_stream_end", dataset: .silverEvents, constraint: "stream = 0 OR stream_end IS NOT NULL"
        ),
        ExpectationConfig(name: "response_is_parseable", dataset: .silverEvents, constraint: "response_shape <> 'unparsable'"),
        ExpectationConfig(
            name: "tokens_add_up", dataset: .goldRequests,
            constraint: "input_tokens IS NULL OR output_tokens IS NULL OR total_tokens IS NULL OR total_tokens = input_tokens + output_tokens"
        ),
        ExpectationConfig(
            name: "blocked_rows_name_their_cause", dataset: .goldRequests,
            constraint: "outcome NOT IN ('blocked', 'partial') OR blocked_by IS NOT NULL"
        ),
        ExpectationConfig(name: "valid_status_code", dataset: .goldRequests, constraint: "status_code BETWEEN 100 AND 599"),
    ]
}

/// The data-quality result of one expectation over one batch.
public struct ExpectationResult: Sendable, Equatable {
    public var name: String
    public var dataset: String
    public var action: String
    public var passed: Int
    public var failed: Int

    var json: JSONValue {
        ["name": .string(name), "dataset": .string(dataset), "action": .string(action), "passed_records": .int(passed), "failed_records": .int(failed)]
    }
}

/// Why an update stopped.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case expectationFailed = "expectation_failed"
        case invalidExpectation = "invalid_expectation"
        case storeFailed = "store_failed"
    }

    public var code: Code
    public var message: String
    public var description: String { "\(code.rawValue): \(message)" }
}

/// One row of `gold_requests`.
public struct GoldRequest: Sendable, Equatable {
    public enum Outcome: String, Sendable { case success, blocked, partial, error, cancelled }

    public enum InferenceCase: String, Sendable {
        case predictValid = "predict_valid"
        case predictBlocked = "predict_blocked"
        case streamValid = "stream_valid"
        case streamBlockedImmediately = "stream_blocked_immediately"
        case streamBlockedPartially = "stream_blocked_partially"
        case predictError = "predict_error"
        case predictCancelled = "predict_cancelled"
        case streamError = "stream_error"
        case streamCancelled = "stream_cancelled"
    }

    public enum BlockedBy: String, Sendable {
        case promptFilter = "prompt_filter"
        case contentFilter = "content_filter"
        case guardrail
    }

    public var event: SilverEvent
    public var outcome: Outcome
    public var inferenceCase: InferenceCase
    public var blockedBy: BlockedBy?
    public var responsePreview: String { event.text.leading(1000) }
    public var responseChars: Int { event.text.count }
}

/// Decides outcome, inference case and what blocked a request, from its silver event.
public enum GoldClassifier {
    public static func classify(_ event: SilverEvent) -> GoldRequest {
        let blockedBy = blockedBy(event)
        let hadContent = !event.text.isEmpty
        let outcome: GoldRequest.Outcome
        if event.streamEnd == "client_cancelled" {
            outcome = .cancelled
        } else if let blockedBy {
            outcome = event.stream && hadContent && blockedBy == .contentFilter ? .partial : .blocked
        } else if event.statusCode >= 400 || event.streamEnd == "upstream_error" || event.streamEnd == "timeout" || event.finishReason == "error" {
            outcome = .error
        } else {
            outcome = .success
        }
        let inferenceCase: GoldRequest.InferenceCase
        switch (event.stream, outcome) {
        case (false, .success): inferenceCase = .predictValid
        case (false, .blocked), (false, .partial): inferenceCase = .predictBlocked
        case (false, .cancelled): inferenceCase = .predictCancelled
        case (false, _): inferenceCase = .predictError
        case (true, .success): inferenceCase = .streamValid
        // A blocked prompt never reached the model: text in such a stream is an agent's canned answer.
        case (true, .blocked): inferenceCase = hadContent && blockedBy == .contentFilter ? .streamBlockedPartially : .streamBlockedImmediately
        case (true, .partial): inferenceCase = .streamBlockedPartially
        case (true, .cancelled): inferenceCase = .streamCancelled
        case (true, .error): inferenceCase = .streamError
        }
        return GoldRequest(event: event, outcome: outcome, inferenceCase: inferenceCase, blockedBy: blockedBy)
    }

    /// A content filter or guardrail stopped the request: an HTTP 400 `content_filter` (or an agent
    /// that caught one — the evidence is in its trace), or an answer cut with
    /// `finish_reason: content_filter`.
    static func blockedBy(_ event: SilverEvent) -> GoldRequest.BlockedBy? {
        if event.errorCode == "guardrail_violation" || event.errorType == "guardrail" { return .guardrail }
        let promptFired = event.filters.contains { $0.stage == .prompt && $0.filtered }
        let completionFired = event.filters.contains { $0.stage == .completion && $0.filtered }
        if event.errorCode == "content_filter" { return completionFired && !promptFired ? .contentFilter : .promptFilter }
        if event.traceException && promptFired { return .promptFilter }
        if event.finishReason == "content_filter" { return .contentFilter }
        return nil
    }
}

import Foundation
import Synchronization
import TollgateCore
import TollgateStore

/// Everything one streamed response has sent so far, and the guarantee that it is recorded
/// exactly once however the stream ends: normally, on an upstream failure, on client
/// cancellation (cancellation handler), or — as a last resort — when the ledger is released.
final class StreamLedger: Sendable {
    private struct State {
        var record: InferenceRecord
        var payloads: [String] = []
        var text = ""
        var reportedUsage: TokenUsage?
        var firstContentAt: ContinuousClock.Instant?
        var finished = false
        var outputFindings: [GuardrailFinding] = []
    }

    private let state: Mutex<State>
    private let call: InferenceCall
    private let upstreamStart: ContinuousClock.Instant
    private let writer: RecordWriter

    init(call: InferenceCall, record: InferenceRecord, upstreamStart: ContinuousClock.Instant, writer: RecordWriter) {
        self.call = call
        self.state = Mutex(State(record: record))
        self.upstreamStart = upstreamStart
        self.writer = writer
    }

    /// Notes one SSE data payload that was written to the client.
    func sent(_ payload: String, contentDelta: String = "") {
        state.withLock {
            $0.payloads.append(payload)
            if !contentDelta.isEmpty {
                $0.text += contentDelta
                if $0.firstContentAt == nil { $0.firstContentAt = .now }
            }
        }
    }

    /// Notes usage the upstream reported.
    func reportUsage(_ usage: TokenUsage) {
        state.withLock { $0.reportedUsage = usage }
    }

    /// Notes what the output guardrails found (recorded with the input's in `guardrails`).
    func noteGuardrails(_ findings: [GuardrailFinding]) {
        state.withLock { $0.outputFindings = findings }
    }

    /// Keeps the finished Responses object of a stored Responses stream, with the row.
    func keepResponse(_ response: JSONValue) {
        state.withLock { call.keep(response, in: &$0.record) }
    }

    /// Records the stream with how it ended; later calls do nothing.
    func finish(_ end: StreamEnd) {
        let record: InferenceRecord? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            var record = state.record
            let now = ContinuousClock.now
            record.streamEnd = end
            record.executionDurationMs = Self.milliseconds(now - upstreamStart)
            record.timeToFirstTokenMs = state.firstContentAt.map { Self.milliseconds($0 - upstreamStart) }
            record.response = "[" + state.payloads.joined(separator: ",") + "]"
            if let usage = state.reportedUsage {
                record.usage = .reported(usage)
            } else {
                record.usage = .estimate(responseText: state.text)
            }
            let governance = call.governance
            if governance.ticket != nil {
                let tokens = state.reportedUsage.map { $0.input + $0.output }
                    ?? governance.inputTokens + TokenEstimator.estimate(state.text)
                governance.settle(tokens: tokens)
            }
            for finding in state.outputFindings {
                governance.metrics?.guardrail(endpoint: call.endpoint.config.name, direction: "output", check: finding.check, action: finding.action.rawValue)
            }
            let findings = governance.inputFindings + state.outputFindings
            if !state.outputFindings.isEmpty { record.guardrails = GuardrailAnnotations.record(findings) }
            record.upstreamWait = now - upstreamStart
            call.attachTrace(to: &record, clientOutput: record.response, failed: ![.done, .contentFilter].contains(end))
            return record
        }
        if let record { writer.enqueue(record) }
    }

    /// The trace as it stands, closed for the client that asked for it (`return_trace`).
    func clientTrace() -> JSONValue {
        var record = state.withLock { state in
            var record = state.record
            record.response = "[" + state.payloads.joined(separator: ",") + "]"
            return record
        }
        call.attachTrace(to: &record, clientOutput: record.response, failed: false)
        guard let trace = record.trace else { return .null }
        return TraceOutput.document(trace, request: record.request, response: record.response)
    }

    deinit {
        finish(.clientCancelled)
    }

    static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Sends an accepted call upstream — moving on to the next served entity when fallbacks are on
/// and nothing reached the client yet — and answers the client in the format it asked for,
/// recording the outcome exactly once.
struct UpstreamRelay: Sendable {
    let writer: RecordWriter
    /// The request's logger (request id in its metadata).
    let logger: Logger

    /// The request's connection, watched so that a client hanging up cancels the upstream call.
    let hangup: ClientHangup?

    func respond(_ accepted: InferenceCall) async -> Response {
        var call = accepted
        let candidates = fallbackOrder(call)
        var attempts: [FallbackAttempt] = []
        var waited: Duration = .zero
        for (position, entity) in candidates.enumerated() {
            if position > 0 {
                call.governance.metrics?.fallback(endpoint: call.endpoint.config.name, from: call.entity.config.name, to: entity.config.name)
                logger.warning("falling back to the next served entity", metadata: [
                    "endpoint": "\(call.endpoint.config.name)", "from": "\(call.entity.config.name)", "to": "\(entity.config.name)",
                ])
                call = call.movingTo(entity)
            }
            let start = ContinuousClock.now
            let outcome = await EntityAttempt(hangup: hangup).run(&call)
            waited += .now - start
            if candidates.count > 1 { attempts.append(outcome.attempt(entity: call.entity.config.name, duration: .now - start)) }
            if outcome.allowsFallback && position < candidates.count - 1 {
                if case .complete(let status, let body, _, let spanStart, let upstreamBody?) = outcome {
                    // The answered error the fallback moves past keeps its span in the trace.
                    call.trace.addModelCall(
                        parent: nil, start: spanStart, inputs: upstreamBody, outputs: nil, usage: nil,
                        error: ("HTTPError \(status)", String(buffer: body)), upstreamModel: call.entity.upstreamModel, stream: call.stream,
                        type: call.spanType
                    )
                }
                continue
            }
            if attempts.count > 1 { call.record.fallbackAttempts = attempts }
            call.record.upstreamWait = (call.record.upstreamWait ?? .zero) + waited
            var response = answer(call, outcome, start: start)
            call.governance.decorate(&response, record: call.record)
            return response
        }
        // Unreachable: the list always holds the routed entity.
        return fail(call, GatewayError(code: .noServedEntity, status: 503, message: "No served entity answered."), start: nil, streamEnd: .upstreamError)
    }

    /// The routed entity, then (with `fallback_config.enabled`) every other entity of the
    /// endpoint in its list order.
    private func fallbackOrder(_ call: InferenceCall) -> [EntityRuntime] {
        guard call.endpoint.config.aiGateway.fallbackEnabled else { return [call.entity] }
        let others = call.endpoint.config.config.servedEntities.compactMap { entity in
            entity.name == call.entity.config.name ? nil : call.endpoint.entities[entity.name]
        }
        return [call.entity] + others
    }

    private func answer(_ call: InferenceCall, _ outcome: AttemptOutcome, start: ContinuousClock.Instant) -> Response {
        switch outcome {
        case .clientLeft:
            return cancelled(call, start: start)
        case .failed(let error, let streamEnd):
            return fail(call, error, start: start, streamEnd: streamEnd)
        case .complete(let status, let body, let headers, let spanStart, let upstreamBody):
            var response = complete(call, status: status, body: body, start: start, spanStart: spanStart, upstreamBody: upstreamBody)
            for header in headers {
                if let name = HTTPField.Name(header.name) { response.headers[name] = header.value }
            }
            return response
        case .stream(let chunks):
            switch call.output {
            case .chat, .embeddings:
                return ChatStreamRelay(call: call, chunks: chunks, writer: writer, start: start).response()
            case .responses(let request):
                return ResponsesStreamRelay(call: call, request: request, chunks: chunks, writer: writer, start: start).response()
            }
        }
    }

    /// Records a request whose client hung up before the answer started (499, as nginx logs it).
    private func cancelled(_ call: InferenceCall, start: ContinuousClock.Instant) -> Response {
        logger.info("client closed the connection before the answer; upstream call cancelled", metadata: [
            "endpoint": "\(call.endpoint.config.name)", "entity": "\(call.entity.config.name)",
        ])
        var record = call.record
        record.executionDurationMs = StreamLedger.milliseconds(.now - start)
        record.streamEnd = .clientCancelled
        let error = GatewayError(code: .clientClosedRequest, status: 499, message: "The client closed the connection before the answer started.")
        return answer(call, record: &record, status: 499, body: error.envelope.jsonText)
    }

    /// Answers and records an error that happened before any response byte was sent.
    func fail(_ call: InferenceCall, _ error: GatewayError, start: ContinuousClock.Instant?, streamEnd: StreamEnd) -> Response {
        logger.warning("upstream call failed", metadata: [
            "endpoint": "\(call.endpoint.config.name)", "entity": "\(call.entity.config.name)", "status": "\(error.status)",
            "code": "\(error.code.rawValue)",
        ])
        var record = call.record
        if let start { record.executionDurationMs = StreamLedger.milliseconds(.now - start) }
        if call.stream { record.streamEnd = streamEnd }
        return answer(call, record: &record, status: error.status, body: error.envelope.jsonText)
    }

    /// Answers and records an error for a request that never reached an endpoint's model.
    static func errorResponse(_ error: GatewayError, record: InferenceRecord, writer: RecordWriter) -> Response {
        var record = record
        let body = error.envelope.jsonText
        record.statusCode = error.status
        record.response = body
        writer.enqueue(record)
        var response = HTTPAnswers.json(status: error.status, body: ByteBuffer(string: body), requestID: record.requestID, entity: record.servedEntityName)
        CallGovernance.stampOverhead(&response, record: record)
        return response
    }

    /// Finishes the trace, adds it to the body when the client asked for it, settles the token
    /// reservation, records, answers.
    private func answer(_ call: InferenceCall, record: inout InferenceRecord, status: Int, body: String, raw: ByteBuffer? = nil) -> Response {
        record.statusCode = status
        call.attachTrace(to: &record, clientOutput: body, failed: !(200..<300).contains(status))
        var sent = body
        var buffer = raw
        if call.returnTrace, let trace = record.trace,
           let withTrace = JSONFieldPatch.appendingMember(
               "databricks_output", ["trace": TraceOutput.document(trace, request: record.request, response: body)], to: body
           ) {
            sent = withTrace
            buffer = nil
        }
        record.response = sent
        if call.governance.ticket != nil { call.governance.settle(tokens: Self.tokens(record, input: call.governance.inputTokens)) }
        writer.enqueue(record)
        return HTTPAnswers.json(status: status, body: buffer ?? ByteBuffer(string: sent), requestID: record.requestID, entity: record.servedEntityName)
    }

    /// The request's tokens for settling a reservation: reported, else estimated; none on errors.
    private static func tokens(_ record: InferenceRecord, input: Int) -> Int {
        switch record.usage {
        case .reported(let input, let output, _): input + output
        case .estimate(let text): input + TokenEstimator.estimate(text)
        case .responseBody(let body): TokenEstimator.usage(for: .responseBody(body), requestBody: record.request).map { $0.input + $0.output } ?? 0
        case .none: 0
        }
    }

    /// A whole upstream body: relayed (chat) or translated (Responses); upstream errors pass
    /// through; output guardrails screen a successful answer first.
    private func complete(
        _ call: InferenceCall, status: Int, body: ByteBuffer, start: ContinuousClock.Instant, spanStart: UInt64, upstreamBody: String?
    ) -> Response {
        var record = call.record
        record.executionDurationMs = StreamLedger.milliseconds(.now - start)
        if call.stream { record.streamEnd = (200..<300).contains(status) ? .done : .upstreamError }
        let raw = String(buffer: body)
        let ok = (200..<300).contains(status)
        // The body is decoded once: a small digest when it is relayed as is (output guardrails
        // screen the digest's texts), the whole document when it becomes a Responses object or
        // a guardrail's finding must be written into it.
        let guarded = ok && call.governance.output != nil && !call.isEmbeddings
        let reading = ok ? CompletionReading(body, output: call.output) : nil
        if let upstreamBody {
            call.trace.addModelCall(
                parent: nil, start: spanStart, inputs: upstreamBody, outputs: ok ? raw : nil, usage: reading?.counts,
                error: ok ? (reading == nil ? ("InvalidJSON", raw) : nil) : ("HTTPError \(status)", raw),
                upstreamModel: call.entity.upstreamModel, stream: call.stream, type: call.spanType
            )
        }
        guard ok else {
            logger.info("upstream answered an error", metadata: [
                "endpoint": "\(call.endpoint.config.name)", "entity": "\(call.entity.config.name)", "status": "\(status)",
            ])
            let relayed = UpstreamErrorBody.relayable(status: status, raw: raw)
            return answer(call, record: &record, status: relayed.status, body: relayed.body, raw: relayed.body == raw ? body : nil)
        }
        guard let reading else { return invalid(call, raw: raw, start: start) }
        record.usage = reading.evidence
        var completion = reading.completion
        var screened = false
        if guarded, let check = call.governance.output, let original = completion ?? Self.flagged(reading, by: check, body: body) {
            let (rewritten, findings) = CompletionGuard.apply(check, to: original)
            // Nothing found: the upstream's bytes go out as they came.
            if !findings.isEmpty {
                completion = rewritten
                screened = true
            }
            for finding in findings {
                call.governance.metrics?.guardrail(endpoint: call.endpoint.config.name, direction: "output", check: finding.check, action: finding.action.rawValue)
            }
            if let recorded = GuardrailAnnotations.record(call.governance.inputFindings + findings) { record.guardrails = recorded }
        }
        switch (call.output, completion) {
        case (.responses(let request), let completion?):
            let response = ResponsesTranslation.response(
                fromChatCompletion: completion, request: request, model: call.endpoint.config.name,
                responseID: Identifiers.hex(prefix: "resp_"), createdAt: Int(Date().timeIntervalSince1970)
            )
            call.keep(response, in: &record)
            return answer(call, record: &record, status: status, body: response.jsonText)
        case (_, let completion?) where screened:
            return answer(call, record: &record, status: status, body: completion.jsonText)
        default:
            return answer(call, record: &record, status: status, body: raw, raw: body)
        }
    }

    /// The whole answer, parsed only when the digest's texts have a finding to write into it.
    private static func flagged(_ reading: CompletionReading, by check: GuardrailCheck, body: ByteBuffer) -> JSONValue? {
        guard !check.screen(reading.texts).findings.isEmpty else { return nil }
        return try? JSONValue.parse(body.readableBytesView)
    }

    private func invalid(_ call: InferenceCall, raw: String, start: ContinuousClock.Instant) -> Response {
        let error = UpstreamError(code: .invalidResponse, message: "The upstream answered with a body that is not valid JSON.", rawBody: raw)
        return fail(call, GatewayError(error), start: start, streamEnd: .upstreamError)
    }
}

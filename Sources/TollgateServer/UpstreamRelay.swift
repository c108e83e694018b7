import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Sends an accepted call upstream and answers the client in the format it asked for, recording
/// the outcome exactly once.
struct UpstreamRelay: Sendable {
    let writer: RecordWriter
    /// The request's logger (request id in its metadata).
    let logger: Logger

    /// The request's connection, watched so that a client hanging up cancels the upstream call.
    let hangup: ClientHangup?

    func respond(_ call: InferenceCall) async -> Response {
        var call = call
        if let local = call.entity.localModel {
            // A stopped local model starts now; the row records how long the request waited.
            let waited = ContinuousClock.now
            switch await unlessClientLeaves({ () async -> Result<Int?, UpstreamError> in
                do throws(UpstreamError) { return .success(try await local.prepare()) } catch { return .failure(error) }
            }) {
            case .finished(.success(let coldStart)): call.record.coldStartMs = coldStart
            case .finished(.failure(let error)): return fail(call, GatewayError(error), start: waited, streamEnd: .upstreamError)
            case .clientLeft: return cancelled(call, start: waited)
            }
        }
        let start = ContinuousClock.now
        let spanStart = TraceIDs.nowNanos()
        let upstreamBody = call.entity.isAgent || !call.trace.enabled ? nil : String(buffer: call.upstreamBody)
        let sent = call
        let outcome = await unlessClientLeaves { () async -> Result<UpstreamReply, CallFailure> in
            let reply: UpstreamReply
            do throws(UpstreamError) {
                reply = try await sent.entity.provider(for: sent.trace).send(
                    UpstreamRequest(
                        body: sent.upstreamBody, stream: sent.stream, requestID: sent.requestID,
                        operation: sent.isEmbeddings ? .embeddings : .chat
                    )
                )
            } catch {
                return .failure(CallFailure(error: error, inStream: false))
            }
            guard case .stream(var chunks) = reply else { return .success(reply) }
            do throws(UpstreamError) {
                if let upstreamBody {
                    chunks = StreamSpan(trace: sent.trace, parent: nil, start: spanStart, inputs: upstreamBody, upstreamModel: sent.entity.upstreamModel)
                        .watching(chunks)
                }
                // The first chunk is read before the response head: a stream failing before it is a plain error.
                try await chunks.peek()
                return .success(.stream(chunks))
            } catch {
                return .failure(CallFailure(error: error, inStream: true))
            }
        }
        switch outcome {
        case .clientLeft:
            if let upstreamBody {
                call.trace.addModelCall(
                    parent: nil, start: spanStart, inputs: upstreamBody, outputs: nil, usage: nil,
                    error: ("ClientClosedRequest", "The client closed the connection before the answer started."),
                    upstreamModel: call.entity.upstreamModel, stream: call.stream, type: call.spanType
                )
            }
            return cancelled(call, start: start)
        case .finished(.failure(let failure)):
            let error = failure.error
            // A stream's span records its own failure; a failed call's is recorded here.
            if let upstreamBody, !failure.inStream {
                call.trace.addModelCall(
                    parent: nil, start: spanStart, inputs: upstreamBody, outputs: nil, usage: nil,
                    error: ("UpstreamError.\(error.code.rawValue)", error.rawBody ?? error.message),
                    upstreamModel: call.entity.upstreamModel, stream: call.stream, type: call.spanType
                )
            }
            return fail(call, GatewayError(error), start: start, streamEnd: error.code == .timeout ? .timeout : .upstreamError)
        case .finished(.success(.complete(let status, let body, let headers))):
            var response = complete(call, status: status, body: body, start: start, spanStart: spanStart, upstreamBody: upstreamBody)
            for header in headers {
                if let name = HTTPField.Name(header.name) { response.headers[name] = header.value }
            }
            return response
        case .finished(.success(.stream(let chunks))):
            switch call.output {
            case .chat, .embeddings:
                return ChatStreamRelay(call: call, chunks: chunks, writer: writer, start: start).response()
            case .responses(let request):
                return ResponsesStreamRelay(call: call, request: request, chunks: chunks, writer: writer, start: start).response()
            }
        }
    }

    /// How a call raced against the client's hang-up ended.
    enum Raced<Value: Sendable>: Sendable {
        case finished(Value)
        case clientLeft
    }

    /// An upstream failure, and whether it came from the stream (whose span records it).
    struct CallFailure: Error {
        var error: UpstreamError
        var inStream: Bool
    }

    /// Runs `operation` unless the client hangs up first: a hang-up cancels the request's own
    /// task (so the upstream call stops), without a task of its own per request.
    private func unlessClientLeaves<Value: Sendable>(_ operation: () async -> Value) async -> Raced<Value> {
        guard let hangup else { return .finished(await operation()) }
        let id = withUnsafeCurrentTask { task in
            let handle = CancelHandle(task: task)
            return hangup.onHangup { handle.cancel() }
        }
        let value = await operation()
        hangup.remove(id)
        return hangup.isGone ? .clientLeft : .finished(value)
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
        return HTTPAnswers.json(status: error.status, body: ByteBuffer(string: body), requestID: record.requestID, entity: record.servedEntityName)
    }

    /// Finishes the trace, adds it to the body when the client asked for it, records, answers.
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
        writer.enqueue(record)
        return HTTPAnswers.json(status: status, body: buffer ?? ByteBuffer(string: sent), requestID: record.requestID, entity: record.servedEntityName)
    }

    /// A whole upstream body: relayed (chat) or translated (Responses); upstream errors pass through.
    private func complete(
        _ call: InferenceCall, status: Int, body: ByteBuffer, start: ContinuousClock.Instant, spanStart: UInt64, upstreamBody: String?
    ) -> Response {
        var record = call.record
        record.executionDurationMs = StreamLedger.milliseconds(.now - start)
        if call.stream { record.streamEnd = (200..<300).contains(status) ? .done : .upstreamError }
        let raw = String(buffer: body)
        let ok = (200..<300).contains(status)
        // The body is decoded once: a small digest when it is relayed as is, the whole document
        // when it becomes a Responses object.
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
        switch (call.output, reading.completion) {
        case (.responses(let request), let completion?):
            let response = ResponsesTranslation.response(
                fromChatCompletion: completion, request: request, model: call.endpoint.config.name,
                responseID: Identifiers.hex(prefix: "resp_"), createdAt: Int(Date().timeIntervalSince1970)
            )
            call.keep(response, in: &record)
            return answer(call, record: &record, status: status, body: response.jsonText)
        default:
            return answer(call, record: &record, status: status, body: raw, raw: body)
        }
    }

    private func invalid(_ call: InferenceCall, raw: String, start: ContinuousClock.Instant) -> Response {
        let error = UpstreamError(code: .invalidResponse, message: "The upstream answered with a body that is not valid JSON.", rawBody: raw)
        return fail(call, GatewayError(error), start: start, streamEnd: .upstreamError)
    }
}

/// What a successful upstream body says about usage, read in one decode; nil when the body is
/// not a JSON object.
struct CompletionReading {
    private static let decoder = JSONDecoder()

    var evidence: UsageEvidence
    var counts: TokenCounts?
    /// The parsed completion, kept when it is translated to a Responses object.
    var completion: JSONValue?

    init?(_ body: ByteBuffer, output: OutputFormat) {
        switch output {
        case .chat, .embeddings:
            guard let digest = try? Self.decoder.decode(ChatCompletionDigest.self, from: body) else { return nil }
            evidence = digest.usageEvidence
            counts = digest.tokenCounts
        case .responses:
            guard let completion = try? JSONValue.parse(body.readableBytesView), completion.objectValue != nil else { return nil }
            let reported = completion["usage"].flatMap(TokenEstimator.reported(in:))
            evidence = reported.map(UsageEvidence.reported)
                ?? .estimate(responseText: ChatCompletionText.text(ofCompletion: completion))
            counts = reported.map { TokenCounts(input: $0.input, output: $0.output) }
            self.completion = completion
        }
    }
}

/// The parts of a chat.completion the recorder reads; decoding it also validates the JSON.
struct ChatCompletionDigest: Decodable {
    struct Usage: Decodable {
        struct PromptDetails: Decodable { var cached_tokens: Int? }
        var prompt_tokens: Int?
        var completion_tokens: Int?
        var prompt_tokens_details: PromptDetails?
    }

    struct Choice: Decodable {
        struct Message: Decodable { var content: String? }
        var message: Message?
    }

    var usage: Usage?
    var choices: [Choice]?

    var tokenCounts: TokenCounts? {
        guard let input = usage?.prompt_tokens, let output = usage?.completion_tokens else { return nil }
        return TokenCounts(input: input, output: output)
    }

    var usageEvidence: UsageEvidence {
        // An embeddings list reports prompt tokens only: it has no output.
        if let input = usage?.prompt_tokens, let output = usage?.completion_tokens ?? (choices == nil ? 0 : nil) {
            return .reported(input: input, output: output, cachedInput: usage?.prompt_tokens_details?.cached_tokens)
        }
        return .estimate(responseText: (choices ?? []).compactMap { $0.message?.content }.joined())
    }
}

/// Upstream error bodies: OpenAI-style envelopes pass through; anything else is wrapped.
enum UpstreamErrorBody {
    static func relayable(status: Int, raw: String) -> (status: Int, body: String) {
        if let json = try? JSONValue.parse(raw), json["error"] != nil {
            return (status, raw)
        }
        var extra = JSONObject()
        extra["upstream_status"] = .int(status)
        extra["upstream_body"] = .string(String(raw.prefix(64 * 1024)))
        let envelope = ErrorEnvelope(
            message: "The upstream answered HTTP \(status) with a body that is not an error object.",
            type: GatewayError.type(for: status), code: GatewayError.Code.upstreamError.rawValue, extra: extra
        )
        return (status, envelope.jsonText)
    }
}

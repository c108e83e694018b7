import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateProviders
import TollgateStore

/// Sends an accepted call upstream and answers the client in the format it asked for, recording
/// the outcome exactly once.
struct UpstreamRelay: Sendable {
    let writer: RecordWriter
    private static let decoder = JSONDecoder()

    func respond(_ call: InferenceCall) async -> Response {
        let start = ContinuousClock.now
        let reply: UpstreamReply
        do {
            reply = try await call.entity.provider.send(UpstreamRequest(body: call.upstreamBody, stream: call.stream, requestID: call.requestID))
        } catch {
            return fail(call, GatewayError(error), start: start, streamEnd: error.code == .timeout ? .timeout : .upstreamError)
        }
        switch reply {
        case .complete(let status, let body):
            return complete(call, status: status, body: body, start: start)
        case .stream(let chunks):
            do {
                try await chunks.peek()
            } catch {
                return fail(call, GatewayError(error), start: start, streamEnd: error.code == .timeout ? .timeout : .upstreamError)
            }
            switch call.output {
            case .chat:
                return ChatStreamRelay(call: call, chunks: chunks, writer: writer, start: start).response()
            case .responses(let request):
                return ResponsesStreamRelay(call: call, request: request, chunks: chunks, writer: writer, start: start).response()
            }
        }
    }

    /// Answers and records an error that happened before any response byte was sent.
    func fail(_ call: InferenceCall, _ error: GatewayError, start: ContinuousClock.Instant?, streamEnd: StreamEnd) -> Response {
        var record = call.record
        if let start { record.executionDurationMs = StreamLedger.milliseconds(.now - start) }
        if call.stream { record.streamEnd = streamEnd }
        return Self.errorResponse(error, record: record, writer: writer)
    }

    static func errorResponse(_ error: GatewayError, record: InferenceRecord, writer: RecordWriter) -> Response {
        var record = record
        let body = error.envelope.jsonText
        record.statusCode = error.status
        record.response = body
        writer.enqueue(record)
        return HTTPAnswers.json(status: error.status, body: ByteBuffer(string: body), requestID: record.requestID, entity: record.servedEntityName)
    }

    /// A whole upstream body: relayed (chat) or translated (Responses); upstream errors pass through.
    private func complete(_ call: InferenceCall, status: Int, body: ByteBuffer, start: ContinuousClock.Instant) -> Response {
        var record = call.record
        record.executionDurationMs = StreamLedger.milliseconds(.now - start)
        if call.stream { record.streamEnd = (200..<300).contains(status) ? .done : .upstreamError }
        let raw = String(buffer: body)
        guard (200..<300).contains(status) else {
            let answer = UpstreamErrorBody.relayable(status: status, raw: raw)
            record.statusCode = answer.status
            record.response = answer.body
            writer.enqueue(record)
            return HTTPAnswers.json(status: answer.status, body: ByteBuffer(string: answer.body), requestID: record.requestID, entity: record.servedEntityName)
        }
        switch call.output {
        case .chat:
            guard let digest = try? Self.decoder.decode(ChatCompletionDigest.self, from: body) else {
                return invalid(call, raw: raw, start: start)
            }
            record.statusCode = status
            record.response = raw
            record.usage = digest.usageEvidence
            writer.enqueue(record)
            return HTTPAnswers.json(status: status, body: body, requestID: record.requestID, entity: record.servedEntityName)
        case .responses(let request):
            guard let completion = try? JSONValue.parse(body.readableBytesView), completion.objectValue != nil else {
                return invalid(call, raw: raw, start: start)
            }
            let response = ResponsesTranslation.response(
                fromChatCompletion: completion, request: request, model: call.endpoint.config.name,
                responseID: Identifiers.hex(prefix: "resp_"), createdAt: Int(Date().timeIntervalSince1970)
            )
            let text = response.jsonText
            record.statusCode = status
            record.response = text
            record.usage = completion["usage"].flatMap(TokenEstimator.reported(in:)).map { .reported(input: $0.input, output: $0.output) }
                ?? .estimate(responseText: ChatCompletionText.text(ofCompletion: completion))
            writer.enqueue(record)
            return HTTPAnswers.json(status: status, body: ByteBuffer(string: text), requestID: record.requestID, entity: record.servedEntityName)
        }
    }

    private func invalid(_ call: InferenceCall, raw: String, start: ContinuousClock.Instant) -> Response {
        let error = UpstreamError(code: .invalidResponse, message: "The upstream answered with a body that is not valid JSON.", rawBody: raw)
        return fail(call, GatewayError(error), start: start, streamEnd: .upstreamError)
    }
}

/// The parts of a chat.completion the recorder reads; decoding it also validates the JSON.
struct ChatCompletionDigest: Decodable {
    struct Usage: Decodable {
        var prompt_tokens: Int?
        var completion_tokens: Int?
    }

    struct Choice: Decodable {
        struct Message: Decodable { var content: String? }
        var message: Message?
    }

    var usage: Usage?
    var choices: [Choice]?

    var usageEvidence: UsageEvidence {
        if let input = usage?.prompt_tokens, let output = usage?.completion_tokens {
            return .reported(input: input, output: output)
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

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Anthropic's Messages API, translated to and from Chat Completions (bodies, streams, errors).
public struct AnthropicProvider: ChatProvider {
    let upstream: HTTPUpstream
    let url: String
    let headers: HTTPHeaders
    let upstreamModel: String

    public init(upstream: HTTPUpstream, baseURL: String, apiKey: String?, version: String?, upstreamModel: String, extraHeaders: [String: String] = [:]) {
        self.upstream = upstream
        self.upstreamModel = upstreamModel
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        url = base.hasSuffix("/v1") ? base + "/messages" : base + "/v1/messages"
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "anthropic-version", value: version ?? "2023-06-01")
        if let apiKey { headers.add(name: "x-api-key", value: apiKey) }
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        self.headers = headers
    }

    public func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        guard let chat = try? JSONValue.parse(request.body.readableBytesView).objectValue else {
            throw UpstreamError(code: .invalidResponse, message: "request body is not a JSON object")
        }
        let includeUsage = chat["stream_options"]?["include_usage"]?.boolValue ?? false
        let body = AnthropicTranslation.messagesRequest(fromChat: chat, upstreamModel: upstreamModel)
        var headers = self.headers
        if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        let response = try await upstream.execute(url: url, headers: headers, body: ByteBuffer(bytes: JSONValue.object(body).jsonBytes))
        let status = Int(response.status.code)
        let created = Int(Date().timeIntervalSince1970)
        let isEventStream = response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        guard (200..<300).contains(status), request.stream, isEventStream else {
            let raw = try await upstream.collect(response)
            let rawText = String(buffer: raw)
            let parsed = try? JSONValue.parse(raw.readableBytesView)
            if (200..<300).contains(status) {
                guard let parsed, parsed.objectValue != nil else {
                    throw UpstreamError(code: .invalidResponse, message: "upstream returned a body that is not JSON", rawBody: rawText)
                }
                let completion = AnthropicTranslation.chatCompletion(fromMessage: parsed, created: created)
                return .complete(status: status, body: ByteBuffer(bytes: completion.jsonBytes))
            }
            let envelope = AnthropicTranslation.errorEnvelope(fromError: parsed, status: status, rawBody: rawText)
            return .complete(
                status: status, body: ByteBuffer(bytes: envelope.json.jsonBytes),
                headers: RelayedHeader.rateLimit(from: response.headers, status: status))
        }
        let reader = response.body.eventReader()
        let translator = TranslatorBox(AnthropicStreamTranslator(created: created, includeUsage: includeUsage))
        return .stream(UpstreamChunkStream { () async throws(UpstreamError) -> UpstreamChunk? in
            try await translator.next(from: reader)
        })
    }
}

/// Holds the stream translator and the chunks it produced but not yet handed out.
///
/// `@unchecked Sendable`: read by the single task that relays the stream.
final class TranslatorBox: @unchecked Sendable {
    private var translator: AnthropicStreamTranslator
    private var ready: [JSONValue] = []

    init(_ translator: AnthropicStreamTranslator) {
        self.translator = translator
    }

    func next(from reader: ServerSentEventReader) async throws(UpstreamError) -> UpstreamChunk? {
        while ready.isEmpty {
            if translator.isFinished { return nil }
            guard let event = try await reader.next() else {
                throw UpstreamError(code: .connectionLost, message: "upstream stream ended before message_stop")
            }
            do {
                ready = try translator.translate(event)
            } catch {
                let code: UpstreamError.Code = error.envelope.code == "invalid_upstream_stream" ? .invalidStream : .streamError
                throw UpstreamError(code: code, message: error.envelope.message, rawBody: event.data, envelope: error.envelope)
            }
        }
        let chunk = ready.removeFirst()
        return UpstreamChunk(text: chunk.jsonText, json: chunk)
    }
}

import NIOCore
import NIOHTTP1
import TollgateCore

/// Which upstream API a call goes to.
public enum UpstreamOperation: Sendable {
    case chat
    case embeddings
}

/// A Chat Completions (or embeddings) call to send upstream: the body already names the
/// upstream model.
public struct UpstreamRequest: Sendable {
    public var body: ByteBuffer
    public var stream: Bool
    public var requestID: String
    public var operation: UpstreamOperation

    public init(body: ByteBuffer, stream: Bool, requestID: String, operation: UpstreamOperation = .chat) {
        self.body = body
        self.stream = stream
        self.requestID = requestID
        self.operation = operation
    }
}

/// What an upstream answered, already in OpenAI Chat Completions shapes.
public enum UpstreamReply: Sendable {
    /// A whole body: a chat.completion on 2xx, an error body otherwise; `headers` are the
    /// upstream's headers that reach the client (`retry-after` and `x-ratelimit-*` on a 429).
    case complete(status: Int, body: ByteBuffer, headers: [RelayedHeader] = [])
    /// A 2xx event stream: chat.completion.chunk payloads as they arrive.
    case stream(UpstreamChunkStream)
}

/// An upstream response header passed on to the client.
public struct RelayedHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// The headers of a rate-limited (429) answer that tell a client when to retry.
    public static func rateLimit(from headers: HTTPHeaders, status: Int) -> [RelayedHeader] {
        guard status == 429 else { return [] }
        return headers.compactMap { header in
            let name = header.name.lowercased()
            let relayed = name == "retry-after" || name == "retry-after-ms" || name.hasPrefix("x-ratelimit-")
                || name.hasPrefix("anthropic-ratelimit-")
            return relayed ? RelayedHeader(name: name, value: header.value) : nil
        }
    }
}

/// Why an upstream call failed (the reply never came, or the stream broke).
public struct UpstreamError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Connection refused or could not be opened.
        case connectFailed = "upstream_unreachable"
        /// No response head, or no byte of the body, within the timeout.
        case timeout = "upstream_timeout"
        /// The upstream answered 2xx with a body that is not valid JSON.
        case invalidResponse = "upstream_invalid_response"
        /// The upstream's event stream could not be parsed.
        case invalidStream = "upstream_invalid_stream"
        /// The connection closed or failed while the body was being read.
        case connectionLost = "upstream_connection_lost"
        /// The upstream sent an error event inside its stream.
        case streamError = "upstream_stream_error"
        /// The response body exceeded `limits.max_response_bytes`.
        case responseTooLarge = "upstream_response_too_large"
    }

    public var code: Code
    public var message: String
    /// Raw bytes the upstream sent that could not be understood (kept for the inference table).
    public var rawBody: String?
    /// A provider error already in OpenAI envelope form (stream error events).
    public var envelope: ErrorEnvelope?
    public var underlying: (any Error)?

    public init(code: Code, message: String, rawBody: String? = nil, envelope: ErrorEnvelope? = nil, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.rawBody = rawBody
        self.envelope = envelope
        self.underlying = underlying
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// A model service Tollgate can call with a Chat Completions request.
public protocol ChatProvider: Sendable {
    func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply
    /// Whether `send` takes `.embeddings` calls (OpenAI-compatible servers and Azure do).
    var supportsEmbeddings: Bool { get }
}

extension ChatProvider {
    public var supportsEmbeddings: Bool { false }
}

/// One chat.completion.chunk as received: its JSON text (relayed as is) and its parsed value.
public struct UpstreamChunk: Sendable {
    public var text: String
    public var json: JSONValue

    public init(text: String, json: JSONValue) {
        self.text = text
        self.json = json
    }
}

/// Pulls chat.completion.chunk payloads from an upstream stream, one at a time.
///
/// `@unchecked Sendable`: the stream is created by one request and read by that request's
/// response writer only; it is never read from two tasks.
public final class UpstreamChunkStream: @unchecked Sendable {
    private let nextPayload: () async throws(UpstreamError) -> UpstreamChunk?
    private var peeked: UpstreamChunk??

    public init(next: @escaping () async throws(UpstreamError) -> UpstreamChunk?) {
        self.nextPayload = next
    }

    /// The next chunk payload, or `nil` when the upstream ended the stream properly.
    public func next() async throws(UpstreamError) -> UpstreamChunk? {
        if let peeked {
            self.peeked = nil
            return peeked
        }
        return try await nextPayload()
    }

    /// Reads the first chunk ahead, so that a stream failing before its first chunk is answered
    /// as a plain HTTP error; `next()` returns the chunk again.
    public func peek() async throws(UpstreamError) {
        peeked = .some(try await nextPayload())
    }
}

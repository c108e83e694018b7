import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// Sends requests with the shared HTTP client and maps transport failures to `UpstreamError`.
public struct HTTPUpstream: Sendable {
    public let client: HTTPClient
    public let timeout: TimeAmount
    public let maxResponseBytes: Int

    public init(client: HTTPClient, timeout: TimeAmount, maxResponseBytes: Int) {
        self.client = client
        self.timeout = timeout
        self.maxResponseBytes = maxResponseBytes
    }

    /// Builds the shared client: pooled keep-alive connections, connect and read timeouts.
    public static func makeClient(limits: LimitsConfig) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(
            connect: .milliseconds(Int64(limits.connectTimeoutSeconds * 1000)),
            read: .milliseconds(Int64(limits.upstreamTimeoutSeconds * 1000))
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 512)
        // A refused connection answers 502 at once instead of retrying until the connect timeout:
        // a gateway should fail fast (and, later, fall back) rather than hold the client.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Executes a request and returns its response head (the body is still to be read).
    public func execute(url: String, headers: HTTPHeaders, body: ByteBuffer) async throws(UpstreamError) -> HTTPClientResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(body)
        do {
            return try await client.execute(request, timeout: timeout)
        } catch {
            throw Self.map(error, phase: "connect")
        }
    }

    /// Reads a whole body, within `maxResponseBytes`.
    public func collect(_ response: HTTPClientResponse) async throws(UpstreamError) -> ByteBuffer {
        do {
            return try await response.body.collect(upTo: maxResponseBytes)
        } catch let error as NIOTooManyBytesError {
            throw UpstreamError(code: .responseTooLarge, message: "upstream response exceeds \(maxResponseBytes) bytes", underlying: error)
        } catch {
            throw Self.map(error, phase: "body")
        }
    }

    static func map(_ error: any Error, phase: String) -> UpstreamError {
        if let upstream = error as? UpstreamError { return upstream }
        if let http = error as? HTTPClientError {
            switch http {
            case .readTimeout, .deadlineExceeded, .connectTimeout, .getConnectionFromPoolTimeout:
                return UpstreamError(code: .timeout, message: "upstream timed out (\(http.shortDescription))", underlying: error)
            case .remoteConnectionClosed, .cancelled:
                return UpstreamError(code: .connectionLost, message: "upstream connection closed (\(http.shortDescription))", underlying: error)
            default:
                break
            }
        }
        if error is CancellationError {
            return UpstreamError(code: .connectionLost, message: "upstream request cancelled", underlying: error)
        }
        let code: UpstreamError.Code = phase == "connect" ? .connectFailed : .connectionLost
        return UpstreamError(code: code, message: "upstream \(phase == "connect" ? "unreachable" : "connection failed"): \(error)", underlying: error)
    }
}

extension HTTPClientResponse.Body {
    /// Reads server-sent events from the body; each call returns the next complete event or `nil`
    /// at the end of the body.
    func eventReader() -> ServerSentEventReader {
        ServerSentEventReader(iterator: makeAsyncIterator())
    }
}

/// Turns body chunks into server-sent events, one event at a time.
///
/// `@unchecked Sendable`: owned and read by a single request task (see `UpstreamChunkStream`).
final class ServerSentEventReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var parser = ServerSentEventParser()
    private var pending: [ServerSentEvent] = []
    private var ended = false

    init(iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next event, or `nil` when the body ended.
    func next() async throws(UpstreamError) -> ServerSentEvent? {
        while pending.isEmpty {
            if ended { return nil }
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch {
                throw HTTPUpstream.map(error, phase: "body")
            }
            guard let buffer else {
                ended = true
                if let last = parser.finish() { pending.append(last) }
                continue
            }
            pending.append(contentsOf: parser.feed(buffer.readableBytesView))
        }
        return pending.removeFirst()
    }

}

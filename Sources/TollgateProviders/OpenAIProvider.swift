import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import TollgateCore

/// Any OpenAI-compatible server (OpenAI, vLLM, llama.cpp, Ollama, the simulator) and Azure
/// OpenAI, which differs only in its URL and key header.
public struct OpenAIProvider: ChatProvider {
    public enum Flavor: Sendable {
        case openai
        /// Azure OpenAI: `{base}/openai/deployments/{deployment}/chat/completions?api-version=…`.
        case azure(deployment: String, apiVersion: String)
    }

    let upstream: HTTPUpstream
    /// The full URL when the base is known at start; otherwise the path after the late base.
    let url: String
    /// The same for `/embeddings`.
    let embeddingsURL: String
    let lateBase: LateBoundURL?
    let headers: HTTPHeaders

    public init(upstream: HTTPUpstream, baseURL: String, apiKey: String?, flavor: Flavor, extraHeaders: [String: String] = [:]) {
        self.init(upstream: upstream, base: .fixed(baseURL), apiKey: apiKey, flavor: flavor, extraHeaders: extraHeaders)
    }

    public init(upstream: HTTPUpstream, base: BaseURL, apiKey: String?, flavor: Flavor, extraHeaders: [String: String] = [:]) {
        self.upstream = upstream
        var prefix = ""
        switch base {
        case .fixed(let url):
            prefix = url.hasSuffix("/") ? String(url.dropLast()) : url
            lateBase = nil
        case .late(let late):
            lateBase = late
        }
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        switch flavor {
        case .openai:
            url = prefix + "/chat/completions"
            embeddingsURL = prefix + "/embeddings"
            if let apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        case .azure(let deployment, let apiVersion):
            url = prefix + "/openai/deployments/\(deployment)/chat/completions?api-version=\(apiVersion)"
            embeddingsURL = prefix + "/openai/deployments/\(deployment)/embeddings?api-version=\(apiVersion)"
            if let apiKey { headers.add(name: "api-key", value: apiKey) }
        }
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        self.headers = headers
    }

    public var supportsEmbeddings: Bool { true }

    public func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        let url = request.operation == .embeddings ? embeddingsURL : self.url
        var headers = self.headers
        headers.add(name: "x-request-id", value: request.requestID)
        if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        let target: String
        if let lateBase {
            guard let base = lateBase.value else {
                throw UpstreamError(code: .connectFailed, message: "upstream is not listening yet")
            }
            target = base + url
        } else {
            target = url
        }
        let response = try await upstream.execute(url: target, headers: headers, body: request.body)
        let isEventStream = response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        guard (200..<300).contains(Int(response.status.code)), request.stream, isEventStream else {
            let body = try await upstream.collect(response)
            let status = Int(response.status.code)
            return .complete(status: status, body: body, headers: RelayedHeader.rateLimit(from: response.headers, status: status))
        }
        let reader = response.body.eventReader()
        return .stream(UpstreamChunkStream { () async throws(UpstreamError) -> UpstreamChunk? in
            try await Self.nextChunk(from: reader)
        })
    }

    static func nextChunk(from reader: ServerSentEventReader) async throws(UpstreamError) -> UpstreamChunk? {
        while true {
            guard let event = try await reader.next() else {
                throw UpstreamError(code: .connectionLost, message: "upstream stream ended without [DONE]")
            }
            let data = event.data.trimmingCharacters(in: .whitespaces)
            if data.isEmpty { continue }
            if data == "[DONE]" { return nil }
            guard let json = try? JSONValue.parse(data), json.objectValue != nil else {
                throw UpstreamError(code: .invalidStream, message: "upstream sent an event that is not a JSON object", rawBody: event.data)
            }
            if let error = json["error"], json["choices"] == nil {
                let envelope = ErrorEnvelope(
                    message: error["message"]?.stringValue ?? "upstream stream error",
                    type: error["type"]?.stringValue ?? "upstream_error",
                    param: error["param"]?.stringValue,
                    code: error["code"]?.stringValue
                )
                throw UpstreamError(code: .streamError, message: envelope.message, rawBody: data, envelope: envelope)
            }
            return UpstreamChunk(text: data, json: json)
        }
    }
}

/// Where an upstream lives: known at start, or bound once a server Tollgate starts is listening.
public enum BaseURL: Sendable {
    case fixed(String)
    case late(LateBoundURL)
}

/// A base URL set once its server is listening (the embedded simulator binds port 0).
public final class LateBoundURL: Sendable {
    private let url = Mutex<String?>(nil)
    public init() {}
    public func set(_ value: String) { url.withLock { $0 = value } }
    public func clear() { url.withLock { $0 = nil } }
    public var value: String? { url.withLock { $0 } }
}

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
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
    let url: String
    let headers: HTTPHeaders

    public init(upstream: HTTPUpstream, baseURL: String, apiKey: String?, flavor: Flavor, extraHeaders: [String: String] = [:]) {
        self.upstream = upstream
        let base = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        switch flavor {
        case .openai:
            url = base + "/chat/completions"
            if let apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)") }
        case .azure(let deployment, let apiVersion):
            url = base + "/openai/deployments/\(deployment)/chat/completions?api-version=\(apiVersion)"
            if let apiKey { headers.add(name: "api-key", value: apiKey) }
        }
        for (name, value) in extraHeaders.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        self.headers = headers
    }

    public func send(_ request: UpstreamRequest) async throws(UpstreamError) -> UpstreamReply {
        var headers = self.headers
        headers.add(name: "x-request-id", value: request.requestID)
        if request.stream { headers.add(name: "accept", value: "text/event-stream") }
        let response = try await upstream.execute(url: url, headers: headers, body: request.body)
        let isEventStream = response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") ?? false
        guard (200..<300).contains(Int(response.status.code)), request.stream, isEventStream else {
            let body = try await upstream.collect(response)
            return .complete(status: Int(response.status.code), body: body)
        }
        let reader = response.body.eventReader(upstream: upstream)
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

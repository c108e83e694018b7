import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import TollgateCore

/// The simulator as an OpenAI- and Azure-compatible HTTP server. One server can play several
/// simulator providers, each under `/providers/{name}/…`; `/v1/…` plays the default one.
public struct SimulatorRoutes: Sendable {
    public let providers: [String: SimulatorConfig]
    public let defaultConfig: SimulatorConfig

    public init(providers: [String: SimulatorConfig], defaultConfig: SimulatorConfig = SimulatorConfig()) {
        self.providers = providers
        self.defaultConfig = defaultConfig
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat/completions") { request, _ in
            try await answer(request, config: defaultConfig)
        }
        router.post("/openai/deployments/{deployment}/chat/completions") { request, _ in
            try await answer(request, config: defaultConfig)
        }
        router.post("/providers/{provider}/v1/chat/completions") { request, context in
            try await answer(request, config: config(context))
        }
        router.post("/providers/{provider}/openai/deployments/{deployment}/chat/completions") { request, context in
            try await answer(request, config: config(context))
        }
        for path in [
            "/v1/embeddings", "/openai/deployments/{deployment}/embeddings", "/providers/{provider}/v1/embeddings",
            "/providers/{provider}/openai/deployments/{deployment}/embeddings",
        ] {
            router.post(RouterPath(path)) { request, _ in try await embeddings(request) }
        }
        router.get("/v1/models") { _, _ in
            Self.json(200, ["object": "list", "data": [["id": "simulator", "object": "model", "owned_by": "tollgate"]]])
        }
        router.get("/health") { _, _ in Response(status: .ok) }
    }

    private func config(_ context: BasicRequestContext) -> SimulatorConfig {
        context.parameters.get("provider").flatMap { providers[$0] } ?? defaultConfig
    }

    func embeddings(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
        guard let json = try? JSONValue.parse(body.readableBytesView), json.objectValue != nil else {
            return Self.json(400, ErrorEnvelope(message: "invalid JSON body", type: "invalid_request_error", code: "invalid_json").json)
        }
        return Self.json(200, SimulatedEmbeddings(request: json).answer)
    }

    func answer(_ request: Request, config: SimulatorConfig) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024 * 1024)
        guard let json = try? JSONValue.parse(body.readableBytesView), json.objectValue != nil else {
            return Self.json(400, ErrorEnvelope(message: "invalid JSON body", type: "invalid_request_error", code: "invalid_json").json)
        }
        let script = SimulatorScript(request: json, config: config, id: Identifiers.hex(prefix: "chatcmpl-sim-"), created: Int(Date().timeIntervalSince1970))
        if config.latencyMs > 0 { try await Task.sleep(for: .milliseconds(config.latencyMs)) }
        switch script.outcome {
        case .promptBlocked:
            return Self.json(400, script.promptBlockedError)
        case .rateLimited:
            var response = Self.json(429, script.rateLimitError)
            response.headers[.retryAfter] = "1"
            // Azure OpenAI's rate-limit headers, which a gateway must pass on.
            response.headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = "0"
            response.headers[HTTPField.Name("x-ratelimit-remaining-tokens")!] = "0"
            return response
        case .serverError:
            return Self.json(500, script.serverError)
        case .stall where !script.stream || script.afterChunks == 0:
            try await Self.stall()
            return Self.json(500, script.serverError)
        case .invalidJSON where !script.stream:
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: "<html>upstream proxy error: not json")))
        default:
            return script.stream ? streamResponse(script, config: config) : Self.json(200, script.completion)
        }
    }

    private func streamResponse(_ script: SimulatorScript, config: SimulatorConfig) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-cache"
        let delay: Duration? = config.tokensPerSecond > 0 ? .milliseconds(Int64(1000 / config.tokensPerSecond)) : nil
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            if script.outcome == .invalidJSON, script.afterChunks == 0 {
                try await writer.write(ByteBuffer(string: Self.brokenEvent))
                try await writer.finish(nil)
                return
            }
            var contentSent = 0
            for chunk in script.chunks {
                let isContent = !ChatCompletionText.delta(ofChunk: chunk).isEmpty
                if isContent, script.outcome == .stall, contentSent == script.afterChunks {
                    try await Self.stall()
                }
                if isContent, let delay { try await Task.sleep(for: delay) }
                try await writer.write(ByteBuffer(string: "data: \(chunk.jsonText)\n\n"))
                if isContent {
                    contentSent += 1
                    if script.outcome == .invalidJSON, contentSent == script.afterChunks {
                        try await writer.write(ByteBuffer(string: Self.brokenEvent))
                        try await writer.finish(nil)
                        return
                    }
                }
            }
            try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
            try await writer.finish(nil)
        })
    }

    /// An event whose data is not JSON.
    static let brokenEvent = "data: {\"choices\": [oops not json\n\n"

    /// Waits far longer than any sensible upstream timeout; ends early on graceful shutdown.
    static func stall() async throws {
        try await cancelWhenGracefulShutdown {
            try await Task.sleep(for: .seconds(600))
        }
    }

    static func json(_ status: Int, _ body: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.jsonText)))
    }
}

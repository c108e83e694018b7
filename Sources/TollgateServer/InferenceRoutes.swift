import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// The client API: the three inference routes, the model list and the health checks.
struct InferenceRoutes: Sendable {
    let live: LiveEndpoints
    let writer: RecordWriter
    let store: SQLiteStore
    let readiness: @Sendable () -> Bool

    static let inferencePaths = ["/v1/chat/completions", "/v1/responses", "/serving-endpoints/{name}/invocations"]

    func register(on router: Router<BasicRequestContext>) {
        router.post("/v1/chat/completions") { request, _ in await handle(request, api: .chat, pathEndpoint: nil) }
        router.post("/v1/responses") { request, _ in await handle(request, api: .responses, pathEndpoint: nil) }
        router.post("/serving-endpoints/{name}/invocations") { request, context in
            await handle(request, api: .invocations, pathEndpoint: context.parameters.get("name"))
        }
        router.get("/v1/models") { _, _ in models() }
        router.get("/health/live") { _, _ in health(ok: true) }
        router.get("/health/ready") { _, _ in health(ok: readiness() && store.isReachable()) }
        for path in Self.inferencePaths {
            for method in [HTTPRequest.Method.get, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw GatewayError(code: .methodNotAllowed, status: 405, message: "Use POST for this route.")
                }
            }
        }
        for path in ["/v1/models", "/health/live", "/health/ready"] {
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    throw GatewayError(code: .methodNotAllowed, status: 405, message: "Use GET for this route.")
                }
            }
        }
    }

    /// One inference request, start to end; every path through here records exactly one row.
    func handle(_ request: Request, api: ClientAPI, pathEndpoint: String?) async -> Response {
        var record = InferenceRecord(
            requestID: Identifiers.requestID(), requestTime: Date(), endpointName: pathEndpoint ?? "", api: api, stream: false, statusCode: 0
        )
        let body: ByteBuffer
        let limit = live.config.limits.maxRequestBytes
        let timeout = live.config.server.bodyTimeoutSeconds
        do {
            body = try await BodyReader.collect(request.body, upTo: limit, timeoutSeconds: timeout)
        } catch {
            let rejection: GatewayError
            switch error {
            case is NIOTooManyBytesError:
                record.loggingErrorCodes = [.maxRequestSizeExceeded]
                rejection = GatewayError(code: .requestTooLarge, status: 413, message: "The request body is larger than \(limit) bytes.")
            case is BodyReader.Timeout:
                rejection = GatewayError(code: .requestTimeout, status: 408, message: "The request body did not arrive within \(timeout) s.")
            default:
                rejection = GatewayError(code: .invalidRequest, status: 400, message: "The request body could not be read.")
            }
            var response = UpstreamRelay.errorResponse(rejection, record: record, writer: writer)
            // The rest of an unread body would hold the connection: close it.
            if rejection.status == 408 { response.headers[.connection] = "close" }
            return response
        }
        let call: InferenceCall
        do {
            call = try RequestIntake(live: live).accept(body: body, api: api, pathEndpoint: pathEndpoint, record: &record)
        } catch {
            if record.stream { record.streamEnd = .upstreamError }
            return UpstreamRelay.errorResponse(error, record: record, writer: writer)
        }
        return await UpstreamRelay(writer: writer).respond(call)
    }

    private func models() -> Response {
        let created = Int(Date().timeIntervalSince1970)
        let data: [JSONValue] = live.current.endpoints.keys.sorted().map { name in
            ["id": .string(name), "object": "model", "created": .int(created), "owned_by": "tollgate"]
        }
        let body: JSONValue = ["object": "list", "data": .array(data)]
        return HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }

    private func health(ok: Bool) -> Response {
        let body: JSONValue = ["status": ok ? "ok" : "unavailable"]
        return HTTPAnswers.json(status: ok ? 200 : 503, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }
}

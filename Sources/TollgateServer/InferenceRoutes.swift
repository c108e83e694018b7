import Foundation
import Hummingbird
import Logging
import NIOCore
import TollgateCore
import TollgateStore

/// The client API: the three inference routes, the model list and the health checks.
struct InferenceRoutes: Sendable {
    let live: LiveEndpoints
    let writer: RecordWriter
    let database: any SQLDatabase
    let hangups: ClientHangups
    let archive: ResponseArchive
    let readiness: @Sendable () -> Bool
    let authenticator: Authenticator
    let gate: GovernanceGate

    /// Routes whose body's `model` names the endpoint: OpenAI's, and the same under Databricks'
    /// OpenAI-compatible base (`WorkspaceClient().serving_endpoints.get_open_ai_client()`,
    /// litellm's `databricks/` provider).
    static let modelRoutes: [(path: String, api: ClientAPI)] = ["/v1", "/serving-endpoints"].flatMap { base in
        [("\(base)/chat/completions", ClientAPI.chat), ("\(base)/responses", .responses), ("\(base)/embeddings", .embeddings)]
    }

    static let inferencePaths = modelRoutes.map(\.path) + ["/serving-endpoints/{name}/invocations"]

    func register(on router: Router<GatewayRequestContext>) {
        for (path, api) in Self.modelRoutes {
            router.post(RouterPath(path)) { request, context in
                await handle(request, api: api, pathEndpoint: nil, context: context)
            }
        }
        router.post("/serving-endpoints/{name}/invocations") { request, context in
            await handle(request, api: .invocations, pathEndpoint: context.parameters.get("name"), context: context)
        }
        router.get("/v1/models") { request, _ in models(caller: try caller(request)) }
        router.get("/v1/models/{id}") { request, context in
            try model(context.parameters.get("id")?.removingPercentEncoding ?? "", caller: try caller(request))
        }
        router.get("/health/live") { _, _ in health(ok: true) }
        router.get("/health/ready") { _, _ in await ready() }
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
    func handle(_ request: Request, api: ClientAPI, pathEndpoint: String?, context: GatewayRequestContext) async -> Response {
        var record = InferenceRecord(
            requestID: Identifiers.requestID(), requestTime: Date(), endpointName: pathEndpoint ?? "", api: api, stream: false, statusCode: 0
        )
        record.receivedAt = .now
        // The request's logger (Hummingbird's, with its id) also carries the row's request id.
        var logger = context.logger
        logger[metadataKey: "tollgate.request_id"] = "\(record.requestID)"
        logger[metadataKey: "tollgate.api"] = "\(api.rawValue)"
        let caller: Caller
        switch authenticator.authenticate(request.headers) {
        case .success(let known): caller = known
        case .failure(let error):
            logger.debug("request refused: no valid key", metadata: ["code": "\(error.code.rawValue)"])
            var response = UpstreamRelay.errorResponse(error, record: record, writer: writer)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        caller.stamp(&record)
        let body: ByteBuffer
        let limit = live.config.limits.maxRequestBytes
        let timeout = live.config.server.bodyTimeoutSeconds
        do {
            body = try await BodyReader.collect(request.body, upTo: limit, timeoutSeconds: timeout, channel: context.channel)
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
            logger.debug("request body refused", metadata: ["status": "\(rejection.status)", "code": "\(rejection.code.rawValue)"])
            var response = UpstreamRelay.errorResponse(rejection, record: record, writer: writer)
            // The rest of an unread body would hold the connection: close it.
            if rejection.status == 408 { response.headers[.connection] = "close" }
            return response
        }
        var call: InferenceCall
        do {
            call = try await RequestIntake(live: live, archive: archive, caller: caller)
                .accept(body: body, api: api, pathEndpoint: pathEndpoint, record: &record)
        } catch {
            if record.stream { record.streamEnd = .upstreamError }
            logger.debug("request refused", metadata: [
                "status": "\(error.status)", "code": "\(error.code.rawValue)", "param": "\(error.param ?? "")", "endpoint": "\(record.endpointName)",
            ])
            return UpstreamRelay.errorResponse(error, record: record, writer: writer)
        }
        do throws(GateRefusal) {
            try await gate.admit(&call, requester: caller.requester)
        } catch {
            var refused = call.record
            if refused.stream { refused.streamEnd = .upstreamError }
            var response = UpstreamRelay.errorResponse(error.error, record: refused, writer: writer)
            call.governance.decorate(&response, record: refused)
            if let seconds = error.retryAfterSeconds { response.headers[LimitHeaderFields.retryAfter] = String(seconds) }
            return response
        }
        return await UpstreamRelay(writer: writer, logger: logger, hangup: hangups.hangup(of: context.channel)).respond(call)
    }

    /// The caller of a non-inference read route (`/v1/models`), or 401.
    private func caller(_ request: Request) throws(GatewayError) -> Caller {
        switch authenticator.authenticate(request.headers) {
        case .success(let caller): return caller
        case .failure(let error): throw error
        }
    }

    /// Whether the caller may query an endpoint.
    private func mayQuery(_ caller: Caller, _ endpoint: EndpointConfig) -> Bool {
        caller.mayQuery(endpoint, defaultLevel: live.config.server.defaultPermission)
    }

    private func models(caller: Caller) -> Response {
        let created = Int(Date().timeIntervalSince1970)
        let visible = live.current.endpoints.filter { mayQuery(caller, $0.value.config) }
        let data: [JSONValue] = visible.keys.sorted().map { Self.modelObject($0, created: created) }
        let body: JSONValue = ["object": "list", "data": .array(data)]
        return HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }

    /// `GET /v1/models/{id}`: one endpoint as an OpenAI model object, or 404 `model_not_found`.
    private func model(_ id: String, caller: Caller) throws(GatewayError) -> Response {
        guard let endpoint = live.endpoint(id), mayQuery(caller, endpoint.config) else {
            throw GatewayError(code: .modelNotFound, status: 404, message: "The model `\(id)` does not exist.", param: "model")
        }
        let body = Self.modelObject(id, created: Int(Date().timeIntervalSince1970))
        return HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }

    static func modelObject(_ name: String, created: Int) -> JSONValue {
        ["id": .string(name), "object": "model", "created": .int(created), "owned_by": "tollgate"]
    }

    private func health(ok: Bool) -> Response {
        let body: JSONValue = ["status": ok ? "ok" : "unavailable"]
        return HTTPAnswers.json(status: ok ? 200 : 503, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }

    /// `/health/ready`: 503 with the reason while the embedded simulator is not bound yet, the
    /// store cannot be read, or the record writer cannot write to it (rows go to the spill file).
    private func ready() async -> Response {
        var problems: [String] = []
        if !readiness() { problems.append("the embedded simulator is not listening yet") }
        let counters = writer.statistics
        let failure = writer.failure
        if let failure {
            let since = failure.since.formatted(.iso8601)
            problems.append("store writes failing since \(since): \(failure.reason)")
        } else if (try? await database.read("SELECT 1")) == nil {
            problems.append("the store cannot be read")
        }
        var body: JSONObject = ["status": problems.isEmpty ? "ok" : "unavailable"]
        if !problems.isEmpty { body["reason"] = .string(problems.joined(separator: "; ")) }
        body["store"] = [
            "writes": failure == nil ? "ok" : "failing", "spilled_records": .int(counters.spilled),
            "restored_records": .int(counters.restored), "lost_records": .int(counters.lost),
        ]
        let status = problems.isEmpty ? 200 : 503
        return HTTPAnswers.json(status: status, body: ByteBuffer(string: JSONValue.object(body).jsonText), requestID: Identifiers.requestID(), entity: nil)
    }
}

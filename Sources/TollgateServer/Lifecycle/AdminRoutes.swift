import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// The admin API in the Databricks shape (`/api/2.0/serving-endpoints…`), plus Tollgate's
/// version routes (deploy, rollback, retire, versions). Every route needs
/// `Authorization: Bearer <server.admin_token>`; without a configured token they answer 401.
struct AdminRoutes: Sendable {
    let manager: EndpointManager
    let live: LiveEndpoints
    let store: EndpointStore
    let costs: CostQueries
    let adminToken: String?
    /// `server.allow_admin_tool_commands`.
    let allowToolCommands: Bool

    static let base = "/api/2.0/serving-endpoints"

    func register(on router: Router<GatewayRequestContext>) {
        let group = router.group(RouterPath(Self.base)).add(middleware: AdminTokenMiddleware(token: adminToken))
        group.get { _, _ in
            let all = await manager.all()
            var out: [JSONValue] = []
            for stored in all { out.append(render(stored)) }
            return Self.answer(["endpoints": .array(out)])
        }
        group.post { request, _ in
            let definition = try await Self.decode(EndpointConfig.self, from: request)
            try checkToolCommands(definition.config.servedEntities)
            return Self.answer(render(try await manager.create(definition)))
        }
        group.get("{name}") { _, context in
            Self.answer(render(try await manager.endpoint(try Self.name(context))))
        }
        group.put("{name}") { request, context in
            var definition = try await Self.decode(EndpointConfig.self, from: request)
            definition.name = try Self.name(context)
            try checkToolCommands(definition.config.servedEntities)
            let (stored, change) = try await manager.apply(definition)
            guard case .object(var body) = render(stored) else { return Self.answer(.null) }
            body["change"] = .string(change)
            return Self.answer(.object(body))
        }
        group.delete("{name}") { _, context in
            try await manager.delete(try Self.name(context))
            return Self.answer([:])
        }
        group.put("{name}/config") { request, context in
            let config = try await Self.decode(EndpointCoreConfig.self, from: request)
            try checkToolCommands(config.servedEntities)
            return Self.answer(render(try await manager.updateConfig(try Self.name(context), config)))
        }
        group.put("{name}/ai-gateway") { request, context in
            let settings = try await Self.decode(AIGatewayConfig.self, from: request)
            // Databricks answers the gateway configuration itself (`PutAiGatewayResponse`).
            let updated = try await manager.updateAIGateway(try Self.name(context), settings)
            return Self.answer(JSONValue.encoded(updated.definition.aiGateway))
        }
        group.post("{name}/deploy") { request, context in
            let body = try await Self.decode(DeployRequest.self, from: request)
            try checkToolCommands([body.entity])
            return Self.answer(render(try await manager.deploy(try Self.name(context), entity: body.entity, canary: body.canaryPercentage)))
        }
        group.post("{name}/rollback") { _, context in
            Self.answer(render(try await manager.rollback(try Self.name(context))))
        }
        group.post("{name}/retire") { request, context in
            let body = try await Self.decode(RetireRequest.self, from: request)
            return Self.answer(render(try await manager.retire(try Self.name(context), entity: body.entityName)))
        }
        group.get("{name}/versions") { _, context in
            let stored = try await manager.endpoint(try Self.name(context))
            return Self.answer(try await versions(stored))
        }
    }

    /// An endpoint as Databricks' GET returns it, with per-entity deployment state.
    func render(_ stored: StoredEndpoint) -> JSONValue {
        let definition = stored.definition
        let runtime = live.endpoint(definition.name)
        let updating = stored.configUpdate == "IN_PROGRESS"
        var entities: [JSONValue] = []
        for entity in definition.config.servedEntities {
            var json = JSONValue.encoded(entity)
            let deployed = runtime?.entities[entity.name].map { $0.config == entity } ?? false
            let state = deployed ? "DEPLOYMENT_READY" : (updating ? "DEPLOYMENT_CREATING" : "DEPLOYMENT_FAILED")
            if case .object(var object) = json {
                object["served_entity_id"] = .string(entity.servedEntityID)
                object["state"] = ["deployment": .string(state), "deployment_state_message": ""]
                json = .object(object)
            }
            entities.append(json)
        }
        var config: JSONObject = ["served_entities": .array(entities), "config_version": .int(stored.configVersion)]
        config["traffic_config"] = definition.config.trafficConfig.map(JSONValue.encoded)
        let ready = runtime.map { !$0.entities.isEmpty } ?? false
        return [
            "name": .string(definition.name), "id": .string(definition.name), "creator": "tollgate",
            "creation_timestamp": .int(Int(stored.createdAt.timeIntervalSince1970 * 1000)),
            "last_updated_timestamp": .int(Int(stored.updatedAt.timeIntervalSince1970 * 1000)),
            "state": ["ready": .string(ready ? "READY" : "NOT_READY"), "config_update": .string(stored.configUpdate)],
            "config": .object(config), "ai_gateway": JSONValue.encoded(definition.aiGateway), "tags": JSONValue.encoded(definition.tags),
            "retention": JSONValue.encoded(definition.retention), "task": "llm/v1/chat",
        ]
    }

    /// Every version (served entity) of an endpoint: live and retired, with traffic, requests and cost.
    func versions(_ stored: StoredEndpoint) async throws -> JSONValue {
        let name = stored.definition.name
        let traffic = TrafficShares(stored.definition)
        let usage = try await store.usage(name)
        let compute = try await costs.computeCostByEntity(endpoint: name)
        let runtime = live.endpoint(name)
        let now = Date()
        var rows: [JSONValue] = []
        for version in try await store.versions(name) {
            let served = usage[version.entityName]
            let entity = version.state == "RETIRED" ? nil : runtime?.entities[version.entityName]
            let tokenCost = served?.tokenCostUSD ?? 0
            let computeCost = compute[version.entityName] ?? 0
            var row: JSONObject = [
                "entity_name": .string(version.entityName), "served_entity_id": .string(version.servedEntityID),
                "state": .string(version.state), "traffic_percentage": .int(entity == nil ? 0 : traffic.share(of: version.entityName)),
                "created_at": .string(UTCTimestamp.iso8601(version.createdAt)),
                "age_seconds": .int(Int(now.timeIntervalSince(version.createdAt))),
                "zero_traffic_since": .optionalString(version.zeroTrafficSince.map(UTCTimestamp.iso8601)),
                "retired_at": .optionalString(version.retiredAt.map(UTCTimestamp.iso8601)),
                "retired_reason": .optionalString(version.retiredReason),
                "requests": .int(served?.requests ?? 0), "last_request_time": .optionalString(served?.lastRequestAt),
                "token_cost_usd": .double(tokenCost), "compute_cost_usd": .double(computeCost), "cost_usd": .double(tokenCost + computeCost),
                "in_flight": .int(entity?.activity.inFlight ?? 0),
            ]
            if let local = entity?.localModel { row["process"] = await local.status().json }
            rows.append(.object(row))
        }
        return ["endpoint_name": .string(name), "config_version": .int(stored.configVersion), "versions": .array(rows)]
    }

    // MARK: - Helpers

    /// The endpoint named in the path, percent-decoded.
    static func name(_ context: GatewayRequestContext) throws -> String {
        guard let raw = context.parameters.get("name"), let name = raw.removingPercentEncoding, !name.isEmpty else {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: "The endpoint name is missing.")
        }
        return name
    }

    /// Agent tool servers run commands on this host: defined in the config file only, unless
    /// `server.allow_admin_tool_commands` is set.
    /// Commands run on the gateway's host: agent tool servers, and a local model's own server
    /// command (the default llama.cpp command is allowed).
    func checkToolCommands(_ entities: [ServedEntityConfig]) throws(GatewayError) {
        guard !allowToolCommands else { return }
        if let entity = entities.first(where: { !($0.agent?.tools.isEmpty ?? true) }) {
            throw GatewayError(
                code: .permissionDenied, status: 403,
                message: "Served entity `\(entity.name)` defines agent tool servers (commands run on the gateway's host); define them in the configuration file, or set server.allow_admin_tool_commands: true.")
        }
        if let entity = entities.first(where: { $0.localModel.map { $0.command != LocalModelConfig.defaultCommand } ?? false }) {
            throw GatewayError(
                code: .permissionDenied, status: 403,
                message: "Served entity `\(entity.name)` sets its local model's command (it runs on the gateway's host); define it in the configuration file, or set server.allow_admin_tool_commands: true.")
        }
    }

    static func decode<Value: Decodable>(_ type: Value.Type, from request: Request) async throws -> Value {
        let limit = 4 * 1024 * 1024
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw GatewayError(code: .requestTooLarge, status: 413, message: "The request body is larger than \(limit) bytes.")
        }
        // A repeated top-level key is refused, as on the inference routes (JSONDecoder keeps one).
        do {
            _ = try RequestMembers.scan(Array(body.readableBytesView), parsing: [], parseAll: false)
        } catch {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: error.message)
        }
        do {
            return try StrictDecoding.decodeJSON(type, from: Data(body.readableBytesView)).value
        } catch let error as ConfigError {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: error.issues.map(\.description).joined(separator: "; "))
        } catch let error as DecodingError {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: ConfigLoader.issue(for: error).description)
        } catch {
            throw GatewayError(code: .invalidParameterValue, status: 400, message: "The body is not valid JSON.")
        }
    }

    static func answer(_ body: JSONValue) -> Response {
        HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }
}

/// `POST …/{name}/deploy` body.
struct DeployRequest: Decodable, Sendable {
    var entity: ServedEntityConfig
    var canaryPercentage: Int?

    enum CodingKeys: String, CodingKey {
        case entity
        case canaryPercentage = "canary_percentage"
    }
}

/// `POST …/{name}/retire` body.
struct RetireRequest: Decodable, Sendable {
    var entityName: String

    enum CodingKeys: String, CodingKey { case entityName = "entity_name" }
}

/// Admits admin requests carrying `Authorization: Bearer <server.admin_token>`.
struct AdminTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token else {
            throw GatewayError(code: .unauthenticated, status: 401, message: "The admin API is disabled: set server.admin_token.")
        }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil } ?? ""
        guard ConstantTime.equal(given, token) else {
            throw GatewayError(code: .unauthenticated, status: 401, message: "A valid admin token is required (Authorization: Bearer …).")
        }
        return try await next(request, context)
    }
}

/// Secret comparison that does not stop at the first difference.
enum ConstantTime {
    static func equal(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        var difference = a.count ^ b.count
        for index in 0..<max(a.count, b.count) {
            difference |= Int((index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0))
        }
        return difference == 0
    }
}

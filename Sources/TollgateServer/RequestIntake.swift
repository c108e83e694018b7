import Foundation
import Hummingbird
import NIOCore
import TollgateCore

/// Reads, parses and routes a request: from HTTP to an `InferenceCall`. Each failure is a
/// `GatewayError`, and `record` always holds what is known so far for the row.
struct RequestIntake: Sendable {
    let live: LiveEndpoints
    /// Stored Responses, for `previous_response_id` and `store`.
    let archive: ResponseArchive
    /// Who sent the request; it must hold CAN_QUERY on the endpoint.
    let caller: Caller

    func accept(
        body: ByteBuffer, api: ClientAPI, pathEndpoint: String?, record: inout InferenceRecord
    ) async throws(GatewayError) -> InferenceCall {
        let bytes = Array(body.readableBytesView)
        record.request = String(decoding: bytes, as: UTF8.self)
        switch api {
        case .chat:
            return try acceptChat(bytes, record: &record)
        case .embeddings:
            return try acceptEmbeddings(bytes, record: &record)
        case .responses, .invocations:
            let scanned = try Self.scan(bytes, parseAll: true)
            return try await acceptObject(scanned, api: api, pathEndpoint: pathEndpoint, record: &record)
        }
    }

    /// Walks the body once (valid JSON object, no repeated top-level key).
    private static func scan(_ bytes: [UInt8], parseAll: Bool) throws(GatewayError) -> RequestMembers {
        do {
            return try RequestMembers.scan(bytes, parsing: RequestRules.checkedKeys, parseAll: parseAll)
        } catch {
            throw GatewayError(error)
        }
    }

    /// The chat hot path: parse only the members the gateway checks, then relay the body with
    /// exactly one `model` (the served entity's) and every other member byte for byte.
    private func acceptChat(_ bytes: [UInt8], record: inout InferenceRecord) throws(GatewayError) -> InferenceCall {
        let body = try Self.scan(bytes, parseAll: false)
        let name = try Self.endpointName(body.values, pathEndpoint: nil)
        let stream = body.values["stream"]?.boolValue ?? false
        record.stream = stream
        let (endpoint, entity) = try route(name, record: &record)
        do {
            try RequestRules.check(body, needsMessages: true)
        } catch {
            throw GatewayError(error)
        }
        var call = InferenceCall(
            requestID: record.requestID, stream: stream, endpoint: endpoint, entity: entity, output: .chat,
            upstreamBody: ByteBuffer(bytes: body.settingOnly("model", to: entity.upstreamModel)), record: record,
            tracing: live.config.tracing.enabled
        )
        call.maxTokens = Self.maxTokens(body.values)
        return call
    }

    /// `POST /v1/embeddings`: `input` is a string, or an array of strings or token arrays, and
    /// the endpoint's model must have an embeddings API; the body is relayed like chat's.
    private func acceptEmbeddings(_ bytes: [UInt8], record: inout InferenceRecord) throws(GatewayError) -> InferenceCall {
        let body = try Self.scan(bytes, parseAll: true)
        let name = try Self.endpointName(body.values, pathEndpoint: nil)
        let (endpoint, entity) = try route(name, record: &record)
        do {
            try RequestRules.check(body, needsMessages: false)
            try RequestRules.checkEmbeddingsInput(body.values["input"])
        } catch {
            throw GatewayError(error)
        }
        if case .bool(true)? = body.values["stream"] {
            throw GatewayError(code: .invalidRequest, status: 400, message: "Embeddings cannot be streamed.", param: "stream")
        }
        guard entity.supportsEmbeddings else {
            throw GatewayError(
                code: .invalidRequest, status: 400,
                message: "The endpoint `\(name)` serves `\(entity.config.name)`, which has no embeddings API.", param: "model")
        }
        return InferenceCall(
            requestID: record.requestID, stream: false, endpoint: endpoint, entity: entity, output: .embeddings,
            upstreamBody: ByteBuffer(bytes: body.settingOnly("model", to: entity.upstreamModel)), record: record,
            tracing: live.config.tracing.enabled
        )
    }

    /// The endpoint a body names: the path's, or its `model` (which must then be a string).
    private static func endpointName(_ values: JSONObject, pathEndpoint: String?) throws(GatewayError) -> String {
        if let pathEndpoint, !pathEndpoint.isEmpty { return pathEndpoint }
        switch values["model"] {
        case .string(let name)? where !name.isEmpty:
            return name
        case nil, .null?, .string?:
            throw GatewayError(code: .invalidRequest, status: 400, message: "`model` is required: name the endpoint to query.", param: "model")
        case let other?:
            throw GatewayError(
                code: .invalidRequest, status: 400,
                message: "Invalid type for 'model': expected a string, but got \(RequestRules.typeName(other)) instead.", param: "model")
        }
    }

    /// Responses requests and Databricks invocations (`messages` → chat, `input` → Responses).
    private func acceptObject(
        _ body: RequestMembers, api: ClientAPI, pathEndpoint: String?, record: inout InferenceRecord
    ) async throws(GatewayError) -> InferenceCall {
        let object = body.values
        if case .bool(let stream)? = object["stream"] { record.stream = stream }
        if api == .invocations {
            record.clientRequestID = DatabricksFields.clientRequestID(object)
            record.usageContext = DatabricksFields.usageContext(object)
        }
        let name = try Self.endpointName(object, pathEndpoint: pathEndpoint)
        let (endpoint, entity) = try route(name, record: &record)
        let asResponses = api == .responses || (object["messages"] == nil && object["input"] != nil)
        do {
            try RequestRules.check(body, needsMessages: !asResponses)
        } catch {
            throw GatewayError(error)
        }
        let stream = record.stream
        var request = object
        for field in DatabricksFields.all { request[field] = nil }
        let output: OutputFormat
        let upstream: JSONObject
        var keeping: ResponseKeeping?
        if asResponses {
            // The OpenAI route stores its answers and continues stored conversations.
            let continuation = api == .responses ? try await ResponsesContinuation(archive: archive, mayRead: { [live, caller] in live.allows(caller, toQuery: $0) })
                .resolve(request) : nil
            let context = continuation?.previousContext ?? []
            let sent = context.isEmpty ? request : ResponsesContext.continuing(request, after: context, responseID: record.requestID)
            do {
                upstream = try ResponsesTranslation.chatRequest(fromResponses: sent, upstreamModel: entity.upstreamModel)
            } catch {
                throw GatewayError(error)
            }
            keeping = continuation?.keeping
            output = .responses(request: request)
        } else {
            request["model"] = .string(entity.upstreamModel)
            upstream = request
            output = .chat
        }
        var call = InferenceCall(
            requestID: record.requestID, stream: stream, endpoint: endpoint, entity: entity, output: output,
            upstreamBody: ByteBuffer(bytes: JSONValue.object(upstream).jsonBytes), record: record,
            tracing: live.config.tracing.enabled
        )
        call.returnTrace = object["databricks_options"]?["return_trace"]?.boolValue ?? false
        call.maxTokens = Self.maxTokens(object)
        call.keeping = keeping
        return call
    }

    /// The answer length the client asked for (already range-checked by `RequestRules`).
    private static func maxTokens(_ values: JSONObject) -> Int? {
        (values["max_completion_tokens"] ?? values["max_tokens"] ?? values["max_output_tokens"])?.intValue
    }

    private func route(_ name: String, record: inout InferenceRecord) throws(GatewayError) -> (EndpointRuntime, EntityRuntime) {
        record.endpointName = name
        guard let endpoint = live.endpoint(name) else {
            throw GatewayError(code: .endpointNotFound, status: 404, message: "The endpoint `\(name)` does not exist.", param: "model")
        }
        guard caller.mayQuery(endpoint.config, defaultLevel: live.config.server.defaultPermission) else {
            throw GatewayError(
                code: .forbidden, status: 403,
                message: "`\(caller.requester?.name ?? "anonymous")` does not have CAN_QUERY on the endpoint `\(name)`.", param: "model"
            )
        }
        record.writesInferenceRow = endpoint.config.aiGateway.inferenceTableConfig.enabled
        record.writesUsageRow = endpoint.config.aiGateway.usageTrackingConfig.enabled
        guard let entity = endpoint.pickEntity() else {
            throw GatewayError(code: .noServedEntity, status: 503, message: "The endpoint `\(name)` has no served entity ready.")
        }
        record.servedEntityName = entity.config.name
        record.servedEntityID = entity.config.servedEntityID
        record.price = entity.price
        return (endpoint, entity)
    }
}

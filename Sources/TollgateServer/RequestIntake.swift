import Foundation
import Hummingbird
import NIOCore
import TollgateCore

/// Reads, parses and routes a request: from HTTP to an `InferenceCall`. Each failure is a
/// `GatewayError`, and `record` always holds what is known so far for the row.
struct RequestIntake: Sendable {
    let live: LiveEndpoints

    private static let decoder = JSONDecoder()

    func accept(
        body: ByteBuffer, api: ClientAPI, pathEndpoint: String?, record: inout InferenceRecord
    ) throws(GatewayError) -> InferenceCall {
        let bytes = Array(body.readableBytesView)
        record.request = String(decoding: bytes, as: UTF8.self)
        switch api {
        case .chat:
            return try acceptChat(bytes, record: &record)
        case .responses, .invocations:
            guard let object = try? JSONValue.parse(bytes).objectValue else {
                throw GatewayError(code: .invalidJSON, status: 400, message: "The request body is not a valid JSON object.")
            }
            return try acceptObject(object, api: api, pathEndpoint: pathEndpoint, record: &record)
        }
    }

    /// The chat hot path: decode only `model` and `stream`, patch `model`, relay the rest as is.
    private func acceptChat(_ bytes: [UInt8], record: inout InferenceRecord) throws(GatewayError) -> InferenceCall {
        let head: ChatRequestHead
        do {
            head = try Self.decoder.decode(ChatRequestHead.self, from: Data(bytes))
        } catch {
            throw GatewayError(code: .invalidJSON, status: 400, message: "The request body is not valid JSON or has fields of the wrong type.")
        }
        guard let model = head.model, !model.isEmpty else {
            throw GatewayError(code: .invalidRequest, status: 400, message: "`model` is required: name the endpoint to query.", param: "model")
        }
        let stream = head.stream ?? false
        record.stream = stream
        let (endpoint, entity) = try route(model, record: &record)
        guard let patched = JSONFieldPatch.settingString("model", to: entity.upstreamModel, in: bytes) else {
            throw GatewayError(code: .invalidJSON, status: 400, message: "The request body is not a JSON object.")
        }
        return InferenceCall(
            requestID: record.requestID, stream: stream, endpoint: endpoint, entity: entity, output: .chat,
            upstreamBody: ByteBuffer(bytes: patched), record: record, tracing: live.config.tracing.enabled
        )
    }

    /// Responses requests and Databricks invocations (`messages` → chat, `input` → Responses).
    private func acceptObject(
        _ object: JSONObject, api: ClientAPI, pathEndpoint: String?, record: inout InferenceRecord
    ) throws(GatewayError) -> InferenceCall {
        let stream = object["stream"]?.boolValue ?? false
        record.stream = stream
        if api == .invocations {
            record.clientRequestID = DatabricksFields.clientRequestID(object)
            record.usageContext = DatabricksFields.usageContext(object)
        }
        guard let name = pathEndpoint ?? object["model"]?.stringValue, !name.isEmpty else {
            throw GatewayError(code: .invalidRequest, status: 400, message: "`model` is required: name the endpoint to query.", param: "model")
        }
        let (endpoint, entity) = try route(name, record: &record)
        var request = object
        for field in DatabricksFields.all { request[field] = nil }
        let output: OutputFormat
        let upstream: JSONObject
        if api == .responses || (object["messages"] == nil && object["input"] != nil) {
            do {
                upstream = try ResponsesTranslation.chatRequest(fromResponses: request, upstreamModel: entity.upstreamModel)
            } catch {
                throw GatewayError(code: .invalidRequest, status: 400, message: error.message, param: error.param)
            }
            output = .responses(request: request)
        } else {
            guard request["messages"]?.arrayValue != nil else {
                throw GatewayError(code: .invalidRequest, status: 400, message: "The body needs `messages` (chat) or `input` (Responses).", param: "messages")
            }
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
        return call
    }

    private func route(_ name: String, record: inout InferenceRecord) throws(GatewayError) -> (EndpointRuntime, EntityRuntime) {
        record.endpointName = name
        guard let endpoint = live.endpoint(name) else {
            throw GatewayError(code: .endpointNotFound, status: 404, message: "The endpoint `\(name)` does not exist.", param: "model")
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

import NIOCore
import TollgateCore

/// Before a Responses request goes upstream: whether it is stored (`store`, default true) and,
/// with `previous_response_id`, the stored conversation it continues.
struct ResponsesContinuation: Sendable {
    let archive: ResponseArchive

    func prepare(_ call: InferenceCall, request: JSONObject) async throws(GatewayError) -> InferenceCall {
        var call = call
        let stores: Bool
        switch request["store"] {
        case nil, .null?: stores = true
        case .bool(let value)?: stores = value
        case let other?:
            throw GatewayError(
                code: .invalidRequest, status: 400,
                message: "Invalid type for 'store': expected a boolean, but got \(RequestRules.typeName(other)) instead.", param: "store")
        }
        var context: [JSONValue] = []
        switch request["previous_response_id"] {
        case nil, .null?:
            break
        case .string(let id)?:
            let found: StoredResponse?
            do { found = try await archive.find(id) } catch {
                throw GatewayError(code: .internalError, status: 500, message: "The stored responses could not be read: \(error)")
            }
            guard let found else {
                throw GatewayError(
                    code: .previousResponseNotFound, status: 404, message: "Previous response with id '\(id)' not found.",
                    param: "previous_response_id")
            }
            context = found.contextItems
            let continued = ResponsesContext.continuing(request, after: context, responseID: id)
            do {
                let upstream = try ResponsesTranslation.chatRequest(fromResponses: continued, upstreamModel: call.entity.upstreamModel)
                call.upstreamBody = ByteBuffer(bytes: JSONValue.object(upstream).jsonBytes)
            } catch {
                throw GatewayError(error)
            }
        case let other?:
            throw GatewayError(
                code: .invalidRequest, status: 400,
                message: "Invalid type for 'previous_response_id': expected a string, but got \(RequestRules.typeName(other)) instead.",
                param: "previous_response_id")
        }
        if stores { call.keeping = ResponseKeeping(archive: archive, previousContext: context) }
        return call
    }
}

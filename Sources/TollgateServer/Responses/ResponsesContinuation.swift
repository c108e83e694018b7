import TollgateCore

/// What a Responses request says about stored state: whether its answer is kept (`store`,
/// default true) and, with `previous_response_id`, the stored conversation it continues.
struct ResponsesContinuation: Sendable {
    let archive: ResponseArchive
    /// Whether the caller may read what an endpoint stored (it must hold CAN_QUERY on it).
    var mayRead: @Sendable (String) -> Bool = { _ in true }

    struct Resolved: Sendable {
        /// The earlier conversation's items, sent upstream before the request's own input.
        var previousContext: [JSONValue]
        /// Set when the answer is stored.
        var keeping: ResponseKeeping?
    }

    func resolve(_ request: JSONObject) async throws(GatewayError) -> Resolved {
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
            guard let found, mayRead(found.endpointName) else {
                throw GatewayError(
                    code: .previousResponseNotFound, status: 404, message: "Previous response with id '\(id)' not found.",
                    param: "previous_response_id")
            }
            context = found.contextItems
        case let other?:
            throw GatewayError(
                code: .invalidRequest, status: 400,
                message: "Invalid type for 'previous_response_id': expected a string, but got \(RequestRules.typeName(other)) instead.",
                param: "previous_response_id")
        }
        return Resolved(previousContext: context, keeping: stores ? ResponseKeeping(archive: archive, previousContext: context) : nil)
    }
}

import Hummingbird
import NIOCore
import TollgateCore

/// Stored Responses, as OpenAI serves them: `GET /v1/responses/{id}`,
/// `DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`.
struct ResponseRoutes: Sendable {
    let archive: ResponseArchive
    /// The caller of a request (401 under `server.auth: keys` without a valid key).
    let caller: @Sendable (Request) throws(GatewayError) -> Caller
    /// Whether a caller may read what an endpoint stored (CAN_QUERY on it); others get 404.
    let mayRead: @Sendable (Caller, String) -> Bool

    func register(on router: Router<GatewayRequestContext>) {
        // Also under Databricks' OpenAI-compatible base, where its SDK's OpenAI client sends them.
        for base in ["/v1/responses", "/serving-endpoints/responses"] { register(base, on: router) }
    }

    private func register(_ base: String, on router: Router<GatewayRequestContext>) {
        router.get(RouterPath("\(base)/{id}")) { request, context in
            let stored = try await find(context, caller: try caller(request))
            return json(stored.response)
        }
        router.delete(RouterPath("\(base)/{id}")) { request, context in
            let id = Self.id(context)
            _ = try await find(context, caller: try caller(request))
            let deleted: Bool
            do { deleted = try await archive.delete(id) } catch { throw Self.storeFailed(error) }
            guard deleted else { throw Self.notFound(id) }
            return json(["id": .string(id), "object": "response", "deleted": true])
        }
        router.get(RouterPath("\(base)/{id}/input_items")) { request, context in
            let stored = try await find(context, caller: try caller(request))
            return json(try Self.page(stored.inputItems, query: request.uri.queryParameters))
        }
    }

    private func find(_ context: GatewayRequestContext, caller: Caller) async throws(GatewayError) -> StoredResponse {
        let id = Self.id(context)
        let found: StoredResponse?
        do { found = try await archive.find(id) } catch { throw Self.storeFailed(error) }
        guard let found, mayRead(caller, found.endpointName) else { throw Self.notFound(id) }
        return found
    }

    /// OpenAI's list page: `limit` (1–100, default 20), `order` (`desc` default, or `asc`),
    /// `after` (an item id).
    static func page(_ items: [JSONValue], query: Parameters) throws(GatewayError) -> JSONValue {
        var limit = 20
        if let text = query["limit"].map(String.init) {
            guard let value = Int(text), (1...100).contains(value) else {
                throw GatewayError(code: .invalidRequest, status: 400, message: "Invalid 'limit': expected an integer between 1 and 100.", param: "limit")
            }
            limit = value
        }
        var ordered = items
        switch query["order"].map(String.init) {
        case nil, "desc": ordered.reverse()
        case "asc": break
        default: throw GatewayError(code: .invalidRequest, status: 400, message: "Invalid 'order': expected 'asc' or 'desc'.", param: "order")
        }
        if let after = query["after"].map(String.init) {
            guard let index = ordered.firstIndex(where: { $0["id"]?.stringValue == after }) else {
                throw GatewayError(code: .invalidRequest, status: 400, message: "No input item with id '\(after)'.", param: "after")
            }
            ordered = Array(ordered[(index + 1)...])
        }
        let data = Array(ordered.prefix(limit))
        return [
            "object": "list", "data": .array(data), "first_id": data.first?["id"] ?? .null, "last_id": data.last?["id"] ?? .null,
            "has_more": .bool(ordered.count > limit),
        ]
    }

    private static func id(_ context: GatewayRequestContext) -> String {
        let raw = context.parameters.get("id") ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    private static func notFound(_ id: String) -> GatewayError {
        GatewayError(code: .responseNotFound, status: 404, message: "Response with id '\(id)' not found.", param: "response_id")
    }

    private static func storeFailed(_ error: any Error) -> GatewayError {
        GatewayError(code: .internalError, status: 500, message: "The stored responses could not be read: \(error)")
    }

    private func json(_ body: JSONValue) -> Response {
        HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }
}

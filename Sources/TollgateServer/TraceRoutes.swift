import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// `GET /api/traces` and `GET /api/traces/{trace_id}`: stored traces in MLflow's JSON. They
/// hold every user's prompts, so they take the admin token, like the admin API.
struct TraceRoutes: Sendable {
    let queries: TraceQueries
    let adminToken: String?

    /// The most traces one page may hold.
    static let maxResults = 1000

    func register(on router: Router<GatewayRequestContext>) {
        let group = router.group("/api/traces").add(middleware: AdminTokenMiddleware(token: adminToken))
        group.get("{trace_id}") { _, context -> Response in
            let id = context.parameters.get("trace_id") ?? ""
            guard let json = try await queries.traceJSON(id: id) else {
                throw GatewayError(code: .routeNotFound, status: 404, message: "No trace `\(id)`.", param: "trace_id")
            }
            return HTTPAnswers.json(status: 200, body: ByteBuffer(string: json), requestID: Identifiers.requestID(), entity: nil)
        }
        group.get { request, _ -> Response in
            var filter = try Self.filter(request.uri.queryParameters)
            let wanted = filter.limit
            // One more than asked tells whether another page follows.
            filter.limit = wanted + 1
            var traces = try await queries.traces(matching: filter)
            let more = traces.count > wanted
            traces = Array(traces.prefix(wanted))
            let next: JSONValue = more ? .string(Self.pageToken(offset: filter.offset + wanted)) : .null
            let body: JSONValue = ["traces": .array(traces.map(Self.json)), "next_page_token": next]
            return HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
        }
    }

    /// The query parameters, checked: a bad value is a 400, never a silent default.
    static func filter(_ query: Hummingbird.Parameters) throws(GatewayError) -> TraceFilter {
        let known: Set<String> = ["max_results", "page_token", "endpoint_name", "state", "start_time", "end_time"]
        for (key, _) in query where !known.contains(String(key)) {
            throw GatewayError(code: .invalidRequest, status: 400, message: "Unknown query parameter `\(key)`.", param: String(key))
        }
        var limit = 100
        if let text = query.get("max_results") {
            guard let value = Int(text), (1...maxResults).contains(value) else {
                throw GatewayError(code: .invalidRequest, status: 400, message: "`max_results` must be an integer from 1 to \(maxResults).", param: "max_results")
            }
            limit = value
        }
        var offset = 0
        if let token = query.get("page_token") {
            guard let value = pageOffset(token) else {
                throw GatewayError(code: .invalidRequest, status: 400, message: "`page_token` is not a token this server returned.", param: "page_token")
            }
            offset = value
        }
        let state = query.get("state")
        if let state, !["OK", "ERROR", "IN_PROGRESS"].contains(state.uppercased()) {
            throw GatewayError(code: .invalidRequest, status: 400, message: "`state` must be OK, ERROR or IN_PROGRESS.", param: "state")
        }
        for key in ["start_time", "end_time"] {
            if let time = query.get(key), (try? Date(time, strategy: .iso8601)) == nil {
                throw GatewayError(code: .invalidRequest, status: 400, message: "`\(key)` must be an ISO-8601 time (2026-01-31T12:00:00Z).", param: key)
            }
        }
        return TraceFilter(
            endpointName: query.get("endpoint_name"), state: state, since: query.get("start_time"), until: query.get("end_time"),
            limit: limit, offset: offset
        )
    }

    static func pageToken(offset: Int) -> String { "p" + String(offset) }

    static func pageOffset(_ token: String) -> Int? {
        guard token.first == "p", let offset = Int(token.dropFirst()), offset >= 0, offset <= 1_000_000_000 else { return nil }
        return offset
    }

    static func json(_ trace: TraceSummary) -> JSONValue {
        [
            "trace_id": .string(trace.traceID), "request_id": .string(trace.requestID), "endpoint_name": .string(trace.endpointName),
            "request_time": .string(trace.requestTime), "state": .string(trace.state),
            "execution_duration_ms": .optionalInt(trace.executionDurationMs),
            "request_preview": .optionalString(trace.requestPreview), "response_preview": .optionalString(trace.responsePreview),
        ]
    }
}

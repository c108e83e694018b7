import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// `GET /api/traces` and `GET /api/traces/{trace_id}`: stored traces in MLflow's JSON.
struct TraceRoutes: Sendable {
    let store: SQLiteStore

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/traces/{trace_id}") { _, context -> Response in
            let id = context.parameters.get("trace_id") ?? ""
            guard let json = try store.traceJSON(id: id) else {
                throw GatewayError(code: .routeNotFound, status: 404, message: "No trace `\(id)`.", param: "trace_id")
            }
            return HTTPAnswers.json(status: 200, body: ByteBuffer(string: json), requestID: Identifiers.requestID(), entity: nil)
        }
        router.get("/api/traces") { request, _ -> Response in
            let query = request.uri.queryParameters
            let limit = query.get("max_results").flatMap(Int.init) ?? 100
            let filter = TraceFilter(
                endpointName: query.get("endpoint_name"), state: query.get("state"),
                since: query.get("start_time"), until: query.get("end_time"), limit: limit
            )
            let traces = try store.traces(matching: filter).map(Self.json)
            let body: JSONValue = ["traces": .array(traces), "next_page_token": nil]
            return HTTPAnswers.json(status: 200, body: ByteBuffer(string: body.jsonText), requestID: Identifiers.requestID(), entity: nil)
        }
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

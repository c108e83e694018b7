import Hummingbird
import NIOCore
import TollgateCore

/// Turns anything thrown outside the inference handlers (unknown routes, wrong methods,
/// framework errors) into an error body with the standard headers: Databricks'
/// `{error_code, message}` under `/api/` (admin and trace routes), the OpenAI envelope elsewhere.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GatewayError {
            return answer(error, request)
        } catch let error as HTTPError {
            if error.status == .notFound {
                return answer(GatewayError(code: .routeNotFound, status: 404, message: "No route for \(request.method) \(request.uri.path)."), request)
            }
            return answer(GatewayError(code: .invalidRequest, status: Int(error.status.code), message: error.body ?? error.status.reasonPhrase), request)
        } catch {
            return answer(GatewayError(code: .internalError, status: 500, message: "Internal error."), request)
        }
    }

    private func answer(_ error: GatewayError, _ request: Request) -> Response {
        let body = request.uri.path.hasPrefix("/api/") ? error.databricksEnvelope.jsonText : error.envelope.jsonText
        return HTTPAnswers.json(status: error.status, body: ByteBuffer(string: body), requestID: Identifiers.requestID(), entity: nil)
    }
}

import Hummingbird
import NIOCore
import TollgateCore

/// Turns anything thrown outside the inference handlers (unknown routes, wrong methods,
/// framework errors) into the OpenAI error envelope with the standard headers.
struct ErrorEnvelopeMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GatewayError {
            return answer(error)
        } catch let error as HTTPError {
            if error.status == .notFound {
                return answer(GatewayError(code: .routeNotFound, status: 404, message: "No route for \(request.method) \(request.uri.path)."))
            }
            return answer(GatewayError(code: .invalidRequest, status: Int(error.status.code), message: error.body ?? error.status.reasonPhrase))
        } catch {
            return answer(GatewayError(code: .internalError, status: 500, message: "Internal error."))
        }
    }

    private func answer(_ error: GatewayError) -> Response {
        HTTPAnswers.json(status: error.status, body: ByteBuffer(string: error.envelope.jsonText), requestID: Identifiers.requestID(), entity: nil)
    }
}

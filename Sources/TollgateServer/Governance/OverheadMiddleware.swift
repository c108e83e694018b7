import Hummingbird

/// Puts `x-tollgate-overhead-ms` on every response. Inference routes set it themselves (total
/// less the upstream wait); any other route's is its whole handling time.
struct OverheadMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response = try await next(request, context)
        if response.headers[CallGovernance.overheadHeader] == nil {
            response.headers[CallGovernance.overheadHeader] = CallGovernance.milliseconds(.now - start)
        }
        return response
    }
}

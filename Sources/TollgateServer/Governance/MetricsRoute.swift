import Hummingbird
import NIOCore
import TollgateStore

/// `GET /metrics`: the Prometheus text format. Like `/health`, open to whoever reaches the port
/// (scrapers carry no key); it holds counts by endpoint and entity, never prompts or keys.
struct MetricsRoute: Sendable {
    let metrics: GatewayMetrics
    let writer: RecordWriter
    let exports: @Sendable () -> (exported: Int, dropped: Int)?

    func register(on router: Router<GatewayRequestContext>) {
        router.get("/metrics") { _, _ -> Response in
            let body = metrics.render(writer: writer, exports: exports())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: ResponseBody(byteBuffer: body)
            )
        }
    }
}

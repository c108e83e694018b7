import CoreMetrics
import Foundation
import NIOCore
import Prometheus
import Synchronization
import TollgateCore
import TollgateStore

/// What `GET /metrics` shows: swift-metrics instruments on a Prometheus registry owned by the
/// gateway (not the process-wide `MetricsSystem`, so two gateways in one process never mix).
/// Labels are endpoint, entity, status and kinds of action only — never requesters or ids, so
/// the number of series stays bounded by the configuration.
public final class GatewayMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    /// Writer and exporter totals already added to their counters.
    private let seen = Mutex<[String: Int]>([:])
    /// Whether a name is a configured endpoint: other names (typos, probes) share one label
    /// value, so a client cannot grow the registry.
    private let isEndpoint: @Sendable (String) -> Bool

    public init(isEndpoint: @escaping @Sendable (String) -> Bool = { _ in true }) {
        self.isEndpoint = isEndpoint
        var factory = PrometheusMetricsFactory(registry: registry)
        let fast: [Duration] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        ]
        let slow: [Duration] = [
            .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120),
        ]
        factory.durationHistogramBuckets = [
            "tollgate_overhead_seconds": fast, "gen_ai_server_request_duration": slow, "gen_ai_server_time_to_first_token": slow,
        ]
        factory.valueHistogramBuckets = ["gen_ai_client_token_usage": [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262_144, 1_048_576]]
        self.factory = factory
    }

    /// One finished request (every row goes through here when it is queued).
    func request(_ record: InferenceRecord, total: Duration?, overhead: Duration?) {
        let endpoint = label(record.endpointName)
        let entity = record.servedEntityName ?? "(none)"
        CoreMetrics.Counter(label: "tollgate_requests_total", dimensions: [
            ("endpoint", endpoint), ("entity", entity), ("status", String(record.statusCode)), ("api", record.api.rawValue),
        ], factory: factory).increment()
        let operation = [("gen_ai_operation_name", record.api == .embeddings ? "embeddings" : "chat"), ("gen_ai_request_model", endpoint),
                         ("gen_ai_response_model", entity)]
        if let total {
            CoreMetrics.Timer(label: "gen_ai_server_request_duration", dimensions: operation, factory: factory).recordNanoseconds(Self.nanos(total))
        }
        if let overhead {
            CoreMetrics.Timer(label: "tollgate_overhead_seconds", dimensions: [("endpoint", endpoint)], factory: factory).recordNanoseconds(Self.nanos(overhead))
        }
        if let ttft = record.timeToFirstTokenMs {
            CoreMetrics.Timer(label: "gen_ai_server_time_to_first_token", dimensions: operation, factory: factory).recordMilliseconds(ttft)
        }
    }

    /// Token usage and cost of stored records (the writer resolves estimates off the request path).
    func written(_ records: [InferenceRecord], usage: [TokenUsage?]) {
        for (record, usage) in zip(records, usage) {
            guard let usage else { continue }
            let labels = [("gen_ai_operation_name", record.api == .embeddings ? "embeddings" : "chat"), ("gen_ai_request_model", label(record.endpointName)),
                          ("gen_ai_response_model", record.servedEntityName ?? "(none)")]
            CoreMetrics.Recorder(label: "gen_ai_client_token_usage", dimensions: labels + [("gen_ai_token_type", "input")], factory: factory).record(usage.input)
            CoreMetrics.Recorder(label: "gen_ai_client_token_usage", dimensions: labels + [("gen_ai_token_type", "output")], factory: factory).record(usage.output)
            if let cost = record.price?.tokenCost(input: usage.input, cachedInput: usage.cachedInput, output: usage.output), cost > 0 {
                CoreMetrics.FloatingPointCounter(label: "tollgate_cost_usd_total", dimensions: [
                    ("endpoint", label(record.endpointName)), ("entity", record.servedEntityName ?? "(none)"),
                ], factory: factory).increment(by: cost)
            }
        }
    }

    func rateLimited(endpoint: String, key: String, dimension: String) {
        CoreMetrics.Counter(label: "tollgate_rate_limit_rejections_total", dimensions: [("endpoint", endpoint), ("key", key), ("dimension", dimension)], factory: factory)
            .increment()
    }

    func guardrail(endpoint: String, direction: String, check: String, action: String) {
        CoreMetrics.Counter(label: "tollgate_guardrail_actions_total", dimensions: [
            ("endpoint", endpoint), ("direction", direction), ("guardrail", check), ("action", action),
        ], factory: factory).increment()
    }

    func fallback(endpoint: String, from: String, to: String) {
        CoreMetrics.Counter(label: "tollgate_fallbacks_total", dimensions: [("endpoint", endpoint), ("from_entity", from), ("to_entity", to)], factory: factory)
            .increment()
    }

    /// The Prometheus text, with the writer's and exporter's state brought up to date first.
    func render(writer: RecordWriter, exports: (exported: Int, dropped: Int)?) -> ByteBuffer {
        let counters = writer.statistics
        CoreMetrics.Gauge(label: "tollgate_record_queue_depth", factory: factory).record(writer.queueDepth)
        CoreMetrics.Gauge(label: "tollgate_store_writes_failing", factory: factory).record(writer.failure == nil ? 0 : 1)
        var totals = [
            "tollgate_records_written_total": counters.written, "tollgate_records_spilled_total": counters.spilled,
            "tollgate_records_restored_total": counters.restored, "tollgate_records_lost_total": counters.lost,
        ]
        if let exports {
            totals["tollgate_trace_exports_total"] = exports.exported
            totals["tollgate_trace_exports_dropped_total"] = exports.dropped
        }
        let deltas = seen.withLock { seen in
            totals.map { name, value in
                defer { seen[name] = value }
                return (name, max(0, value - (seen[name] ?? 0)))
            }
        }
        for (name, delta) in deltas { CoreMetrics.Counter(label: name, factory: factory).increment(by: delta) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 * 1024)
        registry.emit(into: &bytes)
        return ByteBuffer(bytes: bytes)
    }

    /// The endpoint label: the name when configured, `(none)` or `(unknown)` otherwise.
    private func label(_ endpoint: String) -> String {
        endpoint.isEmpty ? "(none)" : (isEndpoint(endpoint) ? endpoint : "(unknown)")
    }

    private static func nanos(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

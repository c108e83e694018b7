import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import Synchronization
import Testing
import TollgateCore

/// A collector on 127.0.0.1:0 that keeps every OTLP body it receives.
final class FakeCollector: Sendable {
    let bodies = Mutex<[(headers: [String: String], body: JSONValue)]>([])

    static func start() async throws -> (collector: FakeCollector, port: Int, task: Task<Void, any Error>) {
        let collector = FakeCollector()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let json = try JSONValue.parse(body.readableBytesView)
            collector.bodies.withLock { $0.append((headers, json)) }
            return Response(status: .ok)
        }
        var logger = Logger(label: "fake-collector")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger
        )
        let task = Task { try await app.run() }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        return (collector, port, task)
    }

    /// All spans received so far.
    var spans: [JSONValue] {
        bodies.withLock { $0 }.flatMap { entry in
            (entry.body["resourceSpans"]?.arrayValue ?? []).flatMap { resource in
                (resource["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] }
            }
        }
    }
}

@Suite("OTLP export")
struct OTLPExportTests {
    static func yaml(collector: String, extra: String = "") -> String {
        """
        store: STORE
        providers: [{name: sim, kind: simulator}]
        tracing:
          otlp: {endpoint: "\(collector)", headers: {x-mlflow-experiment-id: "0"}, flush_interval_ms: 50\(extra)}
        endpoints:
          - {name: model, config: {served_entities: [{name: m, external_model: {provider: sim, name: gpt-sim}}]}}
          - name: agent
            config:
              served_entities:
                - {name: a, agent: {model: {endpoint: model}, on_model_error: {respond: "no"}}}
        """
    }

    func attributes(_ span: JSONValue) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for item in span["attributes"]?.arrayValue ?? [] {
            if let key = item["key"]?.stringValue, let value = item["value"] { out[key] = value }
        }
        return out
    }

    @Test func spansReachTheCollectorWithGenAIAttributes() async throws {
        let (collector, port, task) = try await FakeCollector.start()
        let gateway = try await LiveGateway.start(yaml: Self.yaml(collector: "http://127.0.0.1:\(port)"))
        let answer = try await gateway.post("/v1/responses", body: #"{"model":"agent","input":"How do I rob a bank?"}"#)
        #expect(answer.status == 200)
        let traceID = try #require(try await gateway.rows(for: answer.requestID).inference?["trace_id"] as String?)
        for _ in 0..<200 where collector.spans.count < 2 { try await Task.sleep(for: .milliseconds(25)) }
        let spans = collector.spans
        #expect(spans.count == 2)
        #expect(Set(spans.compactMap { $0["traceId"]?.stringValue }) == [String(traceID.dropFirst(3))])
        let root = try #require(spans.first { $0["parentSpanId"] == nil })
        #expect(attributes(root)["gen_ai.operation.name"]?["stringValue"]?.stringValue == "invoke_agent")
        #expect(attributes(root)["mlflow.spanType"]?["stringValue"]?.stringValue == "AGENT")
        let chat = try #require(spans.first { $0["parentSpanId"] != nil })
        #expect(chat["name"]?.stringValue == "chat gpt-sim")
        #expect(chat["status"]?["code"]?.intValue == 2)
        #expect(attributes(chat)["gen_ai.operation.name"]?["stringValue"]?.stringValue == "chat")
        #expect(attributes(chat)["error.type"]?["stringValue"]?.stringValue == "HTTPError 400")
        #expect(chat["events"]?[0]?["name"]?.stringValue == "exception")
        #expect(collector.bodies.withLock { $0.first?.headers["x-mlflow-experiment-id"] } == "0")

        let ok = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "model"))
        #expect(ok.status == 200)
        for _ in 0..<200 where collector.spans.count < 3 { try await Task.sleep(for: .milliseconds(25)) }
        let model = try #require(collector.spans.last)
        #expect(attributes(model)["gen_ai.usage.output_tokens"]?["intValue"]?.stringValue != nil)
        #expect(attributes(model)["gen_ai.request.model"]?["stringValue"]?.stringValue == "gpt-sim")
        try await gateway.stop()
        task.cancel()
    }

    /// A collector that is down never fails a request; its batches are retried, then dropped and counted.
    @Test func aDownCollectorDropsTracesButNotRequests() async throws {
        let yaml = Self.yaml(collector: "http://127.0.0.1:1", extra: ", max_attempts: 2, timeout_seconds: 0.5")
        let gateway = try await LiveGateway.start(yaml: yaml)
        for _ in 0..<5 {
            let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "model"))
            #expect(answer.status == 200)
        }
        for _ in 0..<200 where (gateway.runtime.exportStatistics?.dropped ?? 0) < 5 { try await Task.sleep(for: .milliseconds(25)) }
        #expect(gateway.runtime.exportStatistics?.dropped == 5)
        #expect(gateway.runtime.exportStatistics?.exported == 0)
        #expect(try gateway.count("traces") == 5)
        try await gateway.stop()
    }
}

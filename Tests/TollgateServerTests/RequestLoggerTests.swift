import Foundation
import Logging
import Synchronization
import Testing
import TollgateCore

/// Keeps every log entry, for tests that check what the gateway logs.
final class CapturedLogs: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    let entries = Mutex<[Entry]>([])

    var logger: Logger {
        var logger = Logger(label: "tollgate-test") { _ in Handler(logs: self) }
        logger.logLevel = .debug
        return logger
    }

    struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata.mapValues { "\($0)" }
            for (key, value) in event.metadata ?? [:] { all[key] = "\(value)" }
            let entry = Entry(level: event.level, message: "\(event.message)", metadata: all)
            logs.entries.withLock { $0.append(entry) }
        }
    }
}

@Suite("A logger per request, carrying its id")
struct RequestLoggerTests {
    @Test func upstreamFailuresAreLoggedWithTheRequestID() async throws {
        let logs = CapturedLogs()
        let yaml = """
            store: STORE
            limits: {connect_timeout_seconds: 2}
            providers: [{name: down, kind: openai, base_url: "http://127.0.0.1:1/v1"}]
            endpoints:
              - {name: chat, config: {served_entities: [{name: a, external_model: {provider: down, name: m}}]}}
            """
        let gateway = try await LiveGateway.start(yaml: yaml, logger: logs.logger)
        let answer = try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("hi", endpoint: "chat"))
        #expect(answer.status == 502)
        let refused = try await gateway.post("/v1/chat/completions", body: #"{"model":"chat","messages":[]}"#)
        #expect(refused.status == 400)
        try await gateway.stop()
        let entries = logs.entries.withLock { $0 }
        let failure = try #require(entries.first { $0.message == "upstream call failed" })
        #expect(failure.level == .warning)
        #expect(failure.metadata["tollgate.request_id"] == answer.requestID)
        #expect(failure.metadata["endpoint"] == "chat")
        #expect(failure.metadata["code"] == "upstream_unreachable")
        let refusal = try #require(entries.first { $0.message == "request refused" })
        #expect(refusal.metadata["tollgate.request_id"] == refused.requestID)
        #expect(refusal.metadata["param"] == "messages")
    }
}

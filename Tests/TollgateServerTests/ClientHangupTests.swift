import Foundation
import GRDB
import Testing
import TollgateCore

@Suite("A client that hangs up before the answer cancels the upstream call")
struct ClientHangupTests {
    func hangUpDuring(_ body: String) async throws -> (Row, LiveGateway) {
        // The simulator takes 5 s to answer; the client leaves after 0.3 s.
        let gateway = try await LiveGateway.start(yaml: TestConfigs.simulator(simulator: "{latency_ms: 5000}"))
        let connection = try RawConnection(port: gateway.port)
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        try await Task.sleep(for: .milliseconds(300))
        connection.hangUp()
        let rows = try await gateway.waitForRows("SELECT * FROM inference_table", count: 1)
        return (try #require(rows.first), gateway)
    }

    @Test func aPlainRequestIsRecordedAsCancelledAtOnce() async throws {
        let (row, gateway) = try await hangUpDuring(TestConfigs.chat("leave early"))
        #expect(row["status_code"] as Int? == 499)
        #expect(row["stream_end"] as String? == "client_cancelled")
        // Recorded when the client left, not when the upstream would have answered.
        #expect((row["execution_duration_ms"] as Int? ?? .max) < 4000)
        #expect((row["response"] as String?)?.contains("client_closed_request") == true)
        try await gateway.stop()
    }

    @Test func aStreamThatHasNotStartedIsRecordedAsCancelled() async throws {
        let (row, gateway) = try await hangUpDuring(TestConfigs.chat("leave early", stream: true))
        #expect(row["status_code"] as Int? == 499)
        #expect(row["stream"] as Bool? == true)
        #expect(row["stream_end"] as String? == "client_cancelled")
        #expect((row["execution_duration_ms"] as Int? ?? .max) < 4000)
        try await gateway.stop()
    }
}

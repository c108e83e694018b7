import Foundation
import Glibc
import Testing
import TollgateCore

/// A plain TCP connection to the gateway, for what an HTTP client will not do: stall mid-upload,
/// sit idle, hold many sockets open. Blocking reads run on a thread of their own: the test
/// process's gateways run on the Swift Concurrency threads, which a blocked read would stall.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Reads give up after 10 s, so a test can never hang on a socket.
        var wait = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) {
        _ = text.withCString { Glibc.send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }

    /// Closes both directions, as a client that gives up does.
    func hangUp() {
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Everything the server sends until it closes the connection (or the read timeout passes).
    func readUntilClosed() async -> String {
        await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: self.blockingRead()) }.start()
        }
    }

    private func blockingRead() -> String {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            out += buffer[0..<count]
        }
        return String(decoding: out, as: UTF8.self)
    }

    deinit { close(fd) }
}

@Suite("Connections: timeouts and a cap, so no client can exhaust the process")
struct ConnectionLimitTests {
    static func yaml(server: String) -> String {
        TestConfigs.simulator().replacingOccurrences(of: "store: STORE", with: "store: STORE\nserver: {\(server)}")
    }

    @Test func anUploadThatNeverFinishesGets408AndARow() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(server: "body_timeout_seconds: 0.5"))
        let connection = try RawConnection(port: gateway.port)
        connection.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"model\":\"sim\"")
        let answer = await connection.readUntilClosed()
        #expect(answer.hasPrefix("HTTP/1.1 408"))
        #expect(answer.contains("request_timeout"))
        let rows = try await gateway.waitForRows("SELECT status_code FROM inference_table WHERE status_code = 408", count: 1)
        #expect(rows.count == 1)
        try await gateway.stop()
    }

    @Test func idleConnectionsAndUnfinishedHeadsAreClosed() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(server: "idle_timeout_seconds: 0.3"))
        let idle = try RawConnection(port: gateway.port)
        let partialHead = try RawConnection(port: gateway.port)
        partialHead.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        // Both are closed by the server: the reads end before their own 10 s timeout.
        #expect(await idle.readUntilClosed().isEmpty)
        #expect(await partialHead.readUntilClosed().isEmpty)
        // On a new connection: the test client's pooled one (from the readiness check) is idle
        // too, and the server may be closing it just as a request would reuse it.
        let fresh = try RawConnection(port: gateway.port)
        let body = TestConfigs.chat("still serving")
        fresh.send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(await fresh.readUntilClosed().hasPrefix("HTTP/1.1 200"))
        try await gateway.stop()
    }

    @Test func pastTheCapNewConnectionsWaitAndTheProcessLives() async throws {
        let gateway = try await LiveGateway.start(yaml: Self.yaml(server: "max_connections: 4, idle_timeout_seconds: 30"))
        var held: [RawConnection] = []
        for _ in 0..<4 { held.append(try RawConnection(port: gateway.port)) }
        try await Task.sleep(for: .milliseconds(100))
        // A fifth connection is not served while four are open...
        let waiting = try RawConnection(port: gateway.port)
        waiting.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        var short = timeval(tv_sec: 0, tv_usec: 300_000)
        setsockopt(waiting.fd, SOL_SOCKET, SO_RCVTIMEO, &short, socklen_t(MemoryLayout<timeval>.size))
        #expect(await waiting.readUntilClosed().isEmpty)
        // ...and is once they close.
        held.removeAll()
        var long = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(waiting.fd, SOL_SOCKET, SO_RCVTIMEO, &long, socklen_t(MemoryLayout<timeval>.size))
        #expect(await waiting.readUntilClosed().hasPrefix("HTTP/1.1 200"))
        #expect(try await gateway.post("/v1/chat/completions", body: TestConfigs.chat("still serving")).status == 200)
        try await gateway.stop()
    }
}

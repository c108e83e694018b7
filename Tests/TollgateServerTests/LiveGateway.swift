import AsyncHTTPClient
import Foundation
import HTTPTypes
import GRDB
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TollgateCore
import TollgateServer

/// A real gateway on 127.0.0.1 (port 0) with a temporary SQLite store, for tests over sockets.
final class LiveGateway: Sendable {
    let runtime: GatewayRuntime
    let port: Int
    let dbPath: String
    let directory: String
    private let task: Task<Void, any Error>

    static let http = HTTPClient(eventLoopGroupProvider: .singleton)

    /// Starts a gateway from YAML; `STORE` in the text is replaced by the temporary store URL.
    static func start(yaml: String, environment: [String: String] = [:], directory: String? = nil, logger given: Logger? = nil) async throws -> LiveGateway {
        let directory = directory ?? NSTemporaryDirectory() + "tollgate-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let dbPath = directory + "/store.db"
        var config = try ConfigLoader(environment: environment).load(yaml: yaml.replacingOccurrences(of: "STORE", with: "sqlite:\(dbPath)"))
        config.server.port = 0
        var logger = given ?? Logger(label: "tollgate-test")
        if given == nil { logger.logLevel = .warning }
        let runtime = GatewayRuntime(config: config, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            try await runtime.run(handleSignals: false) { port in continuation.yield(port) }
        }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        let gateway = LiveGateway(runtime: runtime, port: port, dbPath: dbPath, directory: directory, task: task)
        // Listening is not ready: the embedded simulator may still be binding its port.
        for _ in 0..<200 {
            if (try? await gateway.post("/health/ready", body: "", method: .GET).status) == 200 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        return gateway
    }

    private init(runtime: GatewayRuntime, port: Int, dbPath: String, directory: String, task: Task<Void, any Error>) {
        self.runtime = runtime
        self.port = port
        self.dbPath = dbPath
        self.directory = directory
        self.task = task
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Graceful shutdown; returns once the record writer has drained.
    func stop() async throws {
        await runtime.shutdown()
        try await task.value
    }

    // MARK: - HTTP

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: JSONValue? { try? JSONValue.parse(body) }
        var requestID: String { headers["x-request-id"] ?? "" }
    }

    func post(_ path: String, body: String, headers: [String: String] = [:], method: HTTPMethod = .POST) async throws -> Answer {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if method == .POST || method == .PUT { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await Self.http.execute(request, timeout: .seconds(30))
        let collected = try await response.body.collect(upTo: 64 * 1024 * 1024)
        var names: [String: String] = [:]
        for header in response.headers { names[header.name.lowercased()] = header.value }
        return Answer(status: Int(response.status.code), headers: names, body: String(buffer: collected))
    }

    /// Opens a stream; the caller reads events with `StreamReader`.
    func openStream(_ path: String, body: String, headers: [String: String] = [:]) async throws -> (HTTPClientResponse, StreamReader) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await Self.http.execute(request, timeout: .seconds(30))
        return (response, StreamReader(iterator: response.body.makeAsyncIterator()))
    }

    // MARK: - Store

    /// Waits until the request's row is written, then returns both rows.
    func rows(for requestID: String) async throws -> (inference: Row?, usage: Row?) {
        let queue = try DatabaseQueue(path: dbPath)
        for _ in 0..<200 {
            let found = try queue.read { db in
                (
                    try Row.fetchOne(db, sql: "SELECT * FROM inference_table WHERE request_id = ?", arguments: [requestID]),
                    try Row.fetchOne(db, sql: "SELECT * FROM endpoint_usage WHERE request_id = ?", arguments: [requestID])
                )
            }
            if found.0 != nil || found.1 != nil { return found }
            try await Task.sleep(for: .milliseconds(25))
        }
        return (nil, nil)
    }

    /// Waits for a row matching a condition (for requests whose id the client never saw).
    func waitForRows(_ sql: String, count: Int) async throws -> [Row] {
        let queue = try DatabaseQueue(path: dbPath)
        var rows: [Row] = []
        for _ in 0..<200 {
            rows = try queue.read { db in try Row.fetchAll(db, sql: sql) }
            if rows.count >= count { return rows }
            try await Task.sleep(for: .milliseconds(25))
        }
        return rows
    }

    func count(_ table: String) throws -> Int {
        try DatabaseQueue(path: dbPath).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table)") ?? 0 }
    }
}

/// Reads server-sent events from a live response body.
final class StreamReader: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator
    private var parser = ServerSentEventParser()
    private var pending: [ServerSentEvent] = []

    init(iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.iterator = iterator
    }

    /// The next event, or nil at the end of the body.
    func next() async throws -> ServerSentEvent? {
        while pending.isEmpty {
            guard let buffer = try await iterator.next() else {
                if let last = parser.finish() { return last }
                return nil
            }
            pending += parser.feed(buffer.readableBytesView)
        }
        return pending.removeFirst()
    }

    func all() async throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        while let event = try await next() { events.append(event) }
        return events
    }
}

/// Configurations used by the tests.
enum TestConfigs {
    /// `limits` is the inside of the `limits:` mapping.
    static func simulator(limits: String = "upstream_timeout_seconds: 30", simulator: String = "{}") -> String {
        """
        store: STORE
        limits: {\(limits)}
        providers:
          - name: sim
            kind: simulator
            simulator: \(simulator)
        endpoints:
          - name: sim
            config:
              served_entities:
                - name: sim-a
                  external_model: {provider: sim, name: gpt-sim}
        """
    }

    static func chat(_ content: String, endpoint: String = "sim", stream: Bool = false, extra: String = "") -> String {
        #"{"model":"\#(endpoint)","stream":\#(stream),"messages":[{"role":"user","content":\#(JSONValue.quoted(content))}]\#(extra)}"#
    }
}

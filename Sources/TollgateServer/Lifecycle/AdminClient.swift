import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TollgateCore

/// An admin API answer that was not a success.
public struct AdminClientError: Error, Sendable, CustomStringConvertible {
    public var status: Int
    public var code: String?
    public var message: String

    public var description: String { status == 0 ? message : "HTTP \(status) \(code ?? ""): \(message)" }
}

/// Client of a running gateway's admin API (what `tollgate apply / deploy / rollback / retire /
/// versions` use).
public struct AdminClient: Sendable {
    public let baseURL: String
    public let token: String?

    public init(baseURL: String, token: String?) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.token = token
    }

    /// Sends one request; the parsed JSON answer, or an `AdminClientError`.
    public func send(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil) async throws(AdminClientError) -> JSONValue {
        var request = HTTPClientRequest(url: baseURL + AdminRoutes.base + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        } catch {
            throw AdminClientError(status: 0, code: nil, message: "cannot reach \(baseURL): \(error)")
        }
        let json = (try? JSONValue.parse(Array(bytes.readableBytesView))) ?? .null
        guard (200..<300).contains(status) else {
            throw AdminClientError(
                status: status, code: json["error_code"]?.stringValue ?? json["error"]?["code"]?.stringValue,
                message: json["message"]?.stringValue ?? json["error"]?["message"]?.stringValue ?? String(buffer: bytes)
            )
        }
        return json
    }

    /// Waits until the endpoint's `state.config_update` is no longer IN_PROGRESS.
    public func settled(_ name: String, timeout: Duration = .seconds(180)) async throws(AdminClientError) -> JSONValue {
        let deadline = ContinuousClock.now + timeout
        while true {
            let endpoint = try await send(.GET, "/\(name)")
            if endpoint["state"]?["config_update"]?.stringValue != "IN_PROGRESS" { return endpoint }
            guard ContinuousClock.now < deadline else {
                throw AdminClientError(status: 0, code: nil, message: "endpoint \(name) still updating after \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}

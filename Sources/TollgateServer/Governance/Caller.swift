import HTTPTypes
import TollgateCore
import TollgateStore

/// Who sent a request, as the key (or admin token) it carried says.
enum Caller: Sendable {
    /// `server.auth: none` and no key presented: anyone on the port.
    case anonymous
    /// The admin token: every permission on every endpoint.
    case admin
    case key(StoredKey)

    /// The principal limits and permissions are about.
    var requester: Requester? {
        switch self {
        case .anonymous: nil
        case .admin: Requester(name: "admin", groups: [], isServicePrincipal: true)
        case .key(let key): Requester(name: key.owner, groups: key.groups, isServicePrincipal: key.servicePrincipal)
        }
    }

    /// The level this caller holds on an endpoint.
    func level(on endpoint: EndpointConfig, defaultLevel: PermissionLevel?) -> PermissionLevel? {
        switch self {
        case .anonymous, .admin: .canManage
        case .key(let key):
            EndpointAccess.level(
                of: Requester(name: key.owner, groups: key.groups, isServicePrincipal: key.servicePrincipal),
                in: endpoint.permissions, defaultLevel: defaultLevel
            )
        }
    }

    /// Whether this caller holds CAN_QUERY (or more) on an endpoint.
    func mayQuery(_ endpoint: EndpointConfig, defaultLevel: PermissionLevel?) -> Bool {
        guard let level = level(on: endpoint, defaultLevel: defaultLevel) else { return false }
        return level >= .canQuery
    }

    /// Fills the row's `requester`, `key_id` and `requester_groups`.
    func stamp(_ record: inout InferenceRecord) {
        switch self {
        case .anonymous: break
        case .admin: record.requester = "admin"
        case .key(let key):
            record.requester = key.owner
            record.keyID = key.keyID
            record.requesterGroups = key.groups
        }
    }
}

extension LiveEndpoints {
    /// Whether `caller` may query the live endpoint named `name` (false when there is none).
    func allows(_ caller: Caller, toQuery name: String) -> Bool {
        endpoint(name).map { caller.mayQuery($0.config, defaultLevel: config.server.defaultPermission) } ?? false
    }
}

/// Checks the credentials of an inference request: `Authorization: Bearer …` or `api-key: …`
/// (Azure OpenAI's header, which the openai SDK's `AzureOpenAI` client sends).
struct Authenticator: Sendable {
    let mode: AuthMode
    let adminToken: String?
    let keys: KeyRing?

    static let apiKeyHeader = HTTPField.Name("api-key")!

    func authenticate(_ headers: HTTPFields) -> Result<Caller, GatewayError> {
        let presented = Self.credential(headers)
        if let presented, let adminToken, ConstantTime.equal(presented, adminToken) { return .success(.admin) }
        guard mode == .keys else {
            // Without key checking a key is still honoured when it is valid, so rows carry its owner.
            if let presented, let key = keys?.lookup(presented) { return .success(.key(key)) }
            return .success(.anonymous)
        }
        guard let presented else {
            return .failure(GatewayError(
                code: .invalidAPIKey, status: 401,
                message: "You didn't provide an API key. Send it as `Authorization: Bearer tg-…` (or in an `api-key` header)."
            ))
        }
        guard let key = keys?.lookup(presented) else {
            return .failure(GatewayError(
                code: .invalidAPIKey, status: 401,
                message: "Incorrect API key provided: \(Self.redacted(presented)). The key is unknown, revoked or expired."
            ))
        }
        return .success(.key(key))
    }

    /// The key a request carries. Parsed by hand (no Foundation trimming): it runs on every request.
    static func credential(_ headers: HTTPFields) -> String? {
        if let value = headers[.authorization], let token = bearerToken(value) { return token }
        if let value = headers[apiKeyHeader] {
            let token = trimmed(Substring(value))
            if !token.isEmpty { return String(token) }
        }
        return nil
    }

    /// The token of `Bearer TOKEN` (the scheme in any case), nil for other schemes.
    static func bearerToken(_ value: String) -> String? {
        let utf8 = value.utf8
        guard utf8.count > 7 else { return nil }
        let scheme = utf8.prefix(6).map { $0 | 0x20 }
        guard scheme.elementsEqual("bearer".utf8), utf8.dropFirst(6).first == UInt8(ascii: " ") else { return nil }
        let token = trimmed(Substring(value).dropFirst(7))
        return token.isEmpty ? nil : String(token)
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return text
    }

    /// The first and last characters only, as OpenAI shows a wrong key.
    static func redacted(_ key: String) -> String {
        key.count <= 10 ? "****" : "\(key.prefix(6))****\(key.suffix(4))"
    }
}

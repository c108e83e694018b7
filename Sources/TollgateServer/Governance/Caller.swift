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

    static func credential(_ headers: HTTPFields) -> String? {
        if let value = headers[.authorization] {
            let parts = value.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                let token = parts[1].trimmingCharacters(in: .whitespaces)
                return token.isEmpty ? nil : token
            }
        }
        if let value = headers[apiKeyHeader]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { return value }
        return nil
    }

    /// The first and last characters only, as OpenAI shows a wrong key.
    static func redacted(_ key: String) -> String {
        key.count <= 10 ? "****" : "\(key.prefix(6))****\(key.suffix(4))"
    }
}

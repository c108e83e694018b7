import Foundation
import Hummingbird
import NIOCore
import TollgateCore
import TollgateStore

/// `POST /api/2.0/tollgate/keys` body.
struct CreateKeyRequest: Decodable, Sendable {
    var owner: String
    var groups: [String]?
    var servicePrincipal: Bool?
    /// `30d`, `12h`…; no expiry when absent.
    var expires: String?
    var description: String?

    enum CodingKeys: String, CodingKey {
        case owner, groups, expires, description
        case servicePrincipal = "service_principal"
    }
}

/// Creates, lists and revokes keys: what `tollgate keys` and the admin API share.
public struct KeyAdmin: Sendable {
    let store: any KeyStorage
    /// The running gateway's keys, updated at once (nil from the CLI: the gateway reloads).
    let ring: KeyRing?

    public init(store: any KeyStorage) {
        self.store = store
        ring = nil
    }

    init(store: any KeyStorage, ring: KeyRing) {
        self.store = store
        self.ring = ring
    }

    /// Validates and stores a new key; returns the key (shown once) and its row.
    public func create(
        owner: String, groups: [String], servicePrincipal: Bool, expires: String?, description: String?
    ) async throws -> (key: String, stored: StoredKey) {
        let owner = owner.trimmingCharacters(in: .whitespaces)
        guard !owner.isEmpty, owner.count <= 256 else { throw KeyAdminError("owner must be 1 to 256 characters") }
        let groups = groups.map { $0.trimmingCharacters(in: .whitespaces) }
        guard groups.allSatisfy({ !$0.isEmpty && $0.count <= 256 }), Set(groups).count == groups.count else {
            throw KeyAdminError("groups must be distinct, non-empty names")
        }
        var expiresAt: Date?
        if let expires {
            guard let seconds = APIKeys.duration(expires) else {
                throw KeyAdminError("expires must be a duration such as 30d, 12h, 90m or 3600s (at most 100 years)")
            }
            expiresAt = Date().addingTimeInterval(seconds)
        }
        let issued = APIKeys.issue(owner: owner, groups: groups, servicePrincipal: servicePrincipal, description: description, expiresAt: expiresAt)
        try await store.insert(issued.stored)
        ring?.add(issued.stored)
        return issued
    }

    public func list() async throws -> [StoredKey] { try await store.all() }

    /// Revokes a key; false when there is none with that id.
    public func revoke(_ keyID: String) async throws -> Bool {
        let now = Date()
        guard try await store.revoke(keyID, at: now) else { return false }
        ring?.revoke(keyID, at: now)
        return true
    }

    /// A key without its secret, as the API and `keys list --format json` show it.
    public static func json(_ key: StoredKey, now: Date = Date()) -> JSONValue {
        let time: (Date?) -> JSONValue = { $0.map { .string(UTCTimestamp.iso8601($0)) } ?? .null }
        return [
            "key_id": .string(key.keyID), "prefix": .string(key.prefix), "owner": .string(key.owner),
            "groups": .array(key.groups.map(JSONValue.string)), "service_principal": .bool(key.servicePrincipal),
            "description": key.description.map(JSONValue.string) ?? .null, "created_at": time(key.createdAt),
            "expires_at": time(key.expiresAt), "last_used_at": time(key.lastUsedAt), "revoked_at": time(key.revokedAt),
            "state": .string(key.revokedAt != nil ? "REVOKED" : (key.isUsable(at: now) ? "ACTIVE" : "EXPIRED")),
        ]
    }
}

/// A refused key request (bad owner, groups or expiry).
public struct KeyAdminError: Error, CustomStringConvertible {
    public var description: String
    init(_ message: String) { description = message }
}

/// `/api/2.0/tollgate/keys`: the admin API for keys (admin token required).
struct KeyRoutes: Sendable {
    let admin: KeyAdmin
    let adminToken: String?

    static let base = "/api/2.0/tollgate/keys"

    func register(on router: Router<GatewayRequestContext>) {
        let group = router.group(RouterPath(Self.base)).add(middleware: AdminTokenMiddleware(token: adminToken))
        group.post { request, _ in
            let body = try await AdminRoutes.decode(CreateKeyRequest.self, from: request)
            let issued: (key: String, stored: StoredKey)
            do {
                issued = try await admin.create(
                    owner: body.owner, groups: body.groups ?? [], servicePrincipal: body.servicePrincipal ?? false, expires: body.expires,
                    description: body.description
                )
            } catch let error as KeyAdminError {
                throw GatewayError(code: .invalidParameterValue, status: 400, message: error.description)
            }
            guard case .object(var object) = KeyAdmin.json(issued.stored) else { return AdminRoutes.answer(.null) }
            object["key"] = .string(issued.key)
            return AdminRoutes.answer(.object(object))
        }
        group.get { _, _ in
            AdminRoutes.answer(["keys": .array(try await admin.list().map { KeyAdmin.json($0) })])
        }
        group.delete("{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard try await admin.revoke(id) else {
                throw GatewayError(code: .resourceDoesNotExist, status: 404, message: "No key with id `\(id)`.")
            }
            return AdminRoutes.answer(["key_id": .string(id), "state": "REVOKED"])
        }
    }
}

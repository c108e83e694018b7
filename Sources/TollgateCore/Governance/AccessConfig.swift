/// `server.auth` — whether inference routes need a key.
public enum AuthMode: String, Sendable, Codable, Equatable {
    /// Anyone who reaches the port may query (the loopback quick start).
    case none
    /// Inference routes need a Tollgate key (`Authorization: Bearer tg-…` or `api-key: tg-…`).
    case keys
}

/// Databricks' serving-endpoint permission levels, weakest first: each includes the ones below it.
public enum PermissionLevel: String, Sendable, Codable, Equatable, Comparable, CaseIterable {
    /// See the endpoint (`/v1/models`, the console's read pages).
    case canView = "CAN_VIEW"
    /// Query it.
    case canQuery = "CAN_QUERY"
    /// Change it (deploy, roll back, retire).
    case canManage = "CAN_MANAGE"

    private var rank: Int {
        switch self {
        case .canView: 0
        case .canQuery: 1
        case .canManage: 2
        }
    }

    public static func < (lhs: PermissionLevel, rhs: PermissionLevel) -> Bool { lhs.rank < rhs.rank }
}

/// Who a permission entry is for.
public enum PermissionSubject: Sendable, Equatable, Hashable {
    case user(String)
    case group(String)
    case servicePrincipal(String)
}

/// `endpoints[].permissions[]` — `{user|group|service_principal: NAME, level: CAN_QUERY}`.
public struct EndpointPermission: Sendable, Equatable, Codable {
    public var subject: PermissionSubject
    public var level: PermissionLevel

    public init(subject: PermissionSubject, level: PermissionLevel) {
        self.subject = subject
        self.level = level
    }

    enum CodingKeys: String, CodingKey {
        case user, group, level
        case servicePrincipal = "service_principal"
    }

    /// Exactly one of `user`, `group` and `service_principal` names the subject.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let user = try c.decodeIfPresent(String.self, forKey: .user)
        let group = try c.decodeIfPresent(String.self, forKey: .group)
        let principal = try c.decodeIfPresent(String.self, forKey: .servicePrincipal)
        let named: [PermissionSubject] = [user.map(PermissionSubject.user), group.map(PermissionSubject.group), principal.map(PermissionSubject.servicePrincipal)]
            .compactMap { $0 }
        guard named.count == 1, let subject = named.first else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: c.codingPath, debugDescription: "name exactly one of user, group or service_principal"
            ))
        }
        self.subject = subject
        level = try c.decode(PermissionLevel.self, forKey: .level)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch subject {
        case .user(let name): try c.encode(name, forKey: .user)
        case .group(let name): try c.encode(name, forKey: .group)
        case .servicePrincipal(let name): try c.encode(name, forKey: .servicePrincipal)
        }
        try c.encode(level, forKey: .level)
    }

    /// Whether this entry is about `requester`: its user or service-principal name, or one of its groups.
    public func applies(to requester: Requester) -> Bool {
        switch subject {
        case .user(let name): !requester.isServicePrincipal && name == requester.name
        case .servicePrincipal(let name): requester.isServicePrincipal && name == requester.name
        case .group(let name): requester.groups.contains(name)
        }
    }
}

/// The permission a requester holds on an endpoint.
public enum EndpointAccess {
    /// The strongest level any entry grants `requester`; an endpoint without entries grants
    /// `defaultLevel` to every key (`server.default_permission`).
    public static func level(
        of requester: Requester, in permissions: [EndpointPermission], defaultLevel: PermissionLevel?
    ) -> PermissionLevel? {
        if permissions.isEmpty { return defaultLevel }
        return permissions.filter { $0.applies(to: requester) }.map(\.level).max()
    }
}

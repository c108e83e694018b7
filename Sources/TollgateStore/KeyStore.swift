import Foundation
import TollgateCore

/// A key as stored: its hash, never the key itself.
public struct StoredKey: Sendable, Equatable {
    public var keyID: String
    /// The key's first characters, shown so its owner can tell keys apart.
    public var prefix: String
    /// Hex SHA-256 of the whole key.
    public var hash: String
    public var owner: String
    public var groups: [String]
    public var servicePrincipal: Bool
    public var description: String?
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(
        keyID: String, prefix: String, hash: String, owner: String, groups: [String], servicePrincipal: Bool, description: String?,
        createdAt: Date, expiresAt: Date?, lastUsedAt: Date? = nil, revokedAt: Date? = nil
    ) {
        self.keyID = keyID
        self.prefix = prefix
        self.hash = hash
        self.owner = owner
        self.groups = groups
        self.servicePrincipal = servicePrincipal
        self.description = description
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// Whether the key may be used at `now`: not revoked, not expired.
    public func isUsable(at now: Date) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }
}

/// Where keys live (`api_keys`): every backend stores the same rows, so a key created through
/// one replica is read by the others at their next reload.
public protocol KeyStorage: Sendable {
    /// Stores a new key; throws when its id or hash is already stored.
    func insert(_ key: StoredKey) async throws(StoreError)
    /// Every key, newest first (revoked ones included).
    func all() async throws(StoreError) -> [StoredKey]
    /// Marks a key revoked; false when there is no such key (revoking twice is fine and keeps
    /// the first time).
    func revoke(_ keyID: String, at time: Date) async throws(StoreError) -> Bool
    /// Notes when keys were last used (batched by the caller, never per request); an earlier
    /// time than the stored one leaves it.
    func touch(_ lastUsed: [String: Date]) async throws(StoreError)
}

/// `api_keys` on any backend. Creating and revoking bump the `keys` change counter, so every
/// replica's key ring reloads.
public struct SQLKeyStore: KeyStorage {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    public func insert(_ key: StoredKey) async throws(StoreError) {
        do {
            try await database.write([
                SQLStatement(
                    """
                    INSERT INTO api_keys (key_id, prefix, key_hash, owner, groups, service_principal, description, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(key.keyID), .text(key.prefix), .text(key.hash), .text(key.owner),
                        .text(JSONValue.array(key.groups.map(JSONValue.string)).jsonText), .int(key.servicePrincipal ? 1 : 0),
                        StoreValue(key.description), .text(UTCTimestamp.iso8601(key.createdAt)), StoreValue(key.expiresAt.map(UTCTimestamp.iso8601)),
                    ]
                ),
                StoreChanges.bump(.keys),
            ])
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot store key \(key.keyID)", underlying: error)
        }
    }

    public func all() async throws(StoreError) -> [StoredKey] {
        do {
            return try await database.read("SELECT * FROM api_keys ORDER BY created_at DESC, key_id", []).map(Self.key)
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read keys", underlying: error)
        }
    }

    public func revoke(_ keyID: String, at time: Date) async throws(StoreError) -> Bool {
        do {
            let results = try await database.write([
                SQLStatement(
                    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ? RETURNING key_id",
                    [.text(UTCTimestamp.iso8601(time)), .text(keyID)]
                ),
                StoreChanges.bump(.keys),
            ])
            return !(results.first ?? []).isEmpty
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot revoke key \(keyID)", underlying: error)
        }
    }

    /// Last-used times are not a change other replicas must reload for: no counter moves.
    public func touch(_ lastUsed: [String: Date]) async throws(StoreError) {
        guard !lastUsed.isEmpty else { return }
        let statements = lastUsed.sorted { $0.key < $1.key }.map { keyID, time in
            let stamp = StoreValue.text(UTCTimestamp.iso8601(time))
            return SQLStatement(
                "UPDATE api_keys SET last_used_at = ? WHERE key_id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                [stamp, .text(keyID), stamp]
            )
        }
        do {
            try await database.write(statements)
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot note key use", underlying: error)
        }
    }

    private static func key(_ row: SQLRow) throws(StoreError) -> StoredKey {
        let groups = (try? JSONValue.parse(row.text("groups") ?? "[]").arrayValue?.compactMap(\.stringValue)) ?? []
        // NULL is no time; a value that is not a readable time counts as long past, so an
        // unreadable `revoked_at` still revokes and an unreadable `expires_at` still expires.
        let date: (String) -> Date? = { column in
            let value = row[column]
            if value.isNull { return nil }
            return value.text.flatMap(UTCTimestamp.parse) ?? .distantPast
        }
        return StoredKey(
            keyID: try row.requiredText("key_id"), prefix: row.text("prefix") ?? "", hash: try row.requiredText("key_hash"),
            owner: try row.requiredText("owner"), groups: groups, servicePrincipal: (row.int("service_principal") ?? 0) != 0,
            description: row.text("description"), createdAt: date("created_at") ?? Date(timeIntervalSince1970: 0),
            expiresAt: date("expires_at"), lastUsedAt: date("last_used_at"), revokedAt: date("revoked_at")
        )
    }
}

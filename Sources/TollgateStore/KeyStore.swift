import Foundation
import GRDB
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

/// `api_keys` in the SQLite store, always off the caller's thread.
public struct SQLiteKeyStore: KeyStorage {
    let pool: DatabasePool

    public init(store: SQLiteStore) { pool = store.pool }

    public func insert(_ key: StoredKey) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO api_keys (key_id, prefix, key_hash, owner, groups, service_principal, description, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        key.keyID, key.prefix, key.hash, key.owner, JSONValue.array(key.groups.map(JSONValue.string)).jsonText,
                        key.servicePrincipal ? 1 : 0, key.description, UTCTimestamp.iso8601(key.createdAt),
                        key.expiresAt.map(UTCTimestamp.iso8601),
                    ]
                )
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot store key \(key.keyID)", underlying: error)
        }
    }

    public func all() async throws(StoreError) -> [StoredKey] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at DESC, key_id").map(Self.key)
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read keys", underlying: error)
        }
    }

    public func revoke(_ keyID: String, at time: Date) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                guard try Int.fetchOne(db, sql: "SELECT 1 FROM api_keys WHERE key_id = ?", arguments: [keyID]) != nil else { return false }
                try db.execute(
                    sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE key_id = ?",
                    arguments: [UTCTimestamp.iso8601(time), keyID]
                )
                return true
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot revoke key \(keyID)", underlying: error)
        }
    }

    public func touch(_ lastUsed: [String: Date]) async throws(StoreError) {
        guard !lastUsed.isEmpty else { return }
        do {
            try await pool.write { db in
                for (keyID, time) in lastUsed {
                    try db.execute(
                        sql: "UPDATE api_keys SET last_used_at = MAX(COALESCE(last_used_at, ''), ?) WHERE key_id = ?",
                        arguments: [UTCTimestamp.iso8601(time), keyID]
                    )
                }
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot note key use", underlying: error)
        }
    }

    private static func key(_ row: Row) throws -> StoredKey {
        let groups = (try? JSONValue.parse(row["groups"] as String).arrayValue?.compactMap(\.stringValue)) ?? []
        // NULL is no time; a value that is not a readable time counts as long past, so an
        // unreadable `revoked_at` still revokes and an unreadable `expires_at` still expires.
        let date: (String) -> Date? = { column in
            let value: DatabaseValue = row[column]
            if value.isNull { return nil }
            return String.fromDatabaseValue(value).flatMap(UTCTimestamp.parse) ?? .distantPast
        }
        return StoredKey(
            keyID: row["key_id"], prefix: row["prefix"], hash: row["key_hash"], owner: row["owner"], groups: groups,
            servicePrincipal: (row["service_principal"] as Int) != 0, description: row["description"],
            createdAt: date("created_at") ?? Date(timeIntervalSince1970: 0), expiresAt: date("expires_at"),
            lastUsedAt: date("last_used_at"), revokedAt: date("revoked_at")
        )
    }
}

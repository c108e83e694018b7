import Foundation
import Logging
import PostgresNIO
import TollgateCore
import TollgateStore

/// `api_keys` in the PostgreSQL store: the rows the SQLite store keeps, shared by every replica.
public struct PostgresKeyStore: KeyStorage {
    let store: PostgresStore

    public init(store: PostgresStore) { self.store = store }

    private var client: PostgresClient { store.client }
    private var logger: Logger { store.logger }

    public func insert(_ key: StoredKey) async throws(StoreError) {
        let groups = JSONValue.array(key.groups.map(JSONValue.string)).jsonText
        let service: Int64 = key.servicePrincipal ? 1 : 0
        let created = UTCTimestamp.iso8601(key.createdAt)
        let expires = key.expiresAt.map(UTCTimestamp.iso8601)
        do {
            try await client.query("""
                INSERT INTO api_keys (key_id, prefix, key_hash, owner, groups, service_principal, description, created_at, expires_at)
                VALUES (\(key.keyID), \(key.prefix), \(key.hash), \(key.owner), \(groups), \(service), \(key.description), \(created), \(expires))
                """, logger: logger)
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot store key \(key.keyID)", underlying: error)
        }
    }

    public func all() async throws(StoreError) -> [StoredKey] {
        do {
            let rows = try await client.query("""
                SELECT key_id, prefix, key_hash, owner, groups, service_principal, description, created_at, expires_at, last_used_at,
                  revoked_at
                FROM api_keys ORDER BY created_at DESC, key_id
                """, logger: logger)
            var keys: [StoredKey] = []
            for try await row in rows.decode(
                (String, String, String, String, String, Int64, String?, String, String?, String?, String?).self
            ) {
                keys.append(Self.key(row))
            }
            return keys
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read keys", underlying: error)
        }
    }

    public func revoke(_ keyID: String, at time: Date) async throws(StoreError) -> Bool {
        let stamp = UTCTimestamp.iso8601(time)
        do {
            let rows = try await client.query(
                "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, \(stamp)) WHERE key_id = \(keyID) RETURNING key_id",
                logger: logger
            )
            for try await _ in rows { return true }
            return false
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot revoke key \(keyID)", underlying: error)
        }
    }

    public func touch(_ lastUsed: [String: Date]) async throws(StoreError) {
        guard !lastUsed.isEmpty else { return }
        do {
            try await client.withTransaction(logger: logger) { connection in
                for (keyID, time) in lastUsed {
                    let stamp = UTCTimestamp.iso8601(time)
                    try await connection.query(
                        "UPDATE api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, ''), \(stamp)) WHERE key_id = \(keyID)",
                        logger: logger
                    )
                }
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot note key use", underlying: error)
        }
    }

    /// A row as a key; unreadable times count as long past, as on SQLite (an unreadable
    /// `revoked_at` still revokes, an unreadable `expires_at` still expires).
    private static func key(
        _ row: (String, String, String, String, String, Int64, String?, String, String?, String?, String?)
    ) -> StoredKey {
        let date: (String?) -> Date? = { text in text.map { UTCTimestamp.parse($0) ?? .distantPast } }
        let groups = (try? JSONValue.parse(row.4).arrayValue?.compactMap(\.stringValue)) ?? []
        return StoredKey(
            keyID: row.0, prefix: row.1, hash: row.2, owner: row.3, groups: groups, servicePrincipal: row.5 != 0, description: row.6,
            createdAt: date(row.7) ?? Date(timeIntervalSince1970: 0), expiresAt: date(row.8), lastUsedAt: date(row.9),
            revokedAt: date(row.10)
        )
    }
}

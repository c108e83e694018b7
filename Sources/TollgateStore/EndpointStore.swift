import Foundation
import GRDB
import TollgateCore

/// A stored serving endpoint: its current definition and update state.
public struct StoredEndpoint: Sendable, Equatable {
    public var definition: EndpointConfig
    public var configVersion: Int
    /// The definition last applied from the configuration file, if the file defines it.
    public var fileDefinition: EndpointConfig?
    public var configUpdate: String
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        definition: EndpointConfig, configVersion: Int, fileDefinition: EndpointConfig?, configUpdate: String, createdAt: Date, updatedAt: Date
    ) {
        self.definition = definition
        self.configVersion = configVersion
        self.fileDefinition = fileDefinition
        self.configUpdate = configUpdate
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One served-entity version of an endpoint, live or retired.
public struct EntityVersion: Sendable, Equatable {
    public var endpointName: String
    public var entityName: String
    public var servedEntityID: String
    public var definition: ServedEntityConfig
    /// `READY` or `RETIRED`.
    public var state: String
    public var createdAt: Date
    /// Since when it has had 0% of the traffic (nil while it serves traffic).
    public var zeroTrafficSince: Date?
    public var retiredAt: Date?
    public var retiredReason: String?
}

/// Requests served and token cost of one entity version, from `endpoint_usage`.
public struct EntityUsage: Sendable, Equatable {
    public var requests: Int
    public var tokenCostUSD: Double
    public var lastRequestAt: String?
}

/// Reads and writes `serving_endpoints`, `endpoint_config_history` and `served_entity_versions`.
public struct EndpointStore: Sendable {
    let pool: DatabasePool
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public init(store: SQLiteStore) { pool = store.pool }

    public func endpoints() throws -> [StoredEndpoint] {
        try pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM serving_endpoints ORDER BY created_at, name").map(Self.endpoint) }
    }

    /// Saves an endpoint's new definition, its history entry and its entity versions in one
    /// transaction. Entities no longer in the definition are marked retired with `reason`.
    public func save(_ endpoint: StoredEndpoint, reason: String, retiredReasons: [String: String] = [:], now: Date = Date()) throws {
        let definition = try Self.json(endpoint.definition)
        let stamp = UTCTimestamp.iso8601(now)
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO serving_endpoints (name, config_version, definition, file_definition, config_update, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET config_version = excluded.config_version, definition = excluded.definition,
                      file_definition = excluded.file_definition, config_update = excluded.config_update, updated_at = excluded.updated_at
                    """,
                arguments: [
                    endpoint.definition.name, endpoint.configVersion, definition, try endpoint.fileDefinition.map(Self.json),
                    endpoint.configUpdate, UTCTimestamp.iso8601(endpoint.createdAt), stamp,
                ]
            )
            try db.execute(
                sql: "INSERT OR REPLACE INTO endpoint_config_history (endpoint_name, config_version, definition, reason, applied_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [endpoint.definition.name, endpoint.configVersion, definition, reason, stamp]
            )
            try Self.syncVersions(of: endpoint.definition, reason: reason, retiredReasons: retiredReasons, stamp: stamp, db: db)
        }
    }

    /// Only the update state (`NOT_UPDATING`, `IN_PROGRESS`, `UPDATE_FAILED`).
    public func setConfigUpdate(_ name: String, _ state: String) throws {
        try pool.write { db in
            try db.execute(sql: "UPDATE serving_endpoints SET config_update = ? WHERE name = ?", arguments: [state, name])
        }
    }

    public func delete(_ name: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(sql: "DELETE FROM serving_endpoints WHERE name = ?", arguments: [name])
            try db.execute(
                sql: "UPDATE served_entity_versions SET state = 'RETIRED', retired_at = ?, retired_reason = 'endpoint deleted' WHERE endpoint_name = ? AND state <> 'RETIRED'",
                arguments: [UTCTimestamp.iso8601(now), name]
            )
        }
    }

    /// The latest history entry before `configVersion` whose traffic differs from the current one.
    public func previousDefinition(_ name: String, before configVersion: Int, current: EndpointConfig) throws -> (Int, EndpointConfig)? {
        let rows = try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT config_version, definition FROM endpoint_config_history WHERE endpoint_name = ? AND config_version < ? ORDER BY config_version DESC",
                arguments: [name, configVersion]
            )
        }
        for row in rows {
            let definition = try Self.decode(row["definition"] as String)
            if definition.config != current.config { return (row["config_version"], definition) }
        }
        return nil
    }

    public func versions(_ name: String) throws -> [EntityVersion] {
        try pool.read { db in try Self.versions(name, db) }
    }

    /// The same, read off the caller's thread (for route handlers).
    public func versions(_ name: String) async throws -> [EntityVersion] {
        try await pool.read { db in try Self.versions(name, db) }
    }

    static func versions(_ name: String, _ db: Database) throws -> [EntityVersion] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM served_entity_versions WHERE endpoint_name = ? ORDER BY created_at, entity_name", arguments: [name]
        ).map(Self.version)
    }

    /// Requests and token cost per served entity of an endpoint. Async: it aggregates the usage
    /// log, which grows with traffic, and must not hold the thread of the caller.
    public func usage(_ name: String) async throws -> [String: EntityUsage] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT served_entity_name, COUNT(*) AS requests, COALESCE(SUM(cost_usd), 0) AS cost, MAX(request_time) AS last
                    FROM endpoint_usage WHERE endpoint_name = ? AND served_entity_name IS NOT NULL GROUP BY served_entity_name
                    """,
                arguments: [name]
            )
            return Dictionary(uniqueKeysWithValues: rows.map { row in
                (row["served_entity_name"] as String, EntityUsage(requests: row["requests"], tokenCostUSD: row["cost"], lastRequestAt: row["last"]))
            })
        }
    }

    // MARK: - Rows

    /// Brings `served_entity_versions` in line with a definition: new entities are added, those
    /// that left are retired, and 0%-traffic clocks start or stop.
    static func syncVersions(of definition: EndpointConfig, reason: String, retiredReasons: [String: String], stamp: String, db: Database) throws {
        let traffic = TrafficShares(definition)
        var live = Set<String>()
        for entity in definition.config.servedEntities {
            live.insert(entity.name)
            let zero = traffic.share(of: entity.name) == 0
            try db.execute(
                sql: """
                    INSERT INTO served_entity_versions (endpoint_name, entity_name, served_entity_id, definition, state, created_at, zero_traffic_since)
                    VALUES (?, ?, ?, ?, 'READY', ?, ?)
                    ON CONFLICT(endpoint_name, entity_name) DO UPDATE SET
                      served_entity_id = excluded.served_entity_id, definition = excluded.definition, state = 'READY',
                      created_at = CASE WHEN served_entity_versions.state = 'RETIRED' THEN excluded.created_at ELSE served_entity_versions.created_at END,
                      zero_traffic_since = CASE WHEN ? THEN COALESCE(served_entity_versions.zero_traffic_since, excluded.created_at) ELSE NULL END,
                      retired_at = NULL, retired_reason = NULL
                    """,
                arguments: [definition.name, entity.name, entity.servedEntityID, try json(entity), stamp, zero ? stamp : nil, zero]
            )
        }
        let stored = try String.fetchAll(
            db, sql: "SELECT entity_name FROM served_entity_versions WHERE endpoint_name = ? AND state <> 'RETIRED'", arguments: [definition.name]
        )
        for name in stored where !live.contains(name) {
            try db.execute(
                sql: "UPDATE served_entity_versions SET state = 'RETIRED', retired_at = ?, retired_reason = ? WHERE endpoint_name = ? AND entity_name = ?",
                arguments: [stamp, retiredReasons[name] ?? reason, definition.name, name]
            )
        }
    }

    static func endpoint(_ row: Row) throws -> StoredEndpoint {
        StoredEndpoint(
            definition: try decode(row["definition"] as String),
            configVersion: row["config_version"],
            fileDefinition: try (row["file_definition"] as String?).map(decode),
            configUpdate: row["config_update"],
            createdAt: UTCTimestamp.parse(row["created_at"]) ?? Date(),
            updatedAt: UTCTimestamp.parse(row["updated_at"]) ?? Date()
        )
    }

    static func version(_ row: Row) throws -> EntityVersion {
        EntityVersion(
            endpointName: row["endpoint_name"], entityName: row["entity_name"], servedEntityID: row["served_entity_id"],
            definition: try JSONDecoder().decode(ServedEntityConfig.self, from: Data((row["definition"] as String).utf8)),
            state: row["state"], createdAt: UTCTimestamp.parse(row["created_at"]) ?? Date(),
            zeroTrafficSince: (row["zero_traffic_since"] as String?).flatMap(UTCTimestamp.parse),
            retiredAt: (row["retired_at"] as String?).flatMap(UTCTimestamp.parse), retiredReason: row["retired_reason"]
        )
    }

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> EndpointConfig {
        try JSONDecoder().decode(EndpointConfig.self, from: Data(text.utf8))
    }
}

/// Each served entity's share of an endpoint's traffic (a lone entity without routes has 100%).
public struct TrafficShares: Sendable {
    private let shares: [String: Int]

    public init(_ endpoint: EndpointConfig) {
        shares = Dictionary(VersionPlans.routes(of: endpoint.config).map { ($0.servedEntityName, $0.trafficPercentage) }, uniquingKeysWith: +)
    }

    public func share(of entity: String) -> Int { shares[entity] ?? 0 }
}

import Foundation
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

/// Reads and writes `serving_endpoints`, `endpoint_config_history` and `served_entity_versions`,
/// on any backend. Every write also bumps the `endpoints` change counter (`StoreChanges`), so
/// other replicas on the same database reload.
public struct EndpointStore: Sendable {
    let database: any SQLDatabase
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public init(database: any SQLDatabase) { self.database = database }

    public func endpoints() async throws(StoreError) -> [StoredEndpoint] {
        let rows = try await database.read("SELECT * FROM serving_endpoints ORDER BY created_at, name", [])
        return try rows.map(Self.endpoint)
    }

    /// Saves an endpoint's new definition, its history entry and its entity versions in one
    /// transaction. Entities no longer in the definition are marked retired with `reason`.
    /// Fails with `StoreError.Code.conflict` when the store already holds this config version or
    /// a later one (another replica updated the endpoint meanwhile).
    public func save(_ endpoint: StoredEndpoint, reason: String, retiredReasons: [String: String] = [:], now: Date = Date()) async throws(StoreError) {
        let definition = try Self.json(endpoint.definition)
        let stamp = UTCTimestamp.iso8601(now)
        let name = endpoint.definition.name
        var statements = [
            SQLStatement(
                """
                INSERT INTO serving_endpoints (name, config_version, definition, file_definition, config_update, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET config_version = excluded.config_version, definition = excluded.definition,
                  file_definition = excluded.file_definition, config_update = excluded.config_update, updated_at = excluded.updated_at
                WHERE serving_endpoints.config_version < excluded.config_version
                RETURNING name
                """,
                [
                    .text(name), StoreValue(endpoint.configVersion), .text(definition), StoreValue(try endpoint.fileDefinition.map(Self.json)),
                    .text(endpoint.configUpdate), .text(UTCTimestamp.iso8601(endpoint.createdAt)), .text(stamp),
                ],
                mustReturnRows: true
            ),
            SQLStatement(
                """
                INSERT INTO endpoint_config_history (endpoint_name, config_version, definition, reason, applied_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (endpoint_name, config_version) DO UPDATE SET definition = excluded.definition, reason = excluded.reason,
                  applied_at = excluded.applied_at
                """,
                [.text(name), StoreValue(endpoint.configVersion), .text(definition), .text(reason), .text(stamp)]
            ),
        ]
        statements += try Self.versionStatements(of: endpoint.definition, reason: reason, retiredReasons: retiredReasons, stamp: stamp)
        statements.append(StoreChanges.bump(.endpoints))
        do {
            try await database.write(statements)
        } catch where error.code == .conflict {
            throw StoreError(code: .conflict, message: "endpoint \(name) changed meanwhile (config_version \(endpoint.configVersion) or later is stored)")
        }
    }

    /// Only the update state (`NOT_UPDATING`, `IN_PROGRESS`, `UPDATE_FAILED`), and only while the
    /// store still holds `configVersion` (when given): a replica that finished applying an older
    /// version must not mark a newer one, saved meanwhile, as applied.
    public func setConfigUpdate(_ name: String, _ state: String, configVersion: Int? = nil) async throws(StoreError) {
        if let configVersion {
            try await database.write(
                "UPDATE serving_endpoints SET config_update = ? WHERE name = ? AND config_version = ?",
                [.text(state), .text(name), StoreValue(configVersion)]
            )
        } else {
            try await database.write("UPDATE serving_endpoints SET config_update = ? WHERE name = ?", [.text(state), .text(name)])
        }
    }

    public func delete(_ name: String, now: Date = Date()) async throws(StoreError) {
        try await database.write([
            SQLStatement("DELETE FROM serving_endpoints WHERE name = ?", [.text(name)]),
            SQLStatement(
                "UPDATE served_entity_versions SET state = 'RETIRED', retired_at = ?, retired_reason = 'endpoint deleted' WHERE endpoint_name = ? AND state <> 'RETIRED'",
                [.text(UTCTimestamp.iso8601(now)), .text(name)]
            ),
            StoreChanges.bump(.endpoints),
        ])
    }

    /// The latest history entry before `configVersion` whose traffic differs from the current one.
    public func previousDefinition(_ name: String, before configVersion: Int, current: EndpointConfig) async throws(StoreError) -> (Int, EndpointConfig)? {
        let rows = try await database.read(
            "SELECT config_version, definition FROM endpoint_config_history WHERE endpoint_name = ? AND config_version < ? ORDER BY config_version DESC",
            [.text(name), StoreValue(configVersion)]
        )
        for row in rows {
            let definition = try Self.decode(try row.requiredText("definition"))
            if definition.config != current.config, let version = row.int("config_version") { return (version, definition) }
        }
        return nil
    }

    public func versions(_ name: String) async throws(StoreError) -> [EntityVersion] {
        let rows = try await database.read(
            "SELECT * FROM served_entity_versions WHERE endpoint_name = ? ORDER BY created_at, entity_name", [.text(name)]
        )
        return try rows.map(Self.version)
    }

    /// Requests and token cost per served entity of an endpoint (it aggregates the usage log).
    public func usage(_ name: String) async throws(StoreError) -> [String: EntityUsage] {
        let rows = try await database.read(
            """
            SELECT served_entity_name, COUNT(*) AS requests, COALESCE(SUM(cost_usd), 0) AS cost, MAX(request_time) AS last
            FROM endpoint_usage WHERE endpoint_name = ? AND served_entity_name IS NOT NULL GROUP BY served_entity_name
            """,
            [.text(name)]
        )
        var usage: [String: EntityUsage] = [:]
        for row in rows {
            usage[try row.requiredText("served_entity_name")] = EntityUsage(
                requests: row.int("requests") ?? 0, tokenCostUSD: row.double("cost") ?? 0, lastRequestAt: row.text("last")
            )
        }
        return usage
    }

    // MARK: - Rows

    /// The statements that bring `served_entity_versions` in line with a definition: new
    /// entities are added, those that left are retired, and 0%-traffic clocks start or stop.
    static func versionStatements(
        of definition: EndpointConfig, reason: String, retiredReasons: [String: String], stamp: String
    ) throws(StoreError) -> [SQLStatement] {
        let traffic = TrafficShares(definition)
        let name = StoreValue.text(definition.name)
        var statements: [SQLStatement] = []
        var live: [String] = []
        for entity in definition.config.servedEntities {
            live.append(entity.name)
            let zero = traffic.share(of: entity.name) == 0
            statements.append(SQLStatement(
                """
                INSERT INTO served_entity_versions (endpoint_name, entity_name, served_entity_id, definition, state, created_at, zero_traffic_since)
                VALUES (?, ?, ?, ?, 'READY', ?, ?)
                ON CONFLICT (endpoint_name, entity_name) DO UPDATE SET
                  served_entity_id = excluded.served_entity_id, definition = excluded.definition, state = 'READY',
                  created_at = CASE WHEN served_entity_versions.state = 'RETIRED' THEN excluded.created_at ELSE served_entity_versions.created_at END,
                  zero_traffic_since = CASE WHEN ? = 1 THEN COALESCE(served_entity_versions.zero_traffic_since, excluded.created_at) ELSE NULL END,
                  retired_at = NULL, retired_reason = NULL
                """,
                [name, .text(entity.name), .text(entity.servedEntityID), .text(try json(entity)), .text(stamp), zero ? .text(stamp) : .null, .int(zero ? 1 : 0)]
            ))
        }
        let retire = "UPDATE served_entity_versions SET state = 'RETIRED', retired_at = ?, retired_reason = ? WHERE endpoint_name = ? AND state <> 'RETIRED'"
        for (entity, why) in retiredReasons.sorted(by: { $0.key < $1.key }) where !live.contains(entity) {
            statements.append(SQLStatement(retire + " AND entity_name = ?", [.text(stamp), .text(why), name, .text(entity)]))
        }
        let others = live.isEmpty ? "" : " AND entity_name NOT IN (" + Array(repeating: "?", count: live.count).joined(separator: ", ") + ")"
        statements.append(SQLStatement(retire + others, [.text(stamp), .text(reason), name] + live.map(StoreValue.text)))
        return statements
    }

    static func endpoint(_ row: SQLRow) throws(StoreError) -> StoredEndpoint {
        StoredEndpoint(
            definition: try decode(try row.requiredText("definition")),
            configVersion: row.int("config_version") ?? 0,
            fileDefinition: try row.text("file_definition").map { text throws(StoreError) in try decode(text) },
            configUpdate: row.text("config_update") ?? "NOT_UPDATING",
            createdAt: row.text("created_at").flatMap(UTCTimestamp.parse) ?? Date(),
            updatedAt: row.text("updated_at").flatMap(UTCTimestamp.parse) ?? Date()
        )
    }

    static func version(_ row: SQLRow) throws(StoreError) -> EntityVersion {
        let definition: ServedEntityConfig
        do {
            definition = try JSONDecoder().decode(ServedEntityConfig.self, from: Data(try row.requiredText("definition").utf8))
        } catch {
            throw StoreError(code: .readFailed, message: "a stored served entity cannot be read", underlying: error)
        }
        return EntityVersion(
            endpointName: try row.requiredText("endpoint_name"), entityName: try row.requiredText("entity_name"),
            servedEntityID: row.text("served_entity_id") ?? "", definition: definition, state: row.text("state") ?? "READY",
            createdAt: row.text("created_at").flatMap(UTCTimestamp.parse) ?? Date(),
            zeroTrafficSince: row.text("zero_traffic_since").flatMap(UTCTimestamp.parse),
            retiredAt: row.text("retired_at").flatMap(UTCTimestamp.parse), retiredReason: row.text("retired_reason")
        )
    }

    static func json(_ value: some Encodable) throws(StoreError) -> String {
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw StoreError(code: .writeFailed, message: "an endpoint definition cannot be encoded", underlying: error)
        }
    }

    static func decode(_ text: String) throws(StoreError) -> EndpointConfig {
        do {
            return try JSONDecoder().decode(EndpointConfig.self, from: Data(text.utf8))
        } catch {
            throw StoreError(code: .readFailed, message: "a stored endpoint definition cannot be read", underlying: error)
        }
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

import Foundation
import GRDB
import TollgateCore

/// What `tollgate cost report` groups by.
public enum CostGrouping: String, Sendable, CaseIterable {
    case endpoint, version, requester, day
}

/// One group of the cost report.
public struct CostRow: Sendable, Equatable {
    public var key: String
    public var requests = 0
    public var inputTokens = 0
    public var outputTokens = 0
    public var tokenCostUSD = 0.0
    public var computeCostUSD = 0.0

    public var totalUSD: Double { tokenCostUSD + computeCostUSD }
}

/// A version that cost compute money while serving no requests in the window.
public struct IdleVersion: Sendable, Equatable {
    public var endpointName: String
    public var entityName: String
    public var state: String
    public var computeCostUSD: Double
}

/// The cost report: token cost (`endpoint_usage.cost_usd`) and compute cost (`compute_usage`).
public struct CostReport: Sendable {
    public var grouping: CostGrouping
    public var since: String?
    public var rows: [CostRow]
    public var idle: [IdleVersion]

    public var total: CostRow {
        rows.reduce(into: CostRow(key: "total")) { sum, row in
            sum.requests += row.requests
            sum.inputTokens += row.inputTokens
            sum.outputTokens += row.outputTokens
            sum.tokenCostUSD += row.tokenCostUSD
            sum.computeCostUSD += row.computeCostUSD
        }
    }
}

/// Cost queries over `endpoint_usage` and `compute_usage`.
public struct CostQueries: Sendable {
    let pool: DatabasePool

    public init(store: SQLiteStore) { pool = store.pool }

    public func report(by grouping: CostGrouping, since: String? = nil) async throws -> CostReport {
        let (usageKey, computeKey): (String, String) = switch grouping {
        case .endpoint: ("endpoint_name", "endpoint_name")
        case .version: ("endpoint_name || '/' || COALESCE(served_entity_name, '(none)')", "endpoint_name || '/' || entity_name")
        case .requester: ("COALESCE(requester, '(anonymous)')", "'(compute, no requester)'")
        case .day: ("substr(request_time, 1, 10)", "substr(sampled_at, 1, 10)")
        }
        return try await pool.read { db in
            var rows: [String: CostRow] = [:]
            let usage = try Row.fetchAll(
                db,
                sql: """
                    SELECT \(usageKey) AS key, COUNT(*) AS requests, COALESCE(SUM(input_token_count), 0) AS input,
                      COALESCE(SUM(output_token_count), 0) AS output, COALESCE(SUM(cost_usd), 0) AS cost
                    FROM endpoint_usage WHERE ? IS NULL OR request_time >= ? GROUP BY 1
                    """,
                arguments: [since, since]
            )
            for row in usage {
                let key: String = row["key"]
                rows[key] = CostRow(key: key, requests: row["requests"], inputTokens: row["input"], outputTokens: row["output"], tokenCostUSD: row["cost"])
            }
            let compute = try Row.fetchAll(
                db,
                sql: "SELECT \(computeKey) AS key, COALESCE(SUM(cost_usd), 0) AS cost FROM compute_usage WHERE ? IS NULL OR sampled_at >= ? GROUP BY 1",
                arguments: [since, since]
            )
            for row in compute {
                let key: String = row["key"]
                rows[key, default: CostRow(key: key)].computeCostUSD += row["cost"]
            }
            let idle = try Row.fetchAll(
                db,
                sql: """
                    SELECT c.endpoint_name, c.entity_name, COALESCE(v.state, 'RETIRED') AS state, SUM(c.cost_usd) AS cost
                    FROM compute_usage c
                    LEFT JOIN served_entity_versions v ON v.endpoint_name = c.endpoint_name AND v.entity_name = c.entity_name
                    WHERE (? IS NULL OR c.sampled_at >= ?)
                      AND NOT EXISTS (SELECT 1 FROM endpoint_usage u WHERE u.endpoint_name = c.endpoint_name
                        AND u.served_entity_name = c.entity_name AND (? IS NULL OR u.request_time >= ?))
                    GROUP BY c.endpoint_name, c.entity_name HAVING SUM(c.cost_usd) > 0 ORDER BY cost DESC
                    """,
                arguments: [since, since, since, since]
            ).map { row in
                IdleVersion(endpointName: row["endpoint_name"], entityName: row["entity_name"], state: row["state"], computeCostUSD: row["cost"])
            }
            return CostReport(grouping: grouping, since: since, rows: rows.values.sorted { ($0.totalUSD, $1.key) > ($1.totalUSD, $0.key) }, idle: idle)
        }
    }

    /// Compute cost per entity of one endpoint.
    public func computeCostByEntity(endpoint: String) async throws -> [String: Double] {
        try await pool.read { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT entity_name, COALESCE(SUM(cost_usd), 0) AS cost FROM compute_usage WHERE endpoint_name = ? GROUP BY entity_name",
                arguments: [endpoint]
            )
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["entity_name"] as String, $0["cost"] as Double) })
        }
    }

    /// Records a compute sample of a local model version.
    public func recordCompute(
        endpoint: String, entity: String, servedEntityID: String, at date: Date, intervalSeconds: Double, cpuSeconds: Double,
        rssBytes: Int, running: Bool, costUSD: Double?
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO compute_usage (endpoint_name, entity_name, served_entity_id, sampled_at, interval_seconds, cpu_seconds, rss_bytes, running, cost_usd)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [endpoint, entity, servedEntityID, UTCTimestamp.iso8601(date), intervalSeconds, cpuSeconds, rssBytes, running ? 1 : 0, costUSD]
            )
        }
    }
}

import Foundation
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

/// Cost queries over `endpoint_usage` and `compute_usage`, on any backend.
public struct CostQueries: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    public func report(by grouping: CostGrouping, since: String? = nil) async throws(StoreError) -> CostReport {
        let (usageKey, computeKey): (String, String) = switch grouping {
        case .endpoint: ("endpoint_name", "endpoint_name")
        case .version: ("endpoint_name || '/' || COALESCE(served_entity_name, '(none)')", "endpoint_name || '/' || entity_name")
        case .requester: ("COALESCE(requester, '(anonymous)')", "'(compute, no requester)'")
        case .day: ("substr(request_time, 1, 10)", "substr(sampled_at, 1, 10)")
        }
        let bound: [StoreValue] = since.map { [.text($0)] } ?? []
        let usageSince = since == nil ? "" : "WHERE request_time >= ?"
        let computeSince = since == nil ? "" : "WHERE sampled_at >= ?"
        var rows: [String: CostRow] = [:]
        let usage = try await database.read(
            """
            SELECT \(usageKey) AS key, COUNT(*) AS requests, COALESCE(SUM(input_token_count), 0) AS input,
              COALESCE(SUM(output_token_count), 0) AS output, COALESCE(SUM(cost_usd), 0) AS cost
            FROM endpoint_usage \(usageSince) GROUP BY 1
            """,
            bound
        )
        for row in usage {
            let key = row.text("key") ?? ""
            rows[key] = CostRow(
                key: key, requests: row.int("requests") ?? 0, inputTokens: row.int("input") ?? 0, outputTokens: row.int("output") ?? 0,
                tokenCostUSD: row.double("cost") ?? 0
            )
        }
        let compute = try await database.read(
            "SELECT \(computeKey) AS key, COALESCE(SUM(cost_usd), 0) AS cost FROM compute_usage \(computeSince) GROUP BY 1", bound
        )
        for row in compute {
            let key = row.text("key") ?? ""
            rows[key, default: CostRow(key: key)].computeCostUSD += row.double("cost") ?? 0
        }
        let idle = try await database.read(
            """
            SELECT c.endpoint_name, c.entity_name, COALESCE(v.state, 'RETIRED') AS state, SUM(c.cost_usd) AS cost
            FROM compute_usage c
            LEFT JOIN served_entity_versions v ON v.endpoint_name = c.endpoint_name AND v.entity_name = c.entity_name
            WHERE \(since == nil ? "" : "c.sampled_at >= ? AND ")NOT EXISTS (SELECT 1 FROM endpoint_usage u WHERE u.endpoint_name = c.endpoint_name
                AND u.served_entity_name = c.entity_name\(since == nil ? "" : " AND u.request_time >= ?"))
            GROUP BY c.endpoint_name, c.entity_name, v.state HAVING SUM(c.cost_usd) > 0 ORDER BY cost DESC
            """,
            bound + bound
        ).map { row in
            IdleVersion(
                endpointName: row.text("endpoint_name") ?? "", entityName: row.text("entity_name") ?? "", state: row.text("state") ?? "RETIRED",
                computeCostUSD: row.double("cost") ?? 0
            )
        }
        return CostReport(grouping: grouping, since: since, rows: rows.values.sorted { ($0.totalUSD, $1.key) > ($1.totalUSD, $0.key) }, idle: idle)
    }

    /// Compute cost per entity of one endpoint (every replica's samples).
    public func computeCostByEntity(endpoint: String) async throws(StoreError) -> [String: Double] {
        let rows = try await database.read(
            "SELECT entity_name, COALESCE(SUM(cost_usd), 0) AS cost FROM compute_usage WHERE endpoint_name = ? GROUP BY entity_name",
            [.text(endpoint)]
        )
        var costs: [String: Double] = [:]
        for row in rows { costs[row.text("entity_name") ?? "", default: 0] += row.double("cost") ?? 0 }
        return costs
    }

    /// Records a compute sample of a local model version, run by `replica`.
    public func recordCompute(
        endpoint: String, entity: String, servedEntityID: String, replica: String, at date: Date, intervalSeconds: Double,
        cpuSeconds: Double, rssBytes: Int, running: Bool, costUSD: Double?
    ) async throws(StoreError) {
        try await database.write(
            """
            INSERT INTO compute_usage (endpoint_name, entity_name, served_entity_id, replica, sampled_at, interval_seconds, cpu_seconds, rss_bytes,
              running, cost_usd)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(endpoint), .text(entity), .text(servedEntityID), .text(replica), .text(UTCTimestamp.iso8601(date)), .real(intervalSeconds),
                .real(cpuSeconds), StoreValue(rssBytes), .int(running ? 1 : 0), StoreValue(costUSD),
            ]
        )
    }
}

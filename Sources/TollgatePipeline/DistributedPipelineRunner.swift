import Foundation
import Logging
import TollgateCore
import TollgateStore

/// Bronze → silver → gold on a store several machines share (PostgreSQL). Each batch is one
/// transaction: claim entries from the head of `pipeline_queue` holding about `batch_size` rows
/// (whole entries, each the rows one statement inserted, skipping entries another run holds), read
/// them, run them through `PipelineBatch` in a scratch SQLite database
/// (the same parser, classifier and expectation SQL as a SQLite run), write silver, gold, filter
/// results, quarantine and the `flow_progress` event, and commit, which deletes the claim. Runs
/// on several machines split the queue between them; a run that fails or dies rolls its batch
/// back and leaves those rows to the next.
public struct DistributedPipelineRunner: Sendable {
    let database: any TransactionalDatabase
    let config: PipelineConfig
    let logger: Logger
    /// How long one batch may hold its claim.
    let batchTimeout: Duration

    /// Binds per statement, under PostgreSQL's limit of 65,535.
    static let maxBinds = 30_000

    public init(database: any TransactionalDatabase, config: PipelineConfig, logger: Logger, batchTimeout: Duration = .seconds(300)) {
        self.database = database
        self.config = config
        self.logger = logger
        self.batchTimeout = batchTimeout
    }

    var expectations: [ExpectationConfig] {
        (config.builtinExpectations ? BuiltinExpectations.all : []) + config.expectations
    }

    /// Processes every queued bronze row (with `fullRefresh`, all of bronze again).
    public func run(fullRefresh: Bool = false) async throws(PipelineError) -> PipelineRunSummary {
        var summary = PipelineRunSummary(updateID: Identifiers.requestID())
        do {
            let scratch = try PipelineScratch(expectations: expectations)
            if fullRefresh { try await database.write(Self.refresh) }
            // An update takes what was queued when it started (rows queued meanwhile wait for the
            // next), and ends early when a claim finds nothing; a short claim may only mean that
            // another run holds the next entries.
            var left = try await database.read("SELECT COALESCE(sum(row_count), 0) AS n FROM pipeline_queue", []).first?.int("n") ?? 0
            var first = true
            while let (claimed, written) = try await batch(scratch, updateID: summary.updateID, evenIfEmpty: first) {
                summary.add(written)
                first = false
                left -= claimed
                if claimed == 0 || left <= 0 { break }
            }
        } catch {
            let failure = error as? PipelineError ?? PipelineError(code: .storeFailed, message: "\(error)")
            await recordFailure(failure, updateID: summary.updateID)
            throw failure
        }
        return summary
    }

    /// One batch in one transaction; nil when the queue was empty (an update that found nothing
    /// still logs its event, as on SQLite).
    func batch(_ scratch: PipelineScratch, updateID: String, evenIfEmpty: Bool) async throws -> (Int, PipelineRunSummary)? {
        let limit = config.batchSize
        return try await database.transaction(timeout: batchTimeout) { transaction in
            let claim = try await QueuedBronzeReader.claim(limit, in: transaction)
            if claim.claimedIDs.isEmpty && !evenIfEmpty { return nil }
            // Parsing and the expectations are CPU work: on a thread of their own.
            let output = try await BlockingWork.run { try scratch.process(claim.rows, lastSeq: claim.lastSeq, updateID: updateID) }
            for statement in Self.writes(output, replacing: claim.rows.map(\.requestID)) {
                try await transaction.run(statement.sql, statement.arguments)
            }
            return (claim.claimedIDs.count, output.summary)
        }
    }

    /// What a batch writes: a request's earlier silver, gold and filter rows go first (a row
    /// processed again replaces them, as `INSERT OR REPLACE` does on SQLite), then the batch's.
    static func writes(_ output: PipelineScratch.Output, replacing requestIDs: [String]) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        if !requestIDs.isEmpty {
            let ids = StoreValue.text(JSONValue.array(requestIDs.map { .string($0) }).jsonText)
            for table in ["silver_events", "gold_requests", "gold_filter_results"] {
                statements.append(SQLStatement("DELETE FROM \(table) WHERE request_id IN (SELECT jsonb_array_elements_text(?::jsonb))", [ids]))
            }
        }
        for (table, columns, rows) in output.tables where !rows.isEmpty {
            let perStatement = max(1, maxBinds / columns.count)
            let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ",") + ")"
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let chunk = rows[start..<min(start + perStatement, rows.count)]
                let sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
                    + Array(repeating: tuple, count: chunk.count).joined(separator: ",") + (conflicts[table] ?? "")
                statements.append(SQLStatement(sql, chunk.flatMap { $0 }))
            }
        }
        return statements
    }

    /// A quarantined row quarantined again replaces the earlier entry, as on SQLite; so does a
    /// request id that two batches hold at once.
    static let conflicts: [String: String] = [
        "silver_events": " ON CONFLICT (request_id) DO UPDATE SET " + updates(PipelineRows.silverColumns),
        "gold_requests": " ON CONFLICT (request_id) DO UPDATE SET " + updates(PipelineRows.goldColumns),
        "gold_filter_results": " ON CONFLICT (request_id, stage, category) DO UPDATE SET " + updates(PipelineRows.filterColumns),
        "quarantine": " ON CONFLICT (request_id, dataset) DO UPDATE SET "
            + updates(["failed_expectations", "row_json", "quarantined_at"]),
    ]

    static func updates(_ columns: [String]) -> String {
        columns.filter { $0 != "request_id" }.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
    }

    /// `--full-refresh`: empties the derived tables and queues every bronze row again.
    static let refresh: [SQLStatement] = [
        SQLStatement("TRUNCATE silver_events, gold_requests, gold_filter_results, quarantine, pipeline_queue"),
        SQLStatement("SELECT tollgate_queue_all_bronze()"),
    ]

    /// A failed update is logged as an event of its own (its batch was rolled back).
    func recordFailure(_ error: PipelineError, updateID: String) async {
        logger.error("pipeline update failed", metadata: ["error": "\(error)"])
        let details: JSONValue = ["error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]
        _ = try? await database.write(
            "INSERT INTO pipeline_events (timestamp, event_type, flow_name, update_id, level, message, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                .text(UTCTimestamp.iso8601(Date())), .text("update_failed"), .text(PipelineRunner.flowName), .text(updateID),
                .text("ERROR"), .text(error.description), .text(details.jsonText),
            ]
        )
    }
}

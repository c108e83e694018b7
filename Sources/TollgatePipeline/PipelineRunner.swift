import Foundation
import GRDB
import Logging
import TollgateCore
import TollgateStore

/// What one `pipeline run` did.
public struct PipelineRunSummary: Sendable {
    public var updateID: String
    public var inputRows = 0
    public var outputRows = 0
    public var droppedRows = 0
    public var quarantinedRows = 0
    public var expectations: [String: ExpectationResult] = [:]

    mutating func add(_ other: PipelineRunSummary) {
        inputRows += other.inputRows
        outputRows += other.outputRows
        droppedRows += other.droppedRows
        quarantinedRows += other.quarantinedRows
        for result in other.expectations.values { add(result) }
    }

    /// Adds one expectation's counts to those of the same name.
    mutating func add(_ result: ExpectationResult) {
        guard var total = expectations[result.name] else { expectations[result.name] = result; return }
        total.passed += result.passed
        total.failed += result.failed
        expectations[result.name] = total
    }
}

/// Bronze → silver → gold, incrementally: each batch of new `inference_table` rows is parsed,
/// checked against the expectations and written — silver, gold, filter results, quarantine, the
/// checkpoint and a `flow_progress` event — in one transaction, so a crash leaves no half batch
/// and a re-run picks up where the last committed batch ended.
public struct PipelineRunner: Sendable {
    public static let flowName = "gold_requests"
    /// Page cache of the writer connection while a run writes (SQLite's default is 2,000 KiB).
    static let cacheKiB = 65_536
    /// Parsed batches that may wait for the writer.
    static let writesInFlight = 2
    /// Bronze rows read and parsed by one task.
    static let rowsPerTask = 64

    let store: SQLiteStore
    let config: PipelineConfig
    let logger: Logger

    public init(store: SQLiteStore, config: PipelineConfig, logger: Logger) {
        self.store = store
        self.config = config
        self.logger = logger
    }

    var expectations: [ExpectationConfig] {
        (config.builtinExpectations ? BuiltinExpectations.all : []) + config.expectations
    }

    /// Processes every bronze row not processed yet (all of them with `fullRefresh`).
    public func run(fullRefresh: Bool = false) throws(PipelineError) -> PipelineRunSummary {
        var summary = PipelineRunSummary(updateID: Identifiers.requestID())
        do {
            try validateExpectations()
            if fullRefresh { try store.pool.write { db in try Self.reset(db) } }
            // Batches are written in order on background threads while the next ones are read
            // and parsed; up to `writesInFlight` wait their turn, so neither side idles when the
            // other has a slow batch. Reading and parsing stay outside the write transaction:
            // the record writer of a running gateway shares the store.
            var cursor = try store.pool.read { db in try Self.checkpoint(db) }
            var writes: [BackgroundJob<PipelineRunSummary?>] = []
            try store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -\(Self.cacheKiB)") }
            defer {
                for job in writes { _ = try? job.wait() }  // never leave a write running behind an error
                try? store.pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA cache_size = -2000") }
            }
            let workers = WorkerThreads()
            defer { workers.stop() }
            var wroteEvent = false
            batches: while true {
                let rowIDs = try store.pool.read { [cursor] db in try BronzeReader.rowIDs(after: cursor, limit: config.batchSize, db: db) }
                if rowIDs.isEmpty && wroteEvent { break }
                let prepared = try read(BronzeReader.ranges(of: rowIDs, after: cursor, size: Self.rowsPerTask), on: workers)
                if writes.count >= Self.writesInFlight {
                    guard let written = try writes.removeFirst().wait() else { break batches }  // another run took that batch
                    summary.add(written)
                }
                let batch = PipelineBatch(rows: prepared, lastRowID: rowIDs.last, expectations: expectations, updateID: summary.updateID)
                let previous = writes.last
                writes.append(BackgroundJob { [store, cursor] in
                    if let previous, try previous.wait() == nil { return nil }
                    return try store.pool.write { db -> PipelineRunSummary? in
                        guard try Self.checkpoint(db) == cursor else { return nil }
                        return try batch.write(into: db)
                    }
                })
                cursor = rowIDs.last ?? cursor
                wroteEvent = true
                if rowIDs.count < config.batchSize { break }
            }
            for job in writes {
                guard let written = try job.wait() else { break }
                summary.add(written)
            }
            writes = []
        } catch let error as PipelineError {
            recordFailure(error, updateID: summary.updateID)
            throw error
        } catch {
            let failure = PipelineError(code: .storeFailed, message: "\(error)")
            recordFailure(failure, updateID: summary.updateID)
            throw failure
        }
        return summary
    }

    /// Reads and parses bronze rows, one range per task across cores: each task reads its rows
    /// in a read transaction of its own (bronze rows are only ever appended, so every snapshot
    /// agrees on them), and a row is freed by the thread that parsed it.
    func read(_ ranges: [(after: Int64, through: Int64)], on workers: WorkerThreads) throws -> [PreparedRow] {
        let parts = workers.map(count: ranges.count) { [store] index in
            Result { try store.pool.read { db in try BronzeReader.batch(after: ranges[index].after, through: ranges[index].through, db: db) }.map(PreparedRow.init) }
        }
        var rows: [PreparedRow] = []
        rows.reserveCapacity(ranges.count * Self.rowsPerTask)
        for part in parts { rows += try part.get() }
        return rows
    }

    /// Every constraint must compile against its dataset before anything runs.
    func validateExpectations() throws {
        try store.pool.read { [expectations] db in try PipelineScratch.validate(expectations, db: db) }
    }

    static func checkpoint(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT last_rowid FROM pipeline_checkpoints WHERE flow_name = ?", arguments: [flowName]) ?? 0
    }

    static func reset(_ db: Database) throws {
        for table in ["silver_events", "gold_requests", "gold_filter_results", "quarantine"] {
            try db.execute(sql: "DELETE FROM \(table)")
        }
        try db.execute(sql: "DELETE FROM pipeline_checkpoints WHERE flow_name = ?", arguments: [flowName])
    }

    /// A failed update is logged as an event of its own (its batch was rolled back).
    func recordFailure(_ error: PipelineError, updateID: String) {
        logger.error("pipeline update failed", metadata: ["error": "\(error)"])
        try? store.pool.write { db in
            try PipelineEvents.insert(
                db, type: "update_failed", updateID: updateID, level: "ERROR", message: error.description,
                details: ["error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]
            )
        }
    }
}

/// `pipeline_events` rows.
enum PipelineEvents {
    static func insert(_ db: Database, type: String, updateID: String, level: String, message: String, details: JSONValue) throws {
        try db.execute(
            sql: "INSERT INTO pipeline_events (timestamp, event_type, flow_name, update_id, level, message, details) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [UTCTimestamp.iso8601(Date()), type, PipelineRunner.flowName, updateID, level, message, details.jsonText]
        )
    }
}

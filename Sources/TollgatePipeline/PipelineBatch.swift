import Foundation
import GRDB
import TollgateCore

/// One batch of bronze rows through silver and gold, inside the caller's transaction.
struct PipelineBatch {
    let rows: [BronzeRow]
    let silver: [SilverEvent]
    let gold: [GoldRequest]
    let expectations: [ExpectationConfig]
    let updateID: String

    func write(into db: Database, summary: inout PipelineRunSummary) throws {
        try stage(silver: silver, gold: gold, db: db)
        let filters = Dictionary(gold.map { ($0.event.requestID, $0.event.filters) }, uniquingKeysWith: { first, _ in first })
        defer { try? db.execute(sql: "DROP TABLE IF EXISTS temp._silver_batch; DROP TABLE IF EXISTS temp._gold_batch") }

        var results: [ExpectationResult] = []
        var quarantined: [String: [String: [String]]] = [:]
        var dropped: [String: Set<String>] = [:]
        for expectation in expectations {
            let table = expectation.dataset == .silverEvents ? "_silver_batch" : "_gold_batch"
            let failing = try String.fetchAll(db, sql: "SELECT request_id FROM temp.\(table) WHERE NOT (\(expectation.constraint))")
            let total = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp.\(table)") ?? 0
            results.append(ExpectationResult(
                name: expectation.name, dataset: expectation.dataset.rawValue, action: expectation.onViolation.rawValue,
                passed: total - failing.count, failed: failing.count
            ))
            guard !failing.isEmpty else { continue }
            switch expectation.onViolation {
            case .warn:
                break
            case .fail:
                throw PipelineError(
                    code: .expectationFailed,
                    message: "expectation \(expectation.name) failed on \(failing.count) row(s) of \(expectation.dataset.rawValue), e.g. \(failing[0]); nothing of the batch was written"
                )
            case .drop:
                dropped[expectation.dataset.rawValue, default: []].formUnion(failing)
            case .quarantine:
                for id in failing { quarantined[expectation.dataset.rawValue, default: [:]][id, default: []].append(expectation.name) }
            }
        }
        try quarantine(quarantined, db: db)
        // A row left out of silver is left out of gold too; gold's own rules act on gold only.
        let silverOut = dropped["silver_events", default: []].union(quarantined["silver_events"]?.keys.map { $0 } ?? [])
        let goldOut = silverOut.union(dropped["gold_requests", default: []]).union(quarantined["gold_requests"]?.keys.map { $0 } ?? [])
        try remove(silverOut, from: "_silver_batch", db: db)
        try remove(goldOut, from: "_gold_batch", db: db)
        try publish(filters: filters, db: db)

        let output = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM temp._gold_batch") ?? 0
        if let last = rows.last?.rowID {
            try db.execute(
                sql: "INSERT OR REPLACE INTO pipeline_checkpoints (flow_name, last_rowid, updated_at) VALUES (?, ?, ?)",
                arguments: [PipelineRunner.flowName, last, UTCTimestamp.iso8601(Date())]
            )
        }
        let droppedCount = dropped.values.reduce(Set<String>()) { $0.union($1) }.count
        let quarantinedCount = quarantined.values.reduce(Set<String>()) { $0.union($1.keys) }.count
        let details: JSONValue = [
            "flow_progress": ["status": "COMPLETED"],
            "data_quality": ["expectations": .array(results.map(\.json)), "dropped_records": .int(droppedCount), "quarantined_records": .int(quarantinedCount)],
            "metrics": ["num_input_rows": .int(rows.count), "num_output_rows": .int(output), "last_source_rowid": .optionalInt(rows.last.map { Int($0.rowID) })],
        ]
        try PipelineEvents.insert(
            db, type: "flow_progress", updateID: updateID, level: "INFO",
            message: "Flow '\(PipelineRunner.flowName)' processed \(rows.count) row(s), wrote \(output).", details: details
        )
        summary.inputRows += rows.count
        summary.outputRows += output
        summary.droppedRows += droppedCount
        summary.quarantinedRows += quarantinedCount
        for result in results {
            var total = summary.expectations[result.name] ?? ExpectationResult(name: result.name, dataset: result.dataset, action: result.action, passed: 0, failed: 0)
            total.passed += result.passed
            total.failed += result.failed
            summary.expectations[result.name] = total
        }
    }

    /// Writes the batch into temporary tables shaped like the targets.
    private func stage(silver: [SilverEvent], gold: [GoldRequest], db: Database) throws {
        try db.execute(sql: """
            DROP TABLE IF EXISTS temp._silver_batch; DROP TABLE IF EXISTS temp._gold_batch;
            CREATE TEMP TABLE _silver_batch AS SELECT * FROM main.silver_events WHERE 0;
            CREATE TEMP TABLE _gold_batch AS SELECT * FROM main.gold_requests WHERE 0;
            """)
        try PipelineRows.insertMany(silver.map(PipelineRows.silverValues), into: "temp._silver_batch", columns: PipelineRows.silverColumns, db: db)
        try PipelineRows.insertMany(gold.map(PipelineRows.goldValues), into: "temp._gold_batch", columns: PipelineRows.goldColumns, db: db)
    }

    private func remove(_ ids: Set<String>, from table: String, db: Database) throws {
        guard !ids.isEmpty else { return }
        let statement = try db.makeStatement(sql: "DELETE FROM temp.\(table) WHERE request_id = ?")
        for id in ids { try statement.execute(arguments: [id]) }
    }

    private func quarantine(_ rules: [String: [String: [String]]], db: Database) throws {
        for (dataset, byID) in rules {
            let table = dataset == "silver_events" ? "_silver_batch" : "_gold_batch"
            for (id, names) in byID {
                let row = try Row.fetchOne(db, sql: "SELECT * FROM temp.\(table) WHERE request_id = ?", arguments: [id])
                var object = JSONObject()
                for (column, value) in row.map({ Array($0) }) ?? [] { object[column] = Self.json(value) }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO quarantine (request_id, dataset, failed_expectations, row_json, quarantined_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [id, dataset, JSONValue.array(names.map { .string($0) }).jsonText, JSONValue.object(object).jsonText, UTCTimestamp.iso8601(Date())]
                )
            }
        }
    }

    /// Moves what is left of the batch into the target tables.
    private func publish(filters: [String: [FilterResult]], db: Database) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO main.silver_events SELECT * FROM temp._silver_batch;
            INSERT OR REPLACE INTO main.gold_requests SELECT * FROM temp._gold_batch;
            DELETE FROM main.gold_filter_results WHERE request_id IN (SELECT request_id FROM temp._gold_batch);
            """)
        let kept = Set(try String.fetchAll(db, sql: "SELECT request_id FROM temp._gold_batch"))
        var rows: [[(any DatabaseValueConvertible)?]] = []
        for (id, results) in filters where kept.contains(id) {
            for result in results {
                rows.append([id, result.stage.rawValue, result.category, result.filtered ? 1 : 0, result.severity, result.detected.map { $0 ? 1 : 0 }])
            }
        }
        try PipelineRows.insertMany(
            rows, into: "main.gold_filter_results", columns: ["request_id", "stage", "category", "filtered", "severity", "detected"], db: db
        )
    }

    static func json(_ value: DatabaseValue) -> JSONValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .int(Int(number))
        case .double(let number): .number(number)
        case .string(let text): .string(text)
        case .blob: .null
        }
    }
}

/// Maps a batch across the machine's cores (parsing is pure and independent per row).
enum ParallelMap {
    static func map<Input: Sendable, Output: Sendable>(_ items: [Input], _ transform: @Sendable (Input) -> Output) -> [Output] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / 256))
        guard workers > 1 else { return items.map(transform) }
        let results = ResultSlots<Output>(count: items.count)
        let chunk = (items.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (worker * chunk)..<min(items.count, (worker + 1) * chunk)
            for index in range { results.set(index, transform(items[index])) }
        }
        return results.values
    }
}

/// Output slots written by disjoint index ranges of concurrent workers.
///
/// `@unchecked Sendable`: each index is written by exactly one worker, through a buffer
/// allocated once, and the values are read only after `concurrentPerform` has returned.
final class ResultSlots<Value>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ index: Int, _ value: Value) { buffer[index] = value }

    var values: [Value] { buffer.map { $0! } }
}

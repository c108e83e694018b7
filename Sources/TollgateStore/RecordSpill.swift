import Foundation
import GRDB
import TollgateCore

/// Where records go while the store cannot take them: a second SQLite file beside the store
/// (`<store>.spill`, mode 0600) with the store's own schema, bounded by `maxBytes`. Once the
/// store takes writes again, `restore(into:)` copies every spilled row into it in one
/// transaction and removes the file. Only the record writer uses it, one call at a time.
public final class RecordSpill: @unchecked Sendable {
    public let path: String
    private let maxBytes: Int
    private var queue: DatabaseQueue?

    public init(path: String, maxBytes: Int) {
        self.path = path
        self.maxBytes = maxBytes
    }

    /// Whether a spill file holds rows (from this run or from a run that stopped while failing).
    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Appends records in one transaction; throws when the file is full or cannot be written.
    public func append(_ records: [InferenceRecord], payloadLimit: Int) throws(StoreError) {
        do {
            try open().write { db in
                for record in records { try RecordRows.insert(record, payloadLimit: payloadLimit, into: db) }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot spill \(records.count) records to \(path)", underlying: error)
        }
    }

    /// Copies every spilled row into the store (rows already there are kept as they are) and
    /// removes the spill file. Returns the number of records restored.
    public func restore(into store: SQLiteStore) async throws(StoreError) -> Int {
        guard exists else {
            try await store.probeWrite()
            return 0
        }
        let restored: Int
        do {
            try close()
            restored = try await store.pool.writeWithoutTransaction { [path] db in
                try db.execute(sql: "ATTACH DATABASE ? AS spill", arguments: [path])
                defer { try? db.execute(sql: "DETACH DATABASE spill") }
                var count = 0
                try db.inTransaction(.immediate) {
                    count = try Self.spilledRecords(db)
                    for table in RecordTable.allCases.map(\.rawValue) {
                        let columns = try Row.fetchAll(db, sql: "PRAGMA spill.table_info(\(table))").map { "\"\($0["name"] as String)\"" }
                        let list = columns.joined(separator: ", ")
                        try db.execute(sql: "INSERT OR IGNORE INTO main.\(table) (\(list)) SELECT \(list) FROM spill.\(table)")
                    }
                    return .commit
                }
                return count
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot restore spilled records from \(path)", underlying: error)
        }
        remove()
        return restored
    }

    /// Every spilled row, table by table, and how many records they hold: what a backend that
    /// cannot attach the file (PostgreSQL) restores. `remove()` deletes the file afterwards.
    public func spilledRows() throws(StoreError) -> (records: Int, rows: [TableRow]) {
        do {
            return try open().read { db in
                var rows: [TableRow] = []
                for table in RecordTable.allCases {
                    let sql = "SELECT \(table.columns.joined(separator: ", ")) FROM \(table.rawValue)"
                    for row in try Row.fetchAll(db, sql: sql) {
                        rows.append(TableRow(table: table, values: row.databaseValues.map(StoreValue.init(_:))))
                    }
                }
                return (try Self.spilledRecords(db, schema: "main"), rows)
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read spilled records from \(path)", underlying: error)
        }
    }

    /// Deletes the spill file (after its rows were restored).
    public func remove() {
        try? close()
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Requests with a row in the spill file (`spill` when attached to the store, else `main`).
    private static func spilledRecords(_ db: Database, schema: String = "spill") throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT count(*) FROM (SELECT request_id FROM \(schema).inference_table UNION SELECT request_id FROM \(schema).endpoint_usage
            UNION SELECT request_id FROM \(schema).traces)
            """) ?? 0
    }

    private func open() throws -> DatabaseQueue {
        if let queue { return queue }
        if !exists { _ = FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) }
        var configuration = Configuration()
        let pages = max(64, maxBytes / SQLiteStore.pageSize)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA page_size = \(SQLiteStore.pageSize)")
            // The bound: past it SQLite answers SQLITE_FULL and the batch counts as lost.
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
        }
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try Migrations.migrator.migrate(queue)
        self.queue = queue
        return queue
    }

    private func close() throws {
        try queue?.close()
        queue = nil
    }
}

import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TollgateCore
import TollgateStore

/// The PostgreSQL store, for several replicas on one database: `store: postgres://…`.
///
/// It is a `Service`: its connection pool runs in the service group (`run()`), and queries wait
/// for it. The record writer's batches go in as multi-row `INSERT … ON CONFLICT DO NOTHING`
/// statements, one transaction per batch; while the database refuses them they are spilled to a
/// SQLite file on this machine (`spillPath`) and restored from it once it takes writes again.
public final class PostgresStore: RecordSink, Service {
    let client: PostgresClient
    let url: PostgresURL
    let logger: Logger
    public let spillPath: String
    /// How long one operation (a batch, a query) may wait for the database.
    let operationTimeout: Duration

    /// Binds per statement, under the protocol's limit of 65,535.
    static let maxBinds = 30_000

    /// - Parameters:
    ///   - url: `postgres://user:password@host:port/database[?sslmode=disable|prefer|require]`.
    ///   - spillDirectory: where the spill file lives (`tollgate-HOST-PORT-DATABASE.spill`).
    ///   - operationTimeout: how long a batch or a query may wait for the database.
    public init(url: String, spillDirectory: String, operationTimeout: Duration = .seconds(10), logger: Logger) throws(StoreError) {
        self.url = try PostgresURL(url)
        self.logger = logger
        self.operationTimeout = operationTimeout
        client = PostgresClient(configuration: try self.url.clientConfiguration(), backgroundLogger: logger)
        let name = "tollgate-\(self.url.host)-\(self.url.port)-\(self.url.database).spill"
            .map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" }
        spillPath = (spillDirectory as NSString).appendingPathComponent(String(name))
    }

    public static func isPostgresURL(_ url: String) -> Bool { PostgresURL.isPostgres(url) }

    /// Runs the connection pool until the task is cancelled (the service group's shutdown).
    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.client.run() }
    }

    /// Applies the migrations this database has not seen (the pool must be running).
    public func migrate() async throws(StoreError) {
        do {
            try await PostgresMigrations.migrate(client, logger: logger)
        } catch {
            throw StoreError(code: .migrationFailed, message: "cannot migrate \(url.redacted)", underlying: error)
        }
    }

    public func write(_ records: [InferenceRecord], payloadLimit: Int) async throws(StoreError) -> [TokenUsage?] {
        var usages: [TokenUsage?] = []
        usages.reserveCapacity(records.count)
        var rows: [TableRow] = []
        for record in records {
            let (usage, recordRows) = RecordRows.rows(record, payloadLimit: payloadLimit)
            usages.append(usage)
            rows += recordRows
        }
        do {
            try await insert(rows)
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot write \(records.count) records to \(url.redacted)", underlying: error)
        }
        return usages
    }

    public func probeWrite() async throws(StoreError) {
        do {
            let standby = try await bounded { [client, logger] in
                for try await inRecovery in try await client.query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self) {
                    return inRecovery
                }
                return false
            }
            if standby { throw StoreError(code: .writeFailed, message: "\(url.redacted) is a read-only standby") }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .writeFailed, message: "\(url.redacted) refuses writes", underlying: error)
        }
    }

    public func restore(_ spill: RecordSpill) async throws(StoreError) -> Int {
        guard spill.exists else {
            try await probeWrite()
            return 0
        }
        let (records, rows) = try spill.spilledRows()
        do {
            try await insert(rows)
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot restore spilled records into \(url.redacted)", underlying: error)
        }
        spill.remove()
        return records
    }

    public func count(of table: RecordTable) async throws(StoreError) -> Int {
        do {
            return try await bounded { [client, logger] in
                let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table.rawValue)"), logger: logger)
                for try await count in rows.decode(Int64.self) { return Int(count) }
                return 0
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot count \(table.rawValue) in \(url.redacted)", underlying: error)
        }
    }

    /// Inserts rows in one transaction, one multi-row statement per table and chunk.
    private func insert(_ rows: [TableRow]) async throws {
        guard !rows.isEmpty else { return }
        let grouped = Dictionary(grouping: rows, by: \.table)
        try await bounded { [client, logger] in try await Self.insert(grouped, client: client, logger: logger) }
    }

    private static func insert(_ grouped: [RecordTable: [TableRow]], client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            for table in RecordTable.allCases {
                guard let tableRows = grouped[table] else { continue }
                let perStatement = max(1, Self.maxBinds / table.columns.count)
                var start = 0
                while start < tableRows.count {
                    let chunk = tableRows[start..<min(start + perStatement, tableRows.count)]
                    try await connection.query(insertQuery(table, chunk), logger: logger)
                    start += perStatement
                }
            }
        }
    }

    static func insertQuery(_ table: RecordTable, _ rows: ArraySlice<TableRow>) -> PostgresQuery {
        let width = table.columns.count
        var bindings = PostgresBindings(capacity: width * rows.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        var parameter = 0
        for row in rows {
            var marks: [String] = []
            marks.reserveCapacity(width)
            for value in row.values {
                parameter += 1
                marks.append("$\(parameter)")
                switch value {
                case .null: bindings.appendNull()
                case .int(let int): bindings.append(int)
                case .real(let double): bindings.append(double)
                case .text(let text): bindings.append(text)
                }
            }
            tuples.append("(" + marks.joined(separator: ",") + ")")
        }
        let sql = "INSERT INTO \(table.rawValue) (\(table.columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ",")) ON CONFLICT DO NOTHING"
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }
}

import Foundation
import TollgateStore

/// Day partitions of `inference_table`, `endpoint_usage` (by `request_time`) and `spans` (by
/// `start_time_unix_nano`): `store.retention_days` drops whole partitions instead of deleting
/// rows. Each table has a default partition for rows outside the days prepared (a clock far off,
/// an import of old data); `ensure` moves a day's rows out of it when it creates that day's
/// partition, and retention deletes its old rows in bounded batches.
public struct PostgresPartitions: Sendable {
    struct Table: Sendable {
        var name: String
        var column: String
        var nanoseconds: Bool
        var retention: RetentionDeletes.Target
    }

    static let tables = [
        Table(name: "inference_table", column: "request_time", nanoseconds: false, retention: RetentionDeletes.inferenceTable),
        Table(name: "endpoint_usage", column: "request_time", nanoseconds: false, retention: RetentionDeletes.endpointUsage),
        Table(name: "spans", column: "start_time_unix_nano", nanoseconds: true, retention: RetentionDeletes.spans),
    ]

    /// "partitions" in ASCII, for the lock that serializes replicas creating partitions.
    static let lockKey: Int64 = 0x7061_7274_6974_696F

    let database: any TransactionalDatabase
    /// How long preparing one partition may take: moving a large default partition's rows is
    /// bound by neither the store's 10 s per operation nor the connections' statement timeout.
    let moveTimeout: Duration

    public init(database: any TransactionalDatabase, moveTimeout: Duration = .seconds(3_600)) {
        self.database = database
        self.moveTimeout = moveTimeout
    }

    static var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .gmt
        return calendar
    }

    /// `20261203` for a day.
    static func suffix(_ day: Date) -> String {
        let parts = calendar.dateComponents([.year, .month, .day], from: day)
        return String(format: "%04d%02d%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The partition bounds of a day, as SQL literals (computed here, never a client's text).
    static func bounds(_ table: Table, day: Date) -> (from: String, to: String) {
        let next = calendar.date(byAdding: .day, value: 1, to: day) ?? day
        if table.nanoseconds {
            return (String(Int64(day.timeIntervalSince1970) * 1_000_000_000), String(Int64(next.timeIntervalSince1970) * 1_000_000_000))
        }
        let text: (Date) -> String = { date in
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            return String(format: "'%04d-%02d-%02d'", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
        }
        return (text(day), text(next))
    }

    /// Creates the partitions of yesterday through `ahead` days after `now`'s day that are
    /// missing, moving any of their rows out of the default partition. One transaction per
    /// partition, under an advisory lock (replicas never race) and with the default partition
    /// locked while its rows move, so that no row lands there between the move and the attach.
    public func ensure(now: Date = Date(), ahead: Int = 2) async throws(StoreError) {
        let today = Self.calendar.startOfDay(for: now)
        for offset in -1...max(0, ahead) {
            guard let day = Self.calendar.date(byAdding: .day, value: offset, to: today) else { continue }
            for table in Self.tables {
                let name = "\(table.name)_p\(Self.suffix(day))"
                let (from, to) = Self.bounds(table, day: day)
                let move = """
                    DO $$ BEGIN
                      IF to_regclass('\(name)') IS NULL THEN
                        LOCK TABLE \(table.name)_default IN ACCESS EXCLUSIVE MODE;
                        CREATE TABLE \(name) (LIKE \(table.name) INCLUDING DEFAULTS);
                        WITH moved AS (DELETE FROM \(table.name)_default WHERE \(table.column) >= \(from) AND \(table.column) < \(to) RETURNING *)
                          INSERT INTO \(name) SELECT * FROM moved;
                        ALTER TABLE \(table.name) ATTACH PARTITION \(name) FOR VALUES FROM (\(from)) TO (\(to));
                      END IF;
                    END $$
                    """
                do {
                    try await database.transaction(timeout: moveTimeout) { transaction in
                        try await transaction.run("SET LOCAL statement_timeout = 0", [])
                        try await transaction.run("SELECT pg_advisory_xact_lock(\(Self.lockKey))", [])
                        try await transaction.run(move, [])
                    }
                } catch let error as StoreError {
                    throw error
                } catch {
                    throw StoreError(code: .writeFailed, message: "cannot prepare \(name)", underlying: error)
                }
            }
        }
    }

    /// Each table's day partitions, oldest first.
    public func partitions(of table: String) async throws(StoreError) -> [String] {
        try await database.read(
            """
            SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = ? AND c.relname LIKE ? ORDER BY c.relname
            """,
            [.text(table), .text(table + "\\_p%")]
        ).compactMap { $0.text("name") }
    }

    /// Drops the day partitions that end at or before `cutoff`, and deletes older rows left in
    /// the default partitions and in `traces`; returns the partitions dropped.
    public func dropExpired(before cutoff: Date) async throws(StoreError) -> [String] {
        let cutoffSuffix = Self.suffix(cutoff)
        var dropped: [String] = []
        for table in Self.tables {
            // A partition of day D holds [D, D+1): it may go when D+1 <= cutoff, i.e. D < cutoff's day.
            for name in try await partitions(of: table.name) where String(name.suffix(8)) < cutoffSuffix {
                try await database.write("DROP TABLE IF EXISTS \(name)", [])
                dropped.append(name)
            }
        }
        let deletes = RetentionDeletes(database: database)
        _ = try await deletes.delete(Self.tables.map(\.retention), olderThan: cutoff) { "\($0.table)_default" }
        _ = try await deletes.delete([RetentionDeletes.traces], olderThan: cutoff)
        return dropped
    }
}

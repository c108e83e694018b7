import Foundation
import GRDB
import TollgateCore

/// The embedded store: one SQLite file in WAL mode, migrated on open.
public final class SQLiteStore: Sendable {
    public let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) the database at a `sqlite:PATH` URL.
    /// `busyTimeout`: seconds a write waits for another connection's lock before it fails.
    public static func open(url: String, busyTimeout: Double = 10) throws(StoreError) -> SQLiteStore {
        guard url.hasPrefix("sqlite:") else {
            // The URL is not echoed: a postgres:// one carries a password.
            throw StoreError(code: .unsupportedURL, message: "this reads sqlite:PATH stores only")
        }
        return try SQLiteStore(path: String(url.dropFirst("sqlite:".count)), busyTimeout: busyTimeout)
    }

    static let pageSize = 16_384
    /// WAL pages after which a commit checkpoints by itself (64 MiB).
    static let autoCheckpointPages = 64 * 1024 * 1024 / pageSize

    public init(path: String, busyTimeout: Double = 10) throws(StoreError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        // The record writer is background work: it must not take CPU from request handling.
        configuration.qos = .utility
        configuration.prepareDatabase { db in
            // 16 KiB pages for a new store (an existing one keeps its size): silver rows run to a
            // few KiB, and fewer, larger pages cut the pipeline's B-tree work (bench/README.md).
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY")
            // A backstop: a running gateway checkpoints from `WALCheckpointer`, off the writer.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.autoCheckpointPages)")
        }
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            // The store holds every prompt: a new file is the owner's only (0600), and SQLite gives
            // its -wal and -shm files the database file's mode.
            if !FileManager.default.fileExists(atPath: path) {
                FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
            }
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(code: .openFailed, message: "cannot open \(path)", underlying: error)
        }
        do {
            try Migrations.migrator.migrate(pool)
        } catch {
            throw StoreError(code: .migrationFailed, message: "cannot migrate \(path)", underlying: error)
        }
    }

    /// A private in-memory database with the store's schema: scratch space for work that must
    /// run SQLite's SQL over rows held elsewhere (the distributed pipeline's expectations).
    public static func scratchDatabase() throws(StoreError) -> DatabaseQueue {
        do {
            let queue = try DatabaseQueue()
            try Migrations.migrator.migrate(queue)
            return queue
        } catch {
            throw StoreError(code: .migrationFailed, message: "cannot prepare an in-memory store", underlying: error)
        }
    }

    /// Writes a batch of records in one transaction; returns each record's resolved token usage.
    @discardableResult
    public func write(_ records: [InferenceRecord], payloadLimit: Int) async throws(StoreError) -> [TokenUsage?] {
        do {
            return try await pool.write { db in
                try records.map { try RecordRows.insert($0, payloadLimit: payloadLimit, into: db) }
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot write \(records.count) records", underlying: error)
        }
    }

    /// Takes the write lock and lets it go: throws while another connection holds it or the
    /// file cannot be written.
    public func probeWrite() async throws(StoreError) {
        do {
            try await pool.writeWithoutTransaction { db in
                try db.inTransaction(.immediate) { .rollback }
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "the store refuses writes", underlying: error)
        }
    }

    /// Whether the database answers a trivial query (read off the caller's thread).
    public func isReachable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}


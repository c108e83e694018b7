import GRDB
import TollgateCore

/// Where the record writer puts inference records: a store backend. The writer batches records
/// off the request path and calls `write` once per batch; while the backend refuses writes it
/// spills batches to a local file (`spillPath`) and asks the backend to take them back with
/// `restore`.
public protocol RecordSink: Sendable {
    /// Where records go while the backend refuses them: a file on this machine.
    var spillPath: String { get }

    /// Writes a batch in one transaction; returns each record's resolved token usage.
    func write(_ records: [InferenceRecord], payloadLimit: Int) async throws(StoreError) -> [TokenUsage?]

    /// Throws while the backend would refuse a write.
    func probeWrite() async throws(StoreError)

    /// Copies every spilled record into the backend and removes the spill file; returns how
    /// many records it restored (0, after a successful `probeWrite`, when nothing is spilled).
    func restore(_ spill: RecordSpill) async throws(StoreError) -> Int

    /// The rows a table holds (what `store copy` and the tests check).
    func count(of table: RecordTable) async throws(StoreError) -> Int
}

extension SQLiteStore: RecordSink {
    /// `<store>.spill`, beside the database file.
    public var spillPath: String { path + ".spill" }

    public func restore(_ spill: RecordSpill) async throws(StoreError) -> Int {
        try await spill.restore(into: self)
    }

    public func count(of table: RecordTable) async throws(StoreError) -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.rawValue)") ?? 0 }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot count \(table.rawValue)", underlying: error)
        }
    }
}

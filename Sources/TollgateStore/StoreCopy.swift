/// `tollgate store copy`: moves a SQLite store's rows into another store (PostgreSQL), table by
/// table in pages, each page one multi-row `INSERT … ON CONFLICT DO NOTHING`. Copying again (after
/// an interruption, or to catch up) adds only the rows not there yet, and brings over keys revoked
/// since; `compute_usage`, which has no key, is copied in one transaction while the destination
/// holds none (after that it belongs to the replicas sampling into it). At the end every table's
/// rows are counted on both sides.
public struct StoreCopy: Sendable {
    /// The tables both backends hold, in copy order. The pipeline's tables stay behind: they are
    /// derived from these and the pipeline runs on SQLite stores.
    public static let tables = [
        "api_keys", "serving_endpoints", "endpoint_config_history", "served_entity_versions", "inference_table", "endpoint_usage",
        "traces", "spans", "stored_responses", "compute_usage",
    ]
    static let copiedOnce: Set<String> = ["compute_usage"]
    /// A key revoked in the source after an earlier copy is revoked in the destination too.
    static let onConflict = ["api_keys": "ON CONFLICT (key_id) DO UPDATE SET revoked_at = COALESCE(api_keys.revoked_at, excluded.revoked_at)"]

    public struct TableCount: Sendable, Equatable {
        public var table: String
        public var source: Int
        public var destination: Int
        /// Every source row is in the destination (which may hold more: rows written meanwhile).
        public var complete: Bool { destination >= source }
    }

    let source: SQLiteStore
    let destination: any SQLDatabase
    let pageRows: Int

    public init(source: SQLiteStore, destination: any SQLDatabase, pageRows: Int = 1_000) {
        self.source = source
        self.destination = destination
        self.pageRows = max(1, pageRows)
    }

    /// Copies every table; `progress(table, copied, total)` after each page.
    public func run(progress: (String, Int, Int) -> Void) async throws(StoreError) -> [TableCount] {
        var counts: [TableCount] = []
        for table in Self.tables {
            let total = try await count(table, in: source)
            if Self.copiedOnce.contains(table) {
                if try await count(table, in: destination) == 0 { try await copyWhole(table, total: total, progress: progress) }
            } else {
                try await copy(table, total: total, progress: progress)
            }
            counts.append(TableCount(table: table, source: total, destination: try await count(table, in: destination)))
        }
        // Replicas running on the destination reload what was copied in.
        try await destination.write([StoreChanges.bump(.keys), StoreChanges.bump(.endpoints)])
        return counts
    }

    private func count(_ table: String, in database: any SQLDatabase) async throws(StoreError) -> Int {
        try await database.read("SELECT count(*) AS n FROM \(table)", []).first?.int("n") ?? 0
    }

    /// Pages by SQLite's rowid, so each page is one index range and a copy can restart anywhere.
    private func copy(_ table: String, total: Int, progress: (String, Int, Int) -> Void) async throws(StoreError) {
        var after: Int64 = 0
        var copied = 0
        progress(table, 0, total)
        while true {
            let rows = try await page(table, after: after)
            guard let last = rows.last, case .int(let rowid) = last["tollgate_rowid"] else { break }
            try await destination.write(Self.inserts(table, rows, onConflict: Self.onConflict[table] ?? "ON CONFLICT DO NOTHING"))
            after = rowid
            copied += rows.count
            progress(table, copied, total)
        }
    }

    private func copyWhole(_ table: String, total: Int, progress: (String, Int, Int) -> Void) async throws(StoreError) {
        var statements: [SQLStatement] = []
        var after: Int64 = 0
        progress(table, 0, total)
        while true {
            let rows = try await page(table, after: after)
            guard let last = rows.last, case .int(let rowid) = last["tollgate_rowid"] else { break }
            statements += Self.inserts(table, rows, onConflict: "")
            after = rowid
        }
        try await destination.write(statements)
        progress(table, total, total)
    }

    private func page(_ table: String, after rowid: Int64) async throws(StoreError) -> [SQLRow] {
        try await source.read(
            "SELECT rowid AS tollgate_rowid, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?", [.int(rowid), StoreValue(pageRows)]
        )
    }

    /// Multi-row inserts of `rows` (their columns but the rowid), under PostgreSQL's bind limit.
    static func inserts(_ table: String, _ rows: [SQLRow], onConflict: String) -> [SQLStatement] {
        guard let first = rows.first else { return [] }
        let columns = first.columns.indices.filter { first.columns[$0] != "tollgate_rowid" }
        let perStatement = max(1, 30_000 / max(1, columns.count))
        let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let names = columns.map { first.columns[$0] }.joined(separator: ", ")
        var statements: [SQLStatement] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            let values = Array(repeating: tuple, count: chunk.count).joined(separator: ", ")
            let arguments = chunk.flatMap { row in columns.map { row.values[$0] } }
            statements.append(SQLStatement("INSERT INTO \(table) (\(names)) VALUES \(values) \(onConflict)", arguments))
            start += perStatement
        }
        return statements
    }
}

import GRDB

extension SQLiteStore: SQLDatabase {
    public var displayName: String { "sqlite:\(path)" }

    public func read(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow] {
        do {
            return try await pool.read { db in try Self.rows(db, sql, arguments) }
        } catch {
            throw StoreError(code: .readFailed, message: "query failed on \(displayName)", underlying: error)
        }
    }

    @discardableResult
    public func write(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]] {
        do {
            return try await pool.write { db in
                try statements.map { statement in
                    let rows = try Self.rows(db, statement.sql, statement.arguments)
                    if statement.mustReturnRows && rows.isEmpty { throw SQLConflict() }
                    return rows
                }
            }
        } catch is SQLConflict {
            throw StoreError(code: .conflict, message: "the row changed meanwhile")
        } catch {
            throw StoreError(code: .writeFailed, message: "write failed on \(displayName)", underlying: error)
        }
    }

    /// GRDB's pool readers are read-only connections: a user's statement that writes fails.
    public func readOnly(_ sql: String) async throws(StoreError) -> [SQLRow] {
        try await read(sql, [])
    }

    static func rows(_ db: Database, _ sql: String, _ arguments: [StoreValue]) throws -> [SQLRow] {
        let statement = try db.makeStatement(sql: sql)
        let columns = statement.columnNames
        var rows: [SQLRow] = []
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments.map(\.databaseValue)))
        while let row = try cursor.next() {
            rows.append(SQLRow(columns: columns, values: row.databaseValues.map(StoreValue.init)))
        }
        return rows
    }
}

/// Thrown inside a write transaction to roll it back as a conflict.
private struct SQLConflict: Error {}

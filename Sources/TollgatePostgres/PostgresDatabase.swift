import Foundation
import NIOCore
import PostgresNIO
import TollgateCore
import TollgateStore

extension PostgresStore: SQLDatabase {
    public var displayName: String { url.redacted }

    public func read(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow] {
        do {
            return try await bounded { [client, logger] in
                try await Self.collect(try await client.query(Self.query(sql, arguments), logger: logger))
            }
        } catch {
            throw StoreError(code: .readFailed, message: "query failed on \(displayName): \(Self.reason(error))")
        }
    }

    @discardableResult
    public func write(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]] {
        do {
            return try await bounded { [client, logger] in
                try await client.withTransaction(logger: logger) { connection in
                    var results: [[SQLRow]] = []
                    for statement in statements {
                        let rows = try await Self.collect(try await connection.query(Self.query(statement.sql, statement.arguments), logger: logger))
                        if statement.mustReturnRows && rows.isEmpty { throw SQLConflict() }
                        results.append(rows)
                    }
                    return results
                }
            }
        } catch let error as PostgresTransactionError where error.closureError is SQLConflict {
            throw StoreError(code: .conflict, message: "the row changed meanwhile")
        } catch is SQLConflict {
            throw StoreError(code: .conflict, message: "the row changed meanwhile")
        } catch {
            throw StoreError(code: .writeFailed, message: "write failed on \(displayName): \(Self.reason(error))")
        }
    }

    /// In a `READ ONLY` transaction: a user's statement that writes fails and changes nothing.
    public func readOnly(_ sql: String) async throws(StoreError) -> [SQLRow] {
        do {
            // Not bounded by `operationTimeout`: an analyst's query may run long (the server's
            // statement_timeout still applies).
            return try await client.withConnection { connection in
                try await connection.query("BEGIN TRANSACTION READ ONLY", logger: logger)
                do {
                    let rows = try await Self.collect(try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger))
                    try await connection.query("ROLLBACK", logger: logger)
                    return rows
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw StoreError(code: .readFailed, message: "query failed on \(displayName): \(Self.reason(error))")
        }
    }

    static func query(_ sql: String, _ arguments: [StoreValue]) -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .int(let int): bindings.append(int)
            case .real(let double): bindings.append(double)
            case .text(let text): bindings.append(text)
            }
        }
        return PostgresQuery(unsafeSQL: NumberedPlaceholders.rewrite(sql), binds: bindings)
    }

    static func collect(_ sequence: PostgresRowSequence) async throws -> [SQLRow] {
        var rows: [SQLRow] = []
        var columns: [String]?
        for try await row in sequence {
            let names = columns ?? row.map(\.columnName)
            columns = names
            rows.append(SQLRow(columns: names, values: row.map(Self.value)))
        }
        return rows
    }

    /// A cell as a store value: integers, reals and text as they are, `numeric` as a real,
    /// booleans as 0/1, times as ISO 8601 text, anything else as PostgreSQL's text for it.
    static func value(_ cell: PostgresCell) -> StoreValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8:
            return (try? cell.decode(Int64.self)).map(StoreValue.int) ?? .null
        case .float4, .float8:
            return (try? cell.decode(Double.self)).map(StoreValue.real) ?? .null
        case .numeric:
            return (try? cell.decode(Decimal.self)).map { .real(NSDecimalNumber(decimal: $0).doubleValue) } ?? .null
        case .bool:
            return (try? cell.decode(Bool.self)).map { .int($0 ? 1 : 0) } ?? .null
        case .timestamptz, .timestamp, .date:
            return (try? cell.decode(Date.self)).map { .text(UTCTimestamp.iso8601($0)) } ?? .null
        default:
            if let text = try? cell.decode(String.self) { return .text(text) }
            var bytes = cell.bytes ?? ByteBuffer()
            return .text(cell.format == .text ? (bytes.readString(length: bytes.readableBytes) ?? "") : "<\(cell.dataType)>")
        }
    }
}

/// Thrown inside a write transaction to roll it back as a conflict.
private struct SQLConflict: Error {}

import Logging
import PostgresNIO
import TollgateStore

extension PostgresStore: TransactionalDatabase {
    public func transaction<T: Sendable>(
        timeout: Duration, _ body: @escaping @Sendable (any SQLTransaction) async throws -> T
    ) async throws -> T {
        do {
            return try await bounded(timeout: timeout) { [client, logger] in
                try await client.withTransaction(logger: logger) { connection in
                    try await body(PostgresTransaction(connection: connection, logger: logger, displayName: self.displayName))
                }
            }
        } catch let error as PostgresTransactionError {
            // The body's own error as it threw it; a failed BEGIN or COMMIT as a store error.
            if let closureError = error.closureError { throw closureError }
            let cause = error.beginError ?? error.commitError ?? error
            throw StoreError(code: .writeFailed, message: "transaction failed on \(displayName): \(Self.reason(cause))")
        } catch let error as OperationTimedOut {
            throw StoreError(code: .writeFailed, message: "transaction on \(displayName) gave up: \(error)")
        } catch {
            throw StoreError(code: .writeFailed, message: "transaction failed on \(displayName): \(Self.reason(error))")
        }
    }
}

/// One connection inside `BEGIN … COMMIT`.
struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger
    let displayName: String

    @discardableResult
    func run(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow] {
        do {
            return try await PostgresStore.collect(try await connection.query(PostgresStore.query(sql, arguments), logger: logger))
        } catch {
            throw StoreError(code: .writeFailed, message: "statement failed on \(displayName): \(PostgresStore.reason(error))")
        }
    }
}

/// A transaction its caller drives statement by statement, doing work of its own in between.
public protocol SQLTransaction: Sendable {
    /// Runs one statement inside the transaction; the rows it returned.
    @discardableResult
    func run(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow]
}

/// A store whose transactions may span the caller's work, and several of whose clients may
/// share rows (PostgreSQL): the distributed pipeline claims bronze rows and writes what it made
/// of them in one such transaction, so that a batch is written whole or not at all.
public protocol TransactionalDatabase: SQLDatabase {
    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws
    /// (its error is rethrown as it was) or when `timeout` passes first.
    func transaction<T: Sendable>(
        timeout: Duration, _ body: @escaping @Sendable (any SQLTransaction) async throws -> T
    ) async throws -> T
}

import Logging
import NIOCore
import PostgresNIO
import TollgateStore

extension PostgresStore {
    /// Opens one connection of its own and closes it: a wrong password, an unknown database or
    /// an unreachable host fails here at once with what the server or the network said (never
    /// the password), instead of queries waiting on a pool that keeps retrying.
    public func checkConnection() async throws(StoreError) {
        do {
            let connection = try await PostgresConnection.connect(
                configuration: try url.connectionConfiguration(), id: 0, logger: logger
            )
            try await connection.close()
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(code: .openFailed, message: "cannot connect to \(url.redacted): \(Self.reason(error))")
        }
    }

    /// What went wrong, in words: the server's message (`password authentication failed for
    /// user "tollgate"`) or the network's (`connection refused`). PSQLError's own description
    /// is deliberately generic.
    static func reason(_ error: any Error) -> String {
        if let transaction = error as? PostgresTransactionError {
            let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError ?? transaction.rollbackError
            return inner.map(reason) ?? "the transaction failed"
        }
        guard let error = error as? PSQLError else { return "\(error)" }
        if let message = error.serverInfo?[.message] {
            return error.serverInfo?[.sqlState].map { "\(message) (SQLSTATE \($0))" } ?? message
        }
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }
}

extension PostgresStore {
    /// The database did not answer within `operationTimeout`.
    struct OperationTimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no answer within \(timeout)" }
    }

    /// Runs `body`, giving up after `operationTimeout`. While the database cannot be reached the
    /// pool keeps a query waiting for a connection (for about a minute, until its circuit
    /// breaker opens): bounded here, a batch fails in seconds and the record writer spills it,
    /// and an admin read answers with an error instead of hanging.
    func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let timeout = operationTimeout
        return try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw OperationTimedOut(timeout: timeout)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw OperationTimedOut(timeout: timeout) }
            return first
        }
    }
}

import Synchronization

extension PostgresStore {
    /// The database did not answer within `operationTimeout`.
    struct OperationTimedOut: Error, CustomStringConvertible {
        var timeout: Duration
        var description: String { "no answer within \(timeout)" }
    }

    /// Runs `body`, giving up after `operationTimeout`. While the database cannot be reached the
    /// pool keeps a query waiting for a connection (for about a minute, until its circuit
    /// breaker opens), and a query on a connection whose peer vanished waits for TCP to give up:
    /// bounded here, a batch fails in seconds and the record writer spills it, and an admin read
    /// answers with an error instead of hanging.
    ///
    /// The work runs in a task of its own, because a query already sent does not end when its
    /// task is cancelled: the caller gets the timeout at once, and the abandoned work is cancelled
    /// and ends when the connection does. A batch that still commits after its timeout is written
    /// twice at worst, which `ON CONFLICT DO NOTHING` absorbs when the spill is restored.
    func bounded<T: Sendable>(timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = DeadlineRace<T>()
        let timeout = timeout ?? operationTimeout
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                race.begin(continuation)
                race.setWork(Task {
                    do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                })
                race.setTimer(Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    race.finish(.failure(OperationTimedOut(timeout: timeout)))
                })
            }
        } onCancel: {
            race.cancelWork()
        }
    }
}

/// The work and its timer: whichever ends first answers the caller, and the other is cancelled.
final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var caller: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var answered = false
    }

    private let state = Mutex(State())

    func begin(_ caller: CheckedContinuation<T, any Error>) { state.withLock { $0.caller = caller } }

    func setWork(_ task: Task<Void, Never>) {
        let done = state.withLock { state in
            state.work = task
            return state.answered
        }
        if done { task.cancel() }
    }

    func setTimer(_ task: Task<Void, Never>) {
        let done = state.withLock { state in
            state.timer = task
            return state.answered
        }
        if done { task.cancel() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (caller, work, timer) = state.withLock { state in
            defer {
                state.caller = nil
                state.answered = true
            }
            return (state.caller, state.work, state.timer)
        }
        guard let caller else { return }
        work?.cancel()
        timer?.cancel()
        caller.resume(with: result)
    }

    func cancelWork() { state.withLock { $0.work }?.cancel() }
}

import Foundation

/// Runs blocking work (a pipeline update, a synchronous store call) on a thread of its own, so
/// that it never holds one of the threads that run Swift Concurrency — in the gateway those are
/// the NIO event loops that serve requests.
public enum BlockingWork {
    public static func run<Value: Sendable, Failure: Error>(
        _ work: @escaping @Sendable () throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            let thread = Thread {
                continuation.resume(returning: Result { () throws(Failure) -> Value in try work() })
            }
            thread.name = "tollgate-blocking"
            thread.start()
        }
        return try result.get()
    }
}

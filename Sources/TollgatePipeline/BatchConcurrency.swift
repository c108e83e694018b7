import Foundation
import Synchronization

/// Runs independent pieces of a batch across the machine's cores, handed out one at a time as
/// workers free up, so that a run of heavy pieces does not leave a core idle.
///
/// The workers are threads of their own, started for the call and run at a lower priority
/// (nice 10): the batch before is being written meanwhile, and the writing thread is the one
/// the whole run waits for, so it must not get only a third of the two cores the workers
/// share with it. A worker's priority ends with the worker, so nothing else in the process is
/// slowed down.
enum ParallelMap {
    static let workerNice: Int32 = 10

    /// Results of `transform(0)`, `transform(1)`, … `transform(count - 1)`, in that order.
    static func map<Output: Sendable>(count: Int, _ transform: @escaping @Sendable (Int) -> Output) -> [Output] {
        let workers = min(ProcessInfo.processInfo.activeProcessorCount, count)
        guard workers > 1 else { return (0..<count).map(transform) }
        let results = ResultSlots<Output>(count: count)
        let next = TaskCounter()
        let done = DispatchGroup()
        for _ in 0..<workers {
            done.enter()
            let thread = Thread {
                #if os(Linux)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.workerNice)  // Linux: this thread only
                #endif
                while let index = next.take(below: count) { results.set(index, transform(index)) }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        return results.values
    }
}

/// Hands out indices `0, 1, 2, …` to concurrent workers.
final class TaskCounter: Sendable {
    private let next = Atomic<Int>(0)

    func take(below count: Int) -> Int? {
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < count ? index : nil
    }
}

/// Output slots written by disjoint index ranges of concurrent workers.
///
/// `@unchecked Sendable`: each index is written by exactly one worker, through a buffer
/// allocated once, and the values are read only after every worker has finished.
final class ResultSlots<Value>: @unchecked Sendable {
    private let buffer: UnsafeMutableBufferPointer<Value?>

    init(count: Int) {
        buffer = .allocate(capacity: count)
        buffer.initialize(repeating: nil)
    }

    deinit {
        buffer.deinitialize()
        buffer.deallocate()
    }

    func set(_ index: Int, _ value: Value) { buffer[index] = value }

    var values: [Value] { buffer.map { $0! } }
}

/// Work started on a background thread now and joined later: lets the runner parse the next
/// batch while the current one is written.
///
/// `@unchecked Sendable`: `result` is written once, before `group.leave()`, and read only after
/// `group.wait()` has returned.
final class BackgroundJob<Value: Sendable>: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result: Result<Value, any Error>?

    init(_ work: @escaping @Sendable () throws -> Value) {
        group.enter()
        DispatchQueue.global().async { [self] in
            result = Result { try work() }
            group.leave()
        }
    }

    /// Waits for the work (any number of times) and returns its value or rethrows its error.
    func wait() throws -> Value {
        group.wait()
        return try result!.get()
    }
}

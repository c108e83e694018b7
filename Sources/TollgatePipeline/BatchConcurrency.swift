import Foundation
import TollgateStore

/// Threads that run the pieces of a batch, handed out one at a time as threads free up (so a
/// run of heavy pieces does not leave a core idle), for the length of one pipeline run.
///
/// They run at a lower priority (nice 10): the batch before is being written meanwhile, and the
/// writing thread is the one the whole run waits for, so it must not get only a third of the two
/// cores it shares with them. The priority belongs to these threads only, and they end with
/// `stop()`, so nothing else in the process is slowed down.
final class WorkerThreads: @unchecked Sendable {
    static let nice: Int32 = 10

    // `@unchecked Sendable`: every field below is read and written with `condition` held.
    private let condition = NSCondition()
    private var body: (@Sendable (Int) -> Void)?
    private var count = 0
    private var next = 0
    private var running = 0
    private var stopped = false
    let threads: Int

    /// One thread per core, at most four (each holds one of the store's five reader connections
    /// while it reads, and the gateway's own reads need one); none on a single core, where
    /// `map` runs on the caller.
    init(threads: Int = min(ProcessInfo.processInfo.activeProcessorCount, 4)) {
        self.threads = threads > 1 ? threads : 0
        for _ in 0..<self.threads { Thread { [self] in work() }.start() }
    }

    /// Ends the threads (each holds the object until then).
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Results of `transform(0)`, `transform(1)`, … `transform(count - 1)`, in that order. One
    /// caller at a time (the run's own loop).
    func map<Output: Sendable>(count: Int, _ transform: @escaping @Sendable (Int) -> Output) -> [Output] {
        guard threads > 0, count > 1 else { return (0..<count).map(transform) }
        let results = ResultSlots<Output>(count: count)
        condition.lock()
        body = { index in results.set(index, transform(index)) }
        self.count = count
        next = 0
        condition.broadcast()
        while next < count || running > 0 { condition.wait() }
        body = nil
        condition.unlock()
        return results.values
    }

    private func work() {
        ThreadPriority.lowerCurrent(to: Self.nice)
        condition.lock()
        while !stopped {
            guard let body, next < count else {
                condition.wait()
                continue
            }
            let index = next
            next += 1
            running += 1
            condition.unlock()
            body(index)
            condition.lock()
            running -= 1
            if next >= count && running == 0 { condition.broadcast() }
        }
        condition.unlock()
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

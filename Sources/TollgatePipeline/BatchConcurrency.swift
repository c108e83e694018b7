import Foundation

/// Maps a batch across the machine's cores (parsing is pure and independent per row).
enum ParallelMap {
    static func map<Input: Sendable, Output: Sendable>(_ items: [Input], _ transform: @Sendable (Input) -> Output) -> [Output] {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, items.count / 256))
        guard workers > 1 else { return items.map(transform) }
        let results = ResultSlots<Output>(count: items.count)
        let chunk = (items.count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            let range = (worker * chunk)..<min(items.count, (worker + 1) * chunk)
            for index in range { results.set(index, transform(items[index])) }
        }
        return results.values
    }
}

/// Output slots written by disjoint index ranges of concurrent workers.
///
/// `@unchecked Sendable`: each index is written by exactly one worker, through a buffer
/// allocated once, and the values are read only after `concurrentPerform` has returned.
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

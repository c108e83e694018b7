import Foundation

/// Maps a batch across the machine's cores (parsing is pure and independent per row), in small
/// chunks handed out as workers free up, so that a core shared with the writing thread or a run
/// of heavy rows does not leave the other core idle.
enum ParallelMap {
    static let chunk = 64

    static func map<Input: Sendable, Output: Sendable>(_ items: [Input], _ transform: @Sendable (Input) -> Output) -> [Output] {
        guard ProcessInfo.processInfo.activeProcessorCount > 1, items.count > chunk * 2 else { return items.map(transform) }
        let results = ResultSlots<Output>(count: items.count)
        let chunks = (items.count + chunk - 1) / chunk
        DispatchQueue.concurrentPerform(iterations: chunks) { part in
            for index in (part * chunk)..<min(items.count, (part + 1) * chunk) { results.set(index, transform(items[index])) }
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

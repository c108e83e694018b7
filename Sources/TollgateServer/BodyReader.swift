import Hummingbird
import NIOCore

/// Reads a whole request body within a deadline, so that an upload that stops half way cannot
/// hold a connection (and its handler) forever.
enum BodyReader {
    struct Timeout: Error {}

    static func collect(_ body: RequestBody, upTo limit: Int, timeoutSeconds: Double) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer.self) { group in
            group.addTask { try await body.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int64(timeoutSeconds * 1000)))
                throw Timeout()
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw Timeout() }
            return first
        }
    }
}

import Hummingbird
import NIOCore
import Synchronization

/// Reads a whole request body within a deadline, so that an upload that stops half way cannot
/// hold a connection (and its handler) forever. The deadline is a timer on the connection's own
/// event loop that closes its input side: the read then ends, and the request gets a 408.
enum BodyReader {
    struct Timeout: Error {}

    static func collect(_ body: RequestBody, upTo limit: Int, timeoutSeconds: Double, channel: any Channel) async throws -> ByteBuffer {
        let expired = ExpiryFlag()
        let timer = channel.eventLoop.scheduleTask(in: .milliseconds(Int64(timeoutSeconds * 1000))) {
            expired.set()
            channel.close(mode: .input, promise: nil)
        }
        defer { timer.cancel() }
        do {
            let collected = try await body.collect(upTo: limit)
            if expired.isSet { throw Timeout() }
            return collected
        } catch {
            if expired.isSet { throw Timeout() }
            throw error
        }
    }
}

/// Whether a body's deadline passed.
final class ExpiryFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}

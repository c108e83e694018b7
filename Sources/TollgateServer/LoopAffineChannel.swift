import HummingbirdCore
import Logging
import NIOCore

/// Runs each connection's handling on the event loop that owns its socket.
///
/// Hummingbird starts every connection's task from the loop that accepts connections, so with
/// several loops most connections would be served from a loop other than their own: each read,
/// each write and the upstream call (the client prefers the calling loop) would cross threads.
/// Preferring the connection's loop as the task executor keeps a request on one thread.
struct LoopAffineChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// A task executor that runs jobs on one NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

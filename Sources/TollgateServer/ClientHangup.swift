import NIOCore
import Synchronization

/// Whether the client of one connection has gone: it closed its side (a FIN, which is how HTTP
/// clients hang up — nginx reads it the same way) or the connection dropped. A request waits on
/// it while its upstream call runs, so a client that gives up cancels the upstream call at once.
final class ClientHangup: Sendable {
    private struct State {
        var gone = false
        var nextWaiter: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    var isGone: Bool { state.withLock { $0.gone } }

    func signal() {
        let waiters = state.withLock { state in
            state.gone = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the client has gone, or when the calling task is cancelled.
    func wait() async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.gone || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Finds the `ClientHangup` of a request's connection. Each connection's `HangupWatcher`
/// registers it when the connection opens and removes it when the connection closes.
final class ClientHangups: Sendable {
    private let byChannel = Mutex<[ObjectIdentifier: ClientHangup]>([:])

    func hangup(of channel: any Channel) -> ClientHangup? {
        byChannel.withLock { $0[ObjectIdentifier(channel)] }
    }

    /// A new watcher for a new connection (`HTTP1Channel`'s additional handlers).
    func watcher() -> HangupWatcher { HangupWatcher(registry: self) }

    fileprivate func register(_ hangup: ClientHangup, for channel: any Channel) {
        byChannel.withLock { $0[ObjectIdentifier(channel)] = hangup }
    }

    fileprivate func remove(_ channel: any Channel) {
        _ = byChannel.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }
}

/// The channel handler that notices a client's hang-up; every event passes on unchanged.
final class HangupWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    private let registry: ClientHangups
    private let hangup = ClientHangup()

    fileprivate init(registry: ClientHangups) {
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        registry.register(hangup, for: context.channel)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        registry.remove(context.channel)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { hangup.signal() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        hangup.signal()
        registry.remove(context.channel)
        context.fireChannelInactive()
    }
}

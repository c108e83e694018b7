import NIOCore
import Synchronization

/// Whether the client of one connection has gone: it closed its side (a FIN, which is how HTTP
/// clients hang up — nginx reads it the same way) or the connection dropped. A request waits on
/// it while its upstream call runs, so a client that gives up cancels the upstream call at once.
final class ClientHangup: Sendable {
    private struct State {
        var gone = false
        var nextID: UInt64 = 0
        var callbacks: [UInt64: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    var isGone: Bool { state.withLock { $0.gone } }

    /// Marks the client gone and runs the callbacks, under the lock: `remove` waits for a
    /// callback in progress, so none runs after its request has moved on.
    func signal() {
        state.withLock { state in
            state.gone = true
            for callback in state.callbacks.values { callback() }
            state.callbacks = [:]
        }
    }

    /// Runs `callback` when the client goes (at once if it has gone); returns the id that
    /// `remove` takes.
    func onHangup(_ callback: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, now) = state.withLock { state in
            defer { state.nextID += 1 }
            if !state.gone { state.callbacks[state.nextID] = callback }
            return (state.nextID, state.gone)
        }
        if now { callback() }
        return id
    }

    func remove(_ id: UInt64) {
        _ = state.withLock { $0.callbacks.removeValue(forKey: id) }
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

/// Cancels the task of a request whose client hung up. The handle is removed from the hang-up
/// before the task's call returns, so it never outlives the task it points to.
struct CancelHandle: @unchecked Sendable {
    let task: UnsafeCurrentTask?

    func cancel() { task?.cancel() }
}

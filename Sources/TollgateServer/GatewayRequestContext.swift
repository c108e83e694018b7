import Hummingbird
import Logging
import NIOCore

/// The request context of the gateway's routes: Hummingbird's basic context plus the request's
/// connection, so an inference request can notice its client hanging up.
struct GatewayRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

import Foundation
import Logging
import NIOCore
import TollgateCore
import TollgateProviders

/// How one call of one served entity ended, before anything reached the client.
enum AttemptOutcome: Sendable {
    case clientLeft
    case failed(GatewayError, streamEnd: StreamEnd)
    case complete(status: Int, body: ByteBuffer, headers: [RelayedHeader], spanStart: UInt64, upstreamBody: String?)
    case stream(UpstreamChunkStream)

    /// Whether a fallback may try the next entity: 429, 5xx, timeout or refused connection.
    var allowsFallback: Bool {
        switch self {
        case .clientLeft, .stream: false
        case .failed: true
        case .complete(let status, _, _, _, _): status == 429 || status >= 500
        }
    }

    /// The attempt as `fallback_attempts` records it.
    func attempt(entity: String, duration: Duration) -> FallbackAttempt {
        let ms = StreamLedger.milliseconds(duration)
        switch self {
        case .clientLeft: return FallbackAttempt(entity: entity, status: 499, error: "client_closed_request", durationMs: ms)
        case .failed(let error, _): return FallbackAttempt(entity: entity, status: error.status, error: error.code.rawValue, durationMs: ms)
        case .complete(let status, _, _, _, _):
            return FallbackAttempt(entity: entity, status: status, error: (200..<300).contains(status) ? nil : "upstream_status_\(status)", durationMs: ms)
        case .stream: return FallbackAttempt(entity: entity, status: 200, error: nil, durationMs: ms)
        }
    }
}

/// One call of the call's current entity: starts a stopped local model, sends, and for a
/// stream reads its first chunk — all raced against the client hanging up.
struct EntityAttempt: Sendable {
    let hangup: ClientHangup?

    func run(_ call: inout InferenceCall) async -> AttemptOutcome {
        if let local = call.entity.localModel {
            // A stopped local model starts now; the row records how long the request waited.
            switch await unlessClientLeaves({ () async -> Result<Int?, UpstreamError> in
                do throws(UpstreamError) { return .success(try await local.prepare()) } catch { return .failure(error) }
            }) {
            case .finished(.success(let coldStart)): call.record.coldStartMs = coldStart
            case .finished(.failure(let error)): return .failed(GatewayError(error), streamEnd: .upstreamError)
            case .clientLeft: return .clientLeft
            }
        }
        let spanStart = TraceIDs.nowNanos()
        let upstreamBody = call.entity.isAgent || !call.trace.enabled ? nil : String(buffer: call.upstreamBody)
        let sent = call
        let outcome = await unlessClientLeaves { () async -> Result<UpstreamReply, CallFailure> in
            let reply: UpstreamReply
            do throws(UpstreamError) {
                reply = try await sent.entity.provider(for: sent.trace).send(
                    UpstreamRequest(
                        body: sent.upstreamBody, stream: sent.stream, requestID: sent.requestID,
                        operation: sent.isEmbeddings ? .embeddings : .chat
                    )
                )
            } catch {
                return .failure(CallFailure(error: error, inStream: false))
            }
            guard case .stream(var chunks) = reply else { return .success(reply) }
            do throws(UpstreamError) {
                if let upstreamBody {
                    chunks = StreamSpan(trace: sent.trace, parent: nil, start: spanStart, inputs: upstreamBody, upstreamModel: sent.entity.upstreamModel)
                        .watching(chunks)
                }
                // The first chunk is read before the response head: a stream failing before it is a plain error.
                try await chunks.peek()
                return .success(.stream(chunks))
            } catch {
                return .failure(CallFailure(error: error, inStream: true))
            }
        }
        switch outcome {
        case .clientLeft:
            if let upstreamBody {
                call.trace.addModelCall(
                    parent: nil, start: spanStart, inputs: upstreamBody, outputs: nil, usage: nil,
                    error: ("ClientClosedRequest", "The client closed the connection before the answer started."),
                    upstreamModel: call.entity.upstreamModel, stream: call.stream, type: call.spanType
                )
            }
            return .clientLeft
        case .finished(.failure(let failure)):
            let error = failure.error
            // A stream's span records its own failure; a failed call's is recorded here.
            if let upstreamBody, !failure.inStream {
                call.trace.addModelCall(
                    parent: nil, start: spanStart, inputs: upstreamBody, outputs: nil, usage: nil,
                    error: ("UpstreamError.\(error.code.rawValue)", error.rawBody ?? error.message),
                    upstreamModel: call.entity.upstreamModel, stream: call.stream, type: call.spanType
                )
            }
            return .failed(GatewayError(error), streamEnd: error.code == .timeout ? .timeout : .upstreamError)
        case .finished(.success(.complete(let status, let body, let headers))):
            return .complete(status: status, body: body, headers: headers, spanStart: spanStart, upstreamBody: upstreamBody)
        case .finished(.success(.stream(let chunks))):
            return .stream(chunks)
        }
    }

    /// How a call raced against the client's hang-up ended.
    enum Raced<Value: Sendable>: Sendable {
        case finished(Value)
        case clientLeft
    }

    /// An upstream failure, and whether it came from the stream (whose span records it).
    struct CallFailure: Error {
        var error: UpstreamError
        var inStream: Bool
    }

    /// Runs `operation` unless the client hangs up first: a hang-up cancels the request's own
    /// task (so the upstream call stops), without a task of its own per request.
    private func unlessClientLeaves<Value: Sendable>(_ operation: () async -> Value) async -> Raced<Value> {
        guard let hangup else { return .finished(await operation()) }
        let id = withUnsafeCurrentTask { task in
            let handle = CancelHandle(task: task)
            return hangup.onHangup { handle.cancel() }
        }
        let value = await operation()
        hangup.remove(id)
        return hangup.isGone ? .clientLeft : .finished(value)
    }
}

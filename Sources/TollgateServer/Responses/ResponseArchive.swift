import Foundation
import Synchronization
import TollgateCore
import TollgateStore

/// Stored Responses objects. The record writer persists them with their rows, off the request
/// path; the newest are also kept in memory, so a client that sends `previous_response_id` the
/// moment its last answer arrives finds it before the writer has run. Deletions are remembered
/// too, so a row still queued cannot bring a deleted response back.
final class ResponseArchive: Sendable {
    static let recentLimit = 4096

    /// The newest ids of a kind, oldest first out, in a fixed ring (no shifting per insert).
    private struct Recent {
        private var ring = [String?](repeating: nil, count: ResponseArchive.recentLimit)
        private var next = 0

        /// Adds `id`; returns the id it pushed out, if any.
        mutating func add(_ id: String) -> String? {
            defer { next = (next + 1) % ring.count }
            let evicted = ring[next]
            ring[next] = id
            return evicted
        }
    }

    private struct State {
        var recent: [String: StoredResponse] = [:]
        var recentOrder = Recent()
        var deleted: Set<String> = []
        var deletedOrder = Recent()
    }

    private let queries: StoredResponses
    private let state = Mutex(State())

    init(queries: StoredResponses) {
        self.queries = queries
    }

    func keep(_ stored: StoredResponse) {
        state.withLock { state in
            state.recent[stored.responseID] = stored
            if let evicted = state.recentOrder.add(stored.responseID) { state.recent[evicted] = nil }
        }
    }

    func find(_ id: String) async throws(StoreError) -> StoredResponse? {
        let (recent, deleted) = state.withLock { ($0.recent[id], $0.deleted.contains(id)) }
        if deleted { return nil }
        if let recent { return recent }
        return try await queries.find(id)
    }

    /// Whether there was such a response.
    func delete(_ id: String) async throws(StoreError) -> Bool {
        let (wasRecent, wasDeleted) = state.withLock { state in
            let answer = (state.recent.removeValue(forKey: id) != nil, state.deleted.contains(id))
            if state.deleted.insert(id).inserted, let evicted = state.deletedOrder.add(id) { state.deleted.remove(evicted) }
            return answer
        }
        let stored = try await queries.delete(id)
        return !wasDeleted && (wasRecent || stored)
    }
}

/// What a Responses request keeps of itself: where, and the conversation it continues.
struct ResponseKeeping: Sendable {
    let archive: ResponseArchive
    let previousContext: [JSONValue]

    /// Keeps `response` (a finished Responses object) and returns it for the row.
    func keep(_ response: JSONValue, request: JSONObject, requestID: String, endpoint: String) -> StoredResponse? {
        guard let id = response["id"]?.stringValue else { return nil }
        let input = ResponsesContext.inputItems(of: request, responseID: id)
        let stored = StoredResponse(
            responseID: id, requestID: requestID, endpointName: endpoint, createdAt: Date(), response: response, inputItems: input,
            contextItems: ResponsesContext.context(previous: previousContext, input: input, response: response)
        )
        archive.keep(stored)
        return stored
    }
}

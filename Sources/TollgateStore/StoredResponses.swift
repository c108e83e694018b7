import Foundation
import GRDB
import TollgateCore

/// `stored_responses`: Responses objects kept for `GET /v1/responses/{id}` and
/// `previous_response_id`. Written with their request's row by the record writer.
public struct StoredResponses: Sendable {
    let pool: DatabasePool

    public init(store: SQLiteStore) {
        pool = store.pool
    }

    /// The stored response with this id, read off the caller's thread.
    public func find(_ id: String) async throws(StoreError) -> StoredResponse? {
        do {
            return try await pool.read { db -> StoredResponse? in
                guard let row = try Row.fetchOne(db, sql: "SELECT * FROM stored_responses WHERE response_id = ?", arguments: [id]) else {
                    return nil
                }
                return StoredResponse(
                    responseID: row["response_id"], requestID: row["request_id"], endpointName: row["endpoint_name"],
                    createdAt: UTCTimestamp.parse(row["created_at"] as String) ?? Date(timeIntervalSince1970: 0),
                    response: try JSONValue.parse(row["response"] as String),
                    inputItems: try JSONValue.parse(row["input_items"] as String).arrayValue ?? [],
                    contextItems: try JSONValue.parse(row["context_items"] as String).arrayValue ?? []
                )
            }
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read stored response \(id)", underlying: error)
        }
    }

    /// Deletes a stored response; whether there was one.
    public func delete(_ id: String) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(sql: "DELETE FROM stored_responses WHERE response_id = ?", arguments: [id])
                return db.changesCount > 0
            }
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot delete stored response \(id)", underlying: error)
        }
    }
}

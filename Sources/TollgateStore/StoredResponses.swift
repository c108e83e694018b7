import Foundation
import TollgateCore

/// `stored_responses`: Responses objects kept for `GET /v1/responses/{id}` and
/// `previous_response_id`. Written with their request's row by the record writer.
public struct StoredResponses: Sendable {
    let database: any SQLDatabase

    public init(database: any SQLDatabase) { self.database = database }

    /// The stored response with this id.
    public func find(_ id: String) async throws(StoreError) -> StoredResponse? {
        do {
            guard let row = try await database.read("SELECT * FROM stored_responses WHERE response_id = ?", [.text(id)]).first else {
                return nil
            }
            return StoredResponse(
                responseID: try row.requiredText("response_id"), requestID: try row.requiredText("request_id"),
                endpointName: try row.requiredText("endpoint_name"),
                createdAt: row.text("created_at").flatMap(UTCTimestamp.parse) ?? Date(timeIntervalSince1970: 0),
                response: try JSONValue.parse(try row.requiredText("response")),
                inputItems: try JSONValue.parse(try row.requiredText("input_items")).arrayValue ?? [],
                contextItems: try JSONValue.parse(try row.requiredText("context_items")).arrayValue ?? []
            )
        } catch {
            throw StoreError(code: .readFailed, message: "cannot read stored response \(id)", underlying: error)
        }
    }

    /// Deletes a stored response; whether there was one.
    public func delete(_ id: String) async throws(StoreError) -> Bool {
        do {
            let rows = try await database.write("DELETE FROM stored_responses WHERE response_id = ? RETURNING response_id", [.text(id)])
            return !rows.isEmpty
        } catch {
            throw StoreError(code: .writeFailed, message: "cannot delete stored response \(id)", underlying: error)
        }
    }
}

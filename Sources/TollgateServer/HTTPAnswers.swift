import HTTPTypes
import Hummingbird
import NIOCore

/// Response construction with the headers every answer carries.
enum HTTPAnswers {
    static let requestIDHeader = HTTPField.Name("x-request-id")!
    static let servedModelHeader = HTTPField.Name("served-model-name")!

    static func headers(requestID: String, entity: String?, contentType: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[requestIDHeader] = requestID
        headers[servedModelHeader] = entity ?? ""
        return headers
    }

    static func json(status: Int, body: ByteBuffer, requestID: String, entity: String?) -> Response {
        Response(
            status: .init(code: status),
            headers: headers(requestID: requestID, entity: entity, contentType: "application/json"),
            body: .init(byteBuffer: body)
        )
    }

    static func eventStream(requestID: String, entity: String?, body: ResponseBody) -> Response {
        var headers = headers(requestID: requestID, entity: entity, contentType: "text/event-stream")
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: body)
    }
}

/// One server-sent event: its `event:` name (if any) and its joined `data:` lines.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String?
    public var data: String

    public init(event: String? = nil, data: String) {
        self.event = event
        self.data = data
    }

    /// The event framed for the wire: `event: …\ndata: …\n\n`.
    public var encoded: String { encoded(withName: true) }

    /// `data:` lines only, the type staying inside the payload: what Databricks' invocations
    /// stream sends and `mlflow.deployments`' `predict_stream` reads (any other field is an error
    /// there).
    public var dataOnlyEncoded: String { encoded(withName: false) }

    private func encoded(withName: Bool) -> String {
        var out = ""
        if withName, let event { out += "event: \(event)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            out += "data: \(line)\n"
        }
        out += "\n"
        return out
    }
}

/// Incremental parser for `text/event-stream` bytes (WHATWG rules for lines, fields and
/// dispatch). Bytes arrive in arbitrary chunks; complete events come out as soon as their blank
/// line has been seen.
///
/// Hand-written rather than taken from `mattt/EventSource`: that parser is an actor fed one byte
/// per call, which costs an actor hop per byte on the relay path.
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var sawCR = false
    private var eventName: String?
    private var dataLines: [String] = []
    private var hasData = false
    /// Bytes fed so far.
    public private(set) var consumedByteCount = 0

    public init() {}

    /// Feeds bytes and returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            consumedByteCount += 1
            switch byte {
            case 0x0A where sawCR:
                sawCR = false
            case 0x0A, 0x0D:
                sawCR = byte == 0x0D
                if let event = endLine() { events.append(event) }
            default:
                sawCR = false
                line.append(byte)
            }
        }
        return events
    }

    /// Ends the stream: an event still open without its blank line is returned if it had data.
    public mutating func finish() -> ServerSentEvent? {
        if !line.isEmpty { _ = endLine() }
        return dispatch()
    }

    /// Bytes of a line not yet terminated (shown when a stream ends mid-line).
    public var pendingLine: String { String(decoding: line, as: UTF8.self) }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") { return nil }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let name = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = ""
        if let colon {
            var start = line.index(after: colon)
            if start < line.endIndex, line[start] == UInt8(ascii: " ") { start += 1 }
            value = String(decoding: line[start...], as: UTF8.self)
        }
        switch name {
        case "event": eventName = value
        case "data":
            dataLines.append(value)
            hasData = true
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventName = nil
            dataLines.removeAll()
            hasData = false
        }
        guard hasData else { return nil }
        return ServerSentEvent(event: eventName, data: dataLines.joined(separator: "\n"))
    }
}

/// Span events as stored (`[{name, time_unix_nano, attributes}]`) and read back.
public enum SpanEvents {
    public static func json(_ events: [SpanEvent]) -> JSONValue {
        .array(events.map { event in
            var attributes = JSONObject()
            for (key, value) in event.attributes.sorted(by: { $0.key < $1.key }) { attributes[key] = .string(value) }
            return ["name": .string(event.name), "time_unix_nano": .number(JSONNumber(event.timeNanos)), "attributes": .object(attributes)]
        })
    }

    public static func events(from json: JSONValue?) -> [SpanEvent] {
        (json?.arrayValue ?? []).map { item in
            var attributes: [String: String] = [:]
            for (key, value) in item["attributes"]?.objectValue?.pairs ?? [] { attributes[key] = value.stringValue ?? value.jsonText }
            return SpanEvent(
                name: item["name"]?.stringValue ?? "", timeNanos: item["time_unix_nano"]?.intValue.map { UInt64(max(0, $0)) } ?? 0,
                attributes: attributes
            )
        }
    }
}

import Foundation

/// Finds configuration keys no type reads: a decode runs through `KeyTrackingDecoder`, which
/// notes the keys each mapping holds and the keys the types ask for; the difference is unknown.
/// The known keys come from the types themselves, so the check cannot drift from the model.
final class KeyTracker: @unchecked Sendable {
    // Used by one synchronous decode on one thread; never shared.
    private var present: [String: (path: [any CodingKey], keys: [String])] = [:]
    private var asked: [String: Set<String>] = [:]

    /// Keys of Databricks' serving-endpoint API that Tollgate has no use for: accepted with a
    /// warning, so bodies sent by the databricks-sdk keep working.
    static let databricksOnly: Set<String> = [
        "catalog_name", "schema_name", "table_name_prefix", "budget_policy_id", "route_optimized", "workload_type",
        "environment_vars", "instance_profile_arn", "min_provisioned_throughput", "max_provisioned_throughput",
        "email_notifications", "description", "provisioned_model_units", "auto_capture_config", "usage_policy_id",
    ]

    func note(keys: [String], at path: [any CodingKey]) {
        let id = Self.render(path)
        if present[id] == nil { present[id] = (path, keys) }
    }

    func ask(_ key: String, at path: [any CodingKey]) {
        asked[Self.render(path), default: []].insert(key)
    }

    /// Unknown keys as errors and Databricks-only keys as warnings, in document order.
    func issues() -> (errors: [ConfigIssue], warnings: [ConfigIssue]) {
        var errors: [ConfigIssue] = []
        var warnings: [ConfigIssue] = []
        for (id, entry) in present.sorted(by: { $0.key < $1.key }) {
            let known = asked[id] ?? []
            for key in entry.keys where !known.contains(key) {
                let path = id.isEmpty ? key : "\(id).\(key)"
                if Self.databricksOnly.contains(key) {
                    warnings.append(ConfigIssue(path: path, message: "accepted for Databricks compatibility and ignored"))
                } else {
                    let hint = Self.closest(to: key, in: known).map { " (did you mean \($0)?)" } ?? ""
                    errors.append(ConfigIssue(path: path, message: "unknown key\(hint)"))
                }
            }
        }
        return (errors, warnings)
    }

    static func render(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue {
                out += "[\(index)]"
            } else if key.stringValue.hasPrefix("Index "), let index = Int(key.stringValue.dropFirst(6)) {
                out += "[\(index)]"
            } else {
                out += out.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return out
    }

    /// The known key nearest to `key` by edit distance, when it is near enough to be a typo.
    static func closest(to key: String, in known: Set<String>) -> String? {
        let scored = known.map { ($0, editDistance(key, $0)) }.filter { $0.1 <= max(2, key.count / 3) }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Decodes `Value` through a `KeyTrackingDecoder`.
struct KeyTracked<Value: Decodable>: Decodable {
    static var trackerKey: CodingUserInfoKey { CodingUserInfoKey(rawValue: "tollgate.keyTracker")! }

    let value: Value

    init(from decoder: any Decoder) throws {
        guard let tracker = decoder.userInfo[Self.trackerKey] as? KeyTracker else {
            value = try Value(from: decoder)
            return
        }
        value = try Value(from: KeyTrackingDecoder(base: decoder, tracker: tracker))
    }
}

struct KeyTrackingDecoder: Decoder {
    let base: any Decoder
    let tracker: KeyTracker

    var codingPath: [any CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let container = try base.container(keyedBy: type)
        if let raw = try? base.container(keyedBy: AnyCodingKey.self) {
            tracker.note(keys: raw.allKeys.map(\.stringValue), at: codingPath)
        }
        return KeyedDecodingContainer(TrackingKeyedContainer(base: container, tracker: tracker))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        TrackingUnkeyedContainer(base: try base.unkeyedContainer(), tracker: tracker)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { try base.singleValueContainer() }
}

/// Values that decoders read natively: decoded straight from the base container.
private protocol NativeConfigValue {}
extension String: NativeConfigValue {}
extension Bool: NativeConfigValue {}
extension Int: NativeConfigValue {}
extension Double: NativeConfigValue {}

struct TrackingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    var base: KeyedDecodingContainer<Key>
    let tracker: KeyTracker

    var codingPath: [any CodingKey] { base.codingPath }
    var allKeys: [Key] { base.allKeys }

    private func ask(_ key: Key) { tracker.ask(key.stringValue, at: codingPath) }

    func contains(_ key: Key) -> Bool {
        ask(key)
        return base.contains(key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        ask(key)
        return try base.decodeNil(forKey: key)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        ask(key)
        // Missing keys and plain scalars keep the base decoder's own errors and conversions.
        if T.self is any NativeConfigValue.Type || !base.contains(key) { return try base.decode(type, forKey: key) }
        return try T(from: KeyTrackingDecoder(base: try base.superDecoder(forKey: key), tracker: tracker))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        ask(key)
        return try KeyTrackingDecoder(base: try base.superDecoder(forKey: key), tracker: tracker).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        ask(key)
        return TrackingUnkeyedContainer(base: try base.nestedUnkeyedContainer(forKey: key), tracker: tracker)
    }

    func superDecoder() throws -> any Decoder { KeyTrackingDecoder(base: try base.superDecoder(), tracker: tracker) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ask(key)
        return KeyTrackingDecoder(base: try base.superDecoder(forKey: key), tracker: tracker)
    }
}

struct TrackingUnkeyedContainer: UnkeyedDecodingContainer {
    var base: any UnkeyedDecodingContainer
    let tracker: KeyTracker

    var codingPath: [any CodingKey] { base.codingPath }
    var count: Int? { base.count }
    var isAtEnd: Bool { base.isAtEnd }
    var currentIndex: Int { base.currentIndex }

    mutating func decodeNil() throws -> Bool { try base.decodeNil() }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self is any NativeConfigValue.Type { return try base.decode(type) }
        return try T(from: KeyTrackingDecoder(base: try base.superDecoder(), tracker: tracker))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try KeyTrackingDecoder(base: try base.superDecoder(), tracker: tracker).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        TrackingUnkeyedContainer(base: try base.nestedUnkeyedContainer(), tracker: tracker)
    }

    mutating func superDecoder() throws -> any Decoder { KeyTrackingDecoder(base: try base.superDecoder(), tracker: tracker) }
}

/// Decoding that refuses keys no type reads (file and admin API bodies alike).
public enum StrictDecoding {
    /// Decodes `data` (JSON); throws `ConfigError` naming every unknown key path, or the
    /// decoder's own `DecodingError`. Databricks-only keys come back as warnings.
    public static func decodeJSON<Value: Decodable>(_ type: Value.Type, from data: Data) throws -> (value: Value, warnings: [ConfigIssue]) {
        let tracker = KeyTracker()
        let decoder = JSONDecoder()
        decoder.userInfo[KeyTracked<Value>.trackerKey] = tracker
        let value = try decoder.decode(KeyTracked<Value>.self, from: data).value
        return (value, try check(tracker))
    }

    static func check(_ tracker: KeyTracker) throws(ConfigError) -> [ConfigIssue] {
        let (errors, warnings) = tracker.issues()
        if !errors.isEmpty { throw ConfigError(code: .invalid, issues: errors) }
        return warnings
    }
}

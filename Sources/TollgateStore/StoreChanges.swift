/// What changes in the store that every replica must see soon: keys and endpoints.
public enum StoreTopic: String, Sendable, CaseIterable {
    case keys
    case endpoints
}

/// Change counters (`store_changes`): every write of keys or endpoints bumps its topic's counter
/// in the same transaction, and every replica reads the counters a few times a second and
/// reloads a topic whose counter moved. One indexed read of a two-row table replaces
/// LISTEN/NOTIFY and works the same on SQLite and PostgreSQL, with no connection held open and
/// no notification lost while a replica is disconnected.
public enum StoreChanges {
    /// The statement to add to a write's transaction.
    public static func bump(_ topic: StoreTopic) -> SQLStatement {
        SQLStatement(
            "INSERT INTO store_changes (topic, version) VALUES (?, 1) ON CONFLICT (topic) DO UPDATE SET version = store_changes.version + 1",
            [.text(topic.rawValue)]
        )
    }

    /// Each topic's counter (0 for one never written).
    public static func versions(in database: any SQLDatabase) async throws(StoreError) -> [StoreTopic: Int] {
        var versions = Dictionary(uniqueKeysWithValues: StoreTopic.allCases.map { ($0, 0) })
        for row in try await database.read("SELECT topic, version FROM store_changes", []) {
            guard let topic = row.text("topic").flatMap(StoreTopic.init(rawValue:)) else { continue }
            versions[topic] = row.int("version") ?? 0
        }
        return versions
    }
}

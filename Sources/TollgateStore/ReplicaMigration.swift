import GRDB

/// `0008_replicas`: what several processes on one store share — the change counters every
/// replica watches and the rate-limit windows they lease from — and the replica each compute
/// sample was taken on.
enum ReplicaMigration {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("0008_replicas") { db in
            try db.execute(sql: """
                CREATE TABLE store_changes (
                    topic TEXT PRIMARY KEY NOT NULL,
                    version INTEGER NOT NULL
                );
                ALTER TABLE compute_usage ADD COLUMN replica TEXT;
                CREATE TABLE rate_limit_windows (
                    bucket TEXT PRIMARY KEY NOT NULL,
                    window_start INTEGER NOT NULL,
                    calls INTEGER NOT NULL,
                    tokens INTEGER NOT NULL,
                    granted_calls INTEGER NOT NULL,
                    granted_tokens INTEGER NOT NULL
                );
                """)
        }
    }
}

import GRDB

/// `0007_governance`: keys (only their hashes), and what governance records per request.
enum GovernanceMigration {
    static func register(in migrator: inout DatabaseMigrator) {
        migrator.registerMigration("0007_governance") { db in
            try db.execute(sql: """
                CREATE TABLE api_keys (
                    key_id TEXT PRIMARY KEY NOT NULL,
                    prefix TEXT NOT NULL,
                    key_hash TEXT NOT NULL UNIQUE,
                    owner TEXT NOT NULL,
                    groups TEXT NOT NULL DEFAULT '[]',
                    service_principal INTEGER NOT NULL DEFAULT 0,
                    description TEXT,
                    created_at TEXT NOT NULL,
                    expires_at TEXT,
                    last_used_at TEXT,
                    revoked_at TEXT
                );
                ALTER TABLE inference_table ADD COLUMN key_id TEXT;
                ALTER TABLE inference_table ADD COLUMN requester_groups TEXT;
                ALTER TABLE inference_table ADD COLUMN fallback_attempts TEXT;
                ALTER TABLE inference_table ADD COLUMN guardrails TEXT;
                ALTER TABLE inference_table ADD COLUMN rate_limit TEXT;
                ALTER TABLE endpoint_usage ADD COLUMN key_id TEXT;
                """)
        }
    }
}

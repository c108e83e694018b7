import Logging
import PostgresNIO
import TollgateStore

/// Append-only, numbered schema migrations for PostgreSQL, the counterpart of the SQLite
/// store's. Never edit a shipped migration: add the next one. Replicas starting together take
/// an advisory lock, so exactly one applies each migration.
enum PostgresMigrations {
    struct Migration {
        var id: String
        var sql: [String]
    }

    /// Column types follow the SQLite schema (TEXT, BIGINT for integers, DOUBLE PRECISION for
    /// reals) so that the same rows and the same queries read the same on both backends.
    static let all: [Migration] = [
        Migration(id: "0001_records", sql: [
            """
            CREATE TABLE inference_table (
                request_id TEXT PRIMARY KEY NOT NULL, client_request_id TEXT, request_date TEXT NOT NULL, request_time TEXT NOT NULL,
                endpoint_name TEXT NOT NULL, served_entity_name TEXT, served_entity_id TEXT, api TEXT NOT NULL, stream BIGINT NOT NULL,
                status_code BIGINT NOT NULL, execution_duration_ms BIGINT, time_to_first_token_ms BIGINT,
                sampling_fraction DOUBLE PRECISION NOT NULL DEFAULT 1.0, request TEXT, response TEXT, stream_end TEXT,
                logging_error_codes TEXT NOT NULL DEFAULT '[]', requester TEXT, trace_id TEXT, cold_start_ms BIGINT, key_id TEXT,
                requester_groups TEXT, fallback_attempts TEXT, guardrails TEXT, rate_limit TEXT
            )
            """,
            """
            CREATE TABLE endpoint_usage (
                request_id TEXT PRIMARY KEY NOT NULL, client_request_id TEXT, endpoint_name TEXT NOT NULL, served_entity_name TEXT,
                served_entity_id TEXT, requester TEXT, status_code BIGINT NOT NULL, request_time TEXT NOT NULL, input_token_count BIGINT,
                output_token_count BIGINT, token_count_source TEXT, request_streaming BIGINT NOT NULL, usage_context TEXT,
                cost_usd DOUBLE PRECISION, key_id TEXT
            )
            """,
            """
            CREATE TABLE traces (
                trace_id TEXT PRIMARY KEY NOT NULL, request_id TEXT NOT NULL, client_request_id TEXT, endpoint_name TEXT NOT NULL,
                request_time TEXT NOT NULL, state TEXT NOT NULL, execution_duration_ms BIGINT, input_tokens BIGINT, output_tokens BIGINT
            )
            """,
            "CREATE INDEX traces_endpoint_time ON traces(endpoint_name, request_time)",
            """
            CREATE TABLE spans (
                trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_span_id TEXT, name TEXT NOT NULL, span_type TEXT NOT NULL,
                start_time_unix_nano BIGINT NOT NULL, end_time_unix_nano BIGINT NOT NULL, status_code TEXT NOT NULL, status_message TEXT,
                inputs TEXT, outputs TEXT, outputs_from_response BIGINT NOT NULL DEFAULT 0, input_tokens BIGINT, output_tokens BIGINT,
                attributes TEXT NOT NULL, events TEXT NOT NULL, PRIMARY KEY (trace_id, span_id)
            )
            """,
            """
            CREATE TABLE stored_responses (
                response_id TEXT PRIMARY KEY NOT NULL, request_id TEXT NOT NULL, endpoint_name TEXT NOT NULL, created_at TEXT NOT NULL,
                response TEXT NOT NULL, input_items TEXT NOT NULL, context_items TEXT NOT NULL
            )
            """,
        ]),
        Migration(id: "0002_api_keys", sql: [
            // Times are ISO 8601 text, as on SQLite, so both backends order and compare them alike.
            """
            CREATE TABLE api_keys (
                key_id TEXT PRIMARY KEY NOT NULL, prefix TEXT NOT NULL, key_hash TEXT NOT NULL UNIQUE, owner TEXT NOT NULL,
                groups TEXT NOT NULL DEFAULT '[]', service_principal BIGINT NOT NULL DEFAULT 0, description TEXT, created_at TEXT NOT NULL,
                expires_at TEXT, last_used_at TEXT, revoked_at TEXT
            )
            """,
        ]),
        Migration(id: "0003_endpoints_and_changes", sql: [
            """
            CREATE TABLE serving_endpoints (
                name TEXT PRIMARY KEY NOT NULL, config_version BIGINT NOT NULL, definition TEXT NOT NULL, file_definition TEXT,
                config_update TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE endpoint_config_history (
                endpoint_name TEXT NOT NULL, config_version BIGINT NOT NULL, definition TEXT NOT NULL, reason TEXT NOT NULL,
                applied_at TEXT NOT NULL, PRIMARY KEY (endpoint_name, config_version)
            )
            """,
            """
            CREATE TABLE served_entity_versions (
                endpoint_name TEXT NOT NULL, entity_name TEXT NOT NULL, served_entity_id TEXT NOT NULL, definition TEXT NOT NULL,
                state TEXT NOT NULL, created_at TEXT NOT NULL, zero_traffic_since TEXT, retired_at TEXT, retired_reason TEXT,
                PRIMARY KEY (endpoint_name, entity_name)
            )
            """,
            """
            CREATE TABLE compute_usage (
                endpoint_name TEXT NOT NULL, entity_name TEXT NOT NULL, served_entity_id TEXT NOT NULL, sampled_at TEXT NOT NULL,
                interval_seconds DOUBLE PRECISION NOT NULL, cpu_seconds DOUBLE PRECISION NOT NULL, rss_bytes BIGINT NOT NULL,
                running BIGINT NOT NULL, cost_usd DOUBLE PRECISION, replica TEXT
            )
            """,
            "CREATE INDEX compute_usage_entity ON compute_usage(endpoint_name, entity_name, sampled_at)",
            "CREATE TABLE store_changes (topic TEXT PRIMARY KEY NOT NULL, version BIGINT NOT NULL)",
            """
            CREATE TABLE rate_limit_windows (
                bucket TEXT PRIMARY KEY NOT NULL, window_start BIGINT NOT NULL, calls BIGINT NOT NULL, tokens BIGINT NOT NULL,
                granted_calls BIGINT NOT NULL, granted_tokens BIGINT NOT NULL
            )
            """,
        ]),
        // Day partitions (PostgresPartitions creates each day's; rows outside them wait in the
        // default partition). A partitioned table's key must hold its partition column.
        Migration(id: "0004_day_partitions", sql: [
            "ALTER TABLE inference_table RENAME TO inference_table_unpartitioned",
            "CREATE TABLE inference_table (LIKE inference_table_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (request_time)",
            "CREATE TABLE inference_table_default PARTITION OF inference_table DEFAULT",
            "INSERT INTO inference_table SELECT * FROM inference_table_unpartitioned",
            "DROP TABLE inference_table_unpartitioned",
            "ALTER TABLE inference_table ADD PRIMARY KEY (request_id, request_time)",
            "ALTER TABLE endpoint_usage RENAME TO endpoint_usage_unpartitioned",
            "CREATE TABLE endpoint_usage (LIKE endpoint_usage_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (request_time)",
            "CREATE TABLE endpoint_usage_default PARTITION OF endpoint_usage DEFAULT",
            "INSERT INTO endpoint_usage SELECT * FROM endpoint_usage_unpartitioned",
            "DROP TABLE endpoint_usage_unpartitioned",
            "ALTER TABLE endpoint_usage ADD PRIMARY KEY (request_id, request_time)",
            "ALTER TABLE spans RENAME TO spans_unpartitioned",
            "CREATE TABLE spans (LIKE spans_unpartitioned INCLUDING DEFAULTS) PARTITION BY RANGE (start_time_unix_nano)",
            "CREATE TABLE spans_default PARTITION OF spans DEFAULT",
            "INSERT INTO spans SELECT * FROM spans_unpartitioned",
            "DROP TABLE spans_unpartitioned",
            "ALTER TABLE spans ADD PRIMARY KEY (trace_id, span_id, start_time_unix_nano)",
        ]),
        PostgresPipelineSchema.migration,
    ]

    /// A fixed key for `pg_advisory_xact_lock`: "tollgate" in ASCII.
    static let lockKey: Int64 = 0x746F_6C6C_6761_7465

    /// Applies every migration the database has not seen, in one transaction under the lock.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            // A migration may copy a large table (0004), and replicas starting meanwhile wait for
            // the lock as long as it takes: neither is bound by the connections' 60 s.
            try await connection.query("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS tollgate_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger
            )
            var applied: Set<String> = []
            for try await id in try await connection.query("SELECT id FROM tollgate_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            for migration in all where !applied.contains(migration.id) {
                for statement in migration.sql { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await connection.query("INSERT INTO tollgate_migrations (id) VALUES (\(migration.id))", logger: logger)
                logger.info("store migrated", metadata: ["migration": "\(migration.id)"])
            }
        }
    }
}

import GRDB

/// Append-only, numbered schema migrations. Never edit a shipped migration: add the next one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001_inference_and_usage") { db in
            try db.execute(sql: """
                CREATE TABLE inference_table (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    client_request_id TEXT,
                    request_date TEXT NOT NULL,
                    request_time TEXT NOT NULL,
                    endpoint_name TEXT NOT NULL,
                    served_entity_name TEXT,
                    served_entity_id TEXT,
                    api TEXT NOT NULL,
                    stream INTEGER NOT NULL,
                    status_code INTEGER NOT NULL,
                    execution_duration_ms INTEGER,
                    time_to_first_token_ms INTEGER,
                    sampling_fraction REAL NOT NULL DEFAULT 1.0,
                    request TEXT,
                    response TEXT,
                    stream_end TEXT,
                    logging_error_codes TEXT NOT NULL DEFAULT '[]',
                    requester TEXT,
                    trace_id TEXT
                );
                CREATE TABLE endpoint_usage (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    client_request_id TEXT,
                    endpoint_name TEXT NOT NULL,
                    served_entity_name TEXT,
                    served_entity_id TEXT,
                    requester TEXT,
                    status_code INTEGER NOT NULL,
                    request_time TEXT NOT NULL,
                    input_token_count INTEGER,
                    output_token_count INTEGER,
                    token_count_source TEXT,
                    request_streaming INTEGER NOT NULL,
                    usage_context TEXT
                );
                """)
        }
        migrator.registerMigration("0002_traces") { db in
            // Traces are stored as rows; the MLflow JSON is rendered when a trace is read, so the
            // record writer never renders or stores a document per request.
            try db.execute(sql: """
                CREATE TABLE traces (
                    trace_id TEXT PRIMARY KEY NOT NULL,
                    request_id TEXT NOT NULL,
                    client_request_id TEXT,
                    endpoint_name TEXT NOT NULL,
                    request_time TEXT NOT NULL,
                    state TEXT NOT NULL,
                    execution_duration_ms INTEGER,
                    input_tokens INTEGER,
                    output_tokens INTEGER
                );
                CREATE INDEX traces_endpoint_time ON traces(endpoint_name, request_time);
                CREATE TABLE spans (
                    trace_id TEXT NOT NULL,
                    span_id TEXT NOT NULL,
                    parent_span_id TEXT,
                    name TEXT NOT NULL,
                    span_type TEXT NOT NULL,
                    start_time_unix_nano INTEGER NOT NULL,
                    end_time_unix_nano INTEGER NOT NULL,
                    status_code TEXT NOT NULL,
                    status_message TEXT,
                    inputs TEXT,
                    outputs TEXT,
                    outputs_from_response INTEGER NOT NULL DEFAULT 0,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    attributes TEXT NOT NULL,
                    events TEXT NOT NULL,
                    PRIMARY KEY (trace_id, span_id)
                );
                """)
        }
        migrator.registerMigration("0003_pipeline") { db in
            try db.execute(sql: """
                CREATE TABLE silver_events (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    source_rowid INTEGER NOT NULL,
                    request_time TEXT NOT NULL,
                    request_date TEXT NOT NULL,
                    endpoint_name TEXT NOT NULL,
                    served_entity_name TEXT,
                    requester TEXT,
                    client_request_id TEXT,
                    api TEXT NOT NULL,
                    stream INTEGER NOT NULL,
                    status_code INTEGER NOT NULL,
                    stream_end TEXT,
                    execution_duration_ms INTEGER,
                    time_to_first_token_ms INTEGER,
                    trace_id TEXT,
                    response_shape TEXT NOT NULL,
                    model TEXT,
                    response_text TEXT,
                    finish_reason TEXT,
                    error_type TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    error_body TEXT,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    total_tokens INTEGER,
                    cached_tokens INTEGER,
                    reasoning_tokens INTEGER,
                    token_source TEXT,
                    filters TEXT NOT NULL,
                    span_count INTEGER,
                    trace_exception INTEGER NOT NULL,
                    request_preview TEXT,
                    parse_problems TEXT NOT NULL
                );
                CREATE TABLE gold_requests (
                    request_id TEXT PRIMARY KEY NOT NULL,
                    request_time TEXT NOT NULL,
                    request_date TEXT NOT NULL,
                    endpoint_name TEXT NOT NULL,
                    served_entity_name TEXT,
                    requester TEXT,
                    client_request_id TEXT,
                    api TEXT NOT NULL,
                    stream INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    inference_case TEXT NOT NULL,
                    status_code INTEGER NOT NULL,
                    blocked_by TEXT,
                    error_type TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    model TEXT,
                    finish_reason TEXT,
                    input_tokens INTEGER,
                    output_tokens INTEGER,
                    total_tokens INTEGER,
                    cached_tokens INTEGER,
                    reasoning_tokens INTEGER,
                    token_count_source TEXT,
                    execution_duration_ms INTEGER,
                    time_to_first_token_ms INTEGER,
                    request_preview TEXT,
                    response_preview TEXT,
                    response_chars INTEGER NOT NULL,
                    trace_id TEXT,
                    span_count INTEGER
                );
                CREATE INDEX gold_requests_endpoint_date ON gold_requests(endpoint_name, request_date);
                CREATE TABLE gold_filter_results (
                    request_id TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    category TEXT NOT NULL,
                    filtered INTEGER NOT NULL,
                    severity TEXT,
                    detected INTEGER,
                    PRIMARY KEY (request_id, stage, category)
                );
                CREATE TABLE quarantine (
                    request_id TEXT NOT NULL,
                    dataset TEXT NOT NULL,
                    failed_expectations TEXT NOT NULL,
                    row_json TEXT NOT NULL,
                    quarantined_at TEXT NOT NULL,
                    PRIMARY KEY (request_id, dataset)
                );
                CREATE TABLE pipeline_events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    timestamp TEXT NOT NULL,
                    event_type TEXT NOT NULL,
                    flow_name TEXT NOT NULL,
                    update_id TEXT NOT NULL,
                    level TEXT NOT NULL,
                    message TEXT NOT NULL,
                    details TEXT NOT NULL
                );
                CREATE TABLE pipeline_checkpoints (
                    flow_name TEXT PRIMARY KEY NOT NULL,
                    last_rowid INTEGER NOT NULL,
                    updated_at TEXT NOT NULL
                );
                """)
        }
        // Filter results are small rows read by request: one B-tree clustered on the key instead
        // of a table plus an index halves what each pipeline batch writes into it.
        migrator.registerMigration("0004_filter_results_clustered") { db in
            try db.execute(sql: """
                CREATE TABLE gold_filter_results_clustered (
                    request_id TEXT NOT NULL,
                    stage TEXT NOT NULL,
                    category TEXT NOT NULL,
                    filtered INTEGER NOT NULL,
                    severity TEXT,
                    detected INTEGER,
                    PRIMARY KEY (request_id, stage, category)
                ) WITHOUT ROWID;
                INSERT INTO gold_filter_results_clustered SELECT request_id, stage, category, filtered, severity, detected FROM gold_filter_results;
                DROP TABLE gold_filter_results;
                ALTER TABLE gold_filter_results_clustered RENAME TO gold_filter_results;
                """)
        }
        migrator.registerMigration("0005_lifecycle") { db in
            try db.execute(sql: """
                ALTER TABLE inference_table ADD COLUMN cold_start_ms INTEGER;
                ALTER TABLE endpoint_usage ADD COLUMN cost_usd REAL;
                CREATE TABLE serving_endpoints (
                    name TEXT PRIMARY KEY NOT NULL,
                    config_version INTEGER NOT NULL,
                    definition TEXT NOT NULL,
                    file_definition TEXT,
                    config_update TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE endpoint_config_history (
                    endpoint_name TEXT NOT NULL,
                    config_version INTEGER NOT NULL,
                    definition TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    applied_at TEXT NOT NULL,
                    PRIMARY KEY (endpoint_name, config_version)
                );
                CREATE TABLE served_entity_versions (
                    endpoint_name TEXT NOT NULL,
                    entity_name TEXT NOT NULL,
                    served_entity_id TEXT NOT NULL,
                    definition TEXT NOT NULL,
                    state TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    zero_traffic_since TEXT,
                    retired_at TEXT,
                    retired_reason TEXT,
                    PRIMARY KEY (endpoint_name, entity_name)
                );
                CREATE TABLE compute_usage (
                    endpoint_name TEXT NOT NULL,
                    entity_name TEXT NOT NULL,
                    served_entity_id TEXT NOT NULL,
                    sampled_at TEXT NOT NULL,
                    interval_seconds REAL NOT NULL,
                    cpu_seconds REAL NOT NULL,
                    rss_bytes INTEGER NOT NULL,
                    running INTEGER NOT NULL,
                    cost_usd REAL
                );
                CREATE INDEX compute_usage_entity ON compute_usage(endpoint_name, entity_name, sampled_at);
                """)
        }
        migrator.registerMigration("0006_stored_responses") { db in
            try db.execute(sql: """
                CREATE TABLE stored_responses (
                    response_id TEXT PRIMARY KEY NOT NULL,
                    request_id TEXT NOT NULL,
                    endpoint_name TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    response TEXT NOT NULL,
                    input_items TEXT NOT NULL,
                    context_items TEXT NOT NULL
                );
                """)
        }
        GovernanceMigration.register(in: &migrator)
        ReplicaMigration.register(in: &migrator)
        return migrator
    }
}

import TollgateCore

/// `rate_limit_windows`: one row per limit bucket shared by the replicas — the window it is in
/// and what has been granted from it — changed only by `grant`'s single atomic statement.
enum RateLimitWindows {
    struct Grant: Sendable, Equatable {
        /// The window the grant is from (ms since 1970).
        var windowStart: Int64
        /// Every replica's grants in this window, this one included.
        var calls: Int
        var tokens: Int
        /// What this call got: at most what was asked, at most what the window had left.
        var grantedCalls: Int
        var grantedTokens: Int
        var offline = false
    }

    /// The bucket's key column: its parts as a JSON array, so no two buckets share a key.
    static func key(_ bucket: LimitBucketID) -> String {
        JSONValue.array([bucket.endpoint, bucket.key.rawValue, bucket.rulePrincipal, bucket.owner].map { $0.map(JSONValue.string) ?? .null }).jsonText
    }

    /// Grants up to `want` of each limited dimension (`(limit, want)`; nil = unlimited) from the
    /// bucket's window, opening a new window when the stored one has ended. Integers are written
    /// into the statement (they are computed here, never a client's text); the key is bound.
    static func grant(
        in database: any SQLDatabase, bucket: LimitBucketID, now: Int64, period: Int64, calls: (limit: Int, want: Int)?,
        tokens: (limit: Int, want: Int)?
    ) async throws(StoreError) -> Grant {
        let expired = "\(now) >= window_start + \(period)"
        func granted(_ column: String, _ dimension: (limit: Int, want: Int)?) -> String {
            guard let (limit, want) = dimension else { return "0" }
            let base = "(CASE WHEN \(expired) THEN 0 ELSE \(column) END)"
            return "(CASE WHEN \(limit) - \(base) >= \(max(0, want)) THEN \(max(0, want)) WHEN \(limit) - \(base) > 0 THEN \(limit) - \(base) ELSE 0 END)"
        }
        let callGrant = granted("calls", calls)
        let tokenGrant = granted("tokens", tokens)
        let key = StoreValue.text(key(bucket))
        let rows = try await database.write([
            SQLStatement(
                """
                INSERT INTO rate_limit_windows (bucket, window_start, calls, tokens, granted_calls, granted_tokens)
                VALUES (?, \(now), 0, 0, 0, 0) ON CONFLICT (bucket) DO NOTHING
                """,
                [key]
            ),
            SQLStatement(
                """
                UPDATE rate_limit_windows SET
                  window_start = CASE WHEN \(expired) THEN \(now) ELSE window_start END,
                  calls = (CASE WHEN \(expired) THEN 0 ELSE calls END) + \(callGrant),
                  tokens = (CASE WHEN \(expired) THEN 0 ELSE tokens END) + \(tokenGrant),
                  granted_calls = \(callGrant), granted_tokens = \(tokenGrant)
                WHERE bucket = ?
                RETURNING window_start, calls, tokens, granted_calls, granted_tokens
                """,
                [key], mustReturnRows: true
            ),
        ])
        guard let row = rows.last?.first, let start = row["window_start"].int else {
            throw StoreError(code: .readFailed, message: "rate_limit_windows returned no window")
        }
        return Grant(
            windowStart: Int64(start), calls: row.int("calls") ?? 0, tokens: row.int("tokens") ?? 0,
            grantedCalls: row.int("granted_calls") ?? 0, grantedTokens: row.int("granted_tokens") ?? 0
        )
    }
}

/// One statement with its arguments, written with `?` placeholders on every backend.
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [StoreValue]
    /// When set, a statement that returns no row (`RETURNING …` matched nothing) rolls the whole
    /// transaction back and fails it with `StoreError.Code.conflict`: how a write says "only if
    /// nobody changed this meanwhile" on every backend.
    public var mustReturnRows: Bool

    public init(_ sql: String, _ arguments: [StoreValue] = [], mustReturnRows: Bool = false) {
        self.sql = sql
        self.arguments = arguments
        self.mustReturnRows = mustReturnRows
    }
}

/// One result row: column names and values in the order the query selected them.
public struct SQLRow: Sendable, Equatable {
    public let columns: [String]
    public let values: [StoreValue]

    public init(columns: [String], values: [StoreValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of a column by name (`.null` when the query selected no such column).
    public subscript(_ column: String) -> StoreValue {
        guard let index = columns.firstIndex(of: column) else { return .null }
        return values[index]
    }

    public func text(_ column: String) -> String? { self[column].text }
    public func int(_ column: String) -> Int? { self[column].int }
    public func double(_ column: String) -> Double? { self[column].double }

    /// A column the schema declares NOT NULL; a NULL or missing one is a broken store.
    public func requiredText(_ column: String) throws(StoreError) -> String {
        guard let text = self[column].text else {
            throw StoreError(code: .readFailed, message: "column \(column) is missing or not text")
        }
        return text
    }
}

extension StoreValue {
    public var text: String? {
        if case .text(let text) = self { return text }
        return nil
    }

    /// Integers, and reals that are whole numbers (PostgreSQL's `SUM` of integers is `numeric`).
    public var int: Int? {
        switch self {
        case .int(let int): Int(exactly: int)
        case .real(let double): Int(exactly: double)
        default: nil
        }
    }

    public var double: Double? {
        switch self {
        case .real(let double): double
        case .int(let int): Double(int)
        default: nil
        }
    }

    public var isNull: Bool { self == .null }
}

/// What every store backend answers: plain SQL over the same schema. The queries above it
/// (endpoints, traces, cost, keys, stored responses) are written once, in SQL both SQLite and
/// PostgreSQL speak: `?` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`, no
/// backend-specific functions.
public protocol SQLDatabase: Sendable {
    /// Runs a query off the caller's thread.
    func read(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow]

    /// Runs the statements in order in one transaction; the rows each returned.
    @discardableResult
    func write(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]]

    /// Runs a user's query (`tollgate sql`) where it cannot change anything: a read-only
    /// connection or transaction.
    func readOnly(_ sql: String) async throws(StoreError) -> [SQLRow]

    /// A name for messages, without secrets (`sqlite:tollgate.db`, `postgres://db.internal:5432/tollgate`).
    var displayName: String { get }
}

extension SQLDatabase {
    public func read(_ sql: String) async throws(StoreError) -> [SQLRow] { try await read(sql, []) }

    @discardableResult
    public func write(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow] {
        try await write([SQLStatement(sql, arguments)]).first ?? []
    }
}

/// Rewrites `?` placeholders as PostgreSQL's `$1, $2, …`, leaving quoted text and identifiers alone.
public enum NumberedPlaceholders {
    public static func rewrite(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var quote: Character?
        for character in sql {
            if let open = quote {
                if character == open { quote = nil }
                result.append(character)
            } else if character == "'" || character == "\"" {
                quote = character
                result.append(character)
            } else if character == "?" {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }
}

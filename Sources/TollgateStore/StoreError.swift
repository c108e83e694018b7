/// Why the store could not be opened or written.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unsupportedURL = "store_unsupported_url"
        case openFailed = "store_open_failed"
        case migrationFailed = "store_migration_failed"
        case writeFailed = "store_write_failed"
        case readFailed = "store_read_failed"
        /// A conditional write found the row changed by someone else (another replica).
        case conflict = "store_conflict"
    }

    public var code: Code
    public var message: String
    public var underlying: (any Error)?

    public init(code: Code, message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        underlying.map { "\(message): \($0)" } ?? message
    }
}

import Testing
import TollgateStore

@testable import TollgatePostgres

@Suite("postgres:// store URLs")
struct PostgresURLTests {
    @Test func aFullURLIsReadAsLibpqReadsIt() throws {
        let url = try PostgresURL("postgres://alice:p%40ss%3Aword@db.example.com:6543/tollgate_prod?sslmode=require")
        #expect(url == PostgresURL.fixture(host: "db.example.com", port: 6543, user: "alice", password: "p@ss:word", database: "tollgate_prod", sslMode: "require"))
        #expect(url.redacted == "postgres://alice:***@db.example.com:6543/tollgate_prod")
    }

    @Test func portAndDatabaseDefaultAsInLibpq() throws {
        let url = try PostgresURL("postgresql://tollgate@127.0.0.1")
        #expect(url.port == 5432)
        #expect(url.database == "tollgate")
        #expect(url.password == nil)
        #expect(url.sslMode == "prefer")
    }

    @Test(arguments: [
        "sqlite:tollgate.db", "postgres://", "postgres://127.0.0.1/db", "postgres://u@/db", "postgres://u@h:0/db",
        "postgres://u@h:70000/db", "postgres://u@h/db?sslmode=verify-full", "postgres://u@h/db?sslmode", "postgres://u@h/db?timeout=5",
    ])
    func malformedURLsAreRefused(_ text: String) {
        #expect(throws: StoreError.self) { try PostgresURL(text) }
    }
}

extension PostgresURL {
    static func fixture(host: String, port: Int, user: String, password: String?, database: String, sslMode: String) -> PostgresURL {
        var url = try! PostgresURL("postgres://x@y")
        url.host = host
        url.port = port
        url.user = user
        url.password = password
        url.database = database
        url.sslMode = sslMode
        return url
    }
}

import Foundation
import Synchronization
import Testing
import TollgateCore
import TollgateStore

/// A wall clock the test moves by hand.
final class ManualWallClock: Sendable {
    private let time = Mutex(Date(timeIntervalSince1970: 1_767_323_000))
    var now: Date { time.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { time.withLock { $0 += seconds } }
}

/// A database that refuses everything, as an unreachable PostgreSQL does.
struct UnreachableDatabase: SQLDatabase {
    var displayName: String { "postgres://nowhere" }
    func read(_ sql: String, _ arguments: [StoreValue]) async throws(StoreError) -> [SQLRow] { throw Self.refusal }
    func write(_ statements: [SQLStatement]) async throws(StoreError) -> [[SQLRow]] { throw Self.refusal }
    func readOnly(_ sql: String) async throws(StoreError) -> [SQLRow] { throw Self.refusal }
    static let refusal = StoreError(code: .readFailed, message: "connection refused")
}

/// Limits counted in the store and shared by replicas: each `SharedRateLimiter` here is one
/// replica's, all on the same database.
@Suite("Shared rate limits, on SQLite and PostgreSQL")
struct SharedRateLimiterTests {
    static let alice = Requester(name: "alice@example.com", groups: ["data-eng"])

    static func ask(_ limiter: SharedRateLimiter, _ rules: [RateLimitRule], tokens: Int = 0, who: Requester? = alice) async -> LimitTicket? {
        if case .admitted(let ticket, _) = await limiter.admit(LimitRequest(endpoint: "chat", rules: rules, requester: who, tokens: tokens)) {
            return ticket
        }
        return nil
    }

    /// `requests` admissions on each replica, `concurrency` at a time per replica; returns each replica's count.
    static func load(
        _ replicas: [SharedRateLimiter], rules: [RateLimitRule], requests: Int, concurrency: Int, tokens: Int = 0, settleTo: Int? = nil
    ) async -> [Int] {
        await withTaskGroup(of: (Int, Int).self) { group in
            for (index, limiter) in replicas.enumerated() {
                for worker in 0..<concurrency {
                    group.addTask {
                        var admitted = 0
                        for _ in stride(from: worker, to: requests, by: concurrency) {
                            guard let ticket = await ask(limiter, rules, tokens: tokens) else { continue }
                            admitted += 1
                            if let settleTo { limiter.settle(ticket, totalTokens: settleTo) }
                        }
                        return (index, admitted)
                    }
                }
            }
            var counts = Array(repeating: 0, count: replicas.count)
            for await (index, admitted) in group { counts[index] += admitted }
            return counts
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func twoReplicasUnderLoadAdmitTheLimitAndNoMore(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let replicas = (0..<2).map { _ in SharedRateLimiter(database: store.database) { clock.now } }
            let rules = [RateLimitRule(key: .endpoint, calls: 300)]
            let counts = await Self.load(replicas, rules: rules, requests: 400, concurrency: 32)
            let total = counts.reduce(0, +)
            #expect(total <= 300)
            #expect(total >= 300 - replicas.count)
            #expect(counts.allSatisfy { $0 > 0 })
            // The next window starts full again, for both.
            clock.advance(61)
            #expect(await Self.ask(replicas[0], rules) != nil)
            #expect(await Self.ask(replicas[1], rules) != nil)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func tokensSettledBelowTheReservationAreRefundedAndTheTotalHoldsWithinTwoPercent(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let replicas = (0..<2).map { _ in SharedRateLimiter(database: store.database) { clock.now } }
            let rules = [RateLimitRule(key: .user, tokens: 100_000)]
            // Each request reserves 100 tokens and uses 50: about 2,000 fit in the window.
            let counts = await Self.load(replicas, rules: rules, requests: 1_500, concurrency: 16, tokens: 100, settleTo: 50)
            let used = counts.reduce(0, +) * 50
            #expect(used <= 100_000)
            #expect(Double(used) >= 0.98 * 100_000)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aStreamPastItsBudgetIsCutAcrossReplicas(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let first = SharedRateLimiter(database: store.database) { clock.now }
            let second = SharedRateLimiter(database: store.database) { clock.now }
            let rules = [RateLimitRule(key: .endpoint, tokens: 1_000)]
            let other = try #require(await Self.ask(second, rules, tokens: 600))
            let stream = try #require(await Self.ask(first, rules, tokens: 100))
            #expect(await first.charge(stream, tokensSoFar: 300))
            #expect(await first.charge(stream, tokensSoFar: 500) == false)
            second.settle(other, totalTokens: 600)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aStreamUnderACallsOnlyLimitIsNeverCutForItsTokens(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let limiter = SharedRateLimiter(database: store.database) { clock.now }
            let rules = [RateLimitRule(key: .endpoint, calls: 10)]
            let stream = try #require(await Self.ask(limiter, rules, tokens: 100))
            #expect(await limiter.charge(stream, tokensSoFar: 5_000))
            #expect(await limiter.charge(stream, tokensSoFar: 1_000_000))
            limiter.settle(stream, totalTokens: 1_000_000)
            var admitted = 1
            for _ in 0..<20 {
                if await Self.ask(limiter, rules, tokens: 100) != nil { admitted += 1 }
            }
            #expect(admitted == 10)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aRequestLargerThanTheGrantInFlightStillGetsItsOwn(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let limiter = SharedRateLimiter(database: store.database) { clock.now }
            let rules = [RateLimitRule(key: .endpoint, tokens: 100_000)]
            // Small requests and one that needs more than a small request's slice, all at once.
            async let small = Self.load([limiter], rules: rules, requests: 40, concurrency: 8, tokens: 10)
            async let large = Self.ask(limiter, rules, tokens: 60_000)
            let (_, big) = await (small, large)
            #expect(big != nil)
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func groupsAndPrincipalsMeanWhatTheyMeanInOneProcess(_ backend: StoreBackend) async throws {
        try await backend.withStore { store in
            let clock = ManualWallClock()
            let limiter = SharedRateLimiter(database: store.database) { clock.now }
            let carol = Requester(name: "carol@example.com", groups: ["a", "b"])
            let rules = [
                RateLimitRule(key: .userGroup, principal: "a", calls: 1), RateLimitRule(key: .userGroup, principal: "b", calls: 2),
                RateLimitRule(key: .user, principal: "dave@example.com", calls: 1), RateLimitRule(key: .user, calls: 5),
            ]
            // A member of two groups is refused only once both are over; a call is charged to
            // every group with room, so group b's second call is the last.
            var admitted = 0
            for _ in 0..<5 {
                if await Self.ask(limiter, rules, who: carol) != nil { admitted += 1 }
            }
            #expect(admitted == 2)
            let dave = Requester(name: "dave@example.com", groups: ["a"])
            #expect(await Self.ask(limiter, rules, who: dave) != nil)
            #expect(await Self.ask(limiter, rules, who: dave) == nil)
        }
    }

    @Test func anUnreachableStoreLeavesEachReplicaTheLimitOnItsOwnPerWindow() async {
        let clock = ManualWallClock()
        let limiter = SharedRateLimiter(database: UnreachableDatabase()) { clock.now }
        let rules = [RateLimitRule(key: .endpoint, calls: 5)]
        var admitted = 0
        for _ in 0..<8 {
            if await Self.ask(limiter, rules) != nil { admitted += 1 }
        }
        #expect(admitted == 5)
        clock.advance(61)
        #expect(await Self.ask(limiter, rules) != nil)
    }
}

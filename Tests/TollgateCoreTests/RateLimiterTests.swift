import Synchronization
import Testing
@testable import TollgateCore

/// A clock the test moves by hand, so window behavior is checked without waiting or timing.
private final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
}

private let alice = Requester(name: "alice@example.com")
private let bob = Requester(name: "bob@example.com")

private func limiter(_ clock: ManualClock, cap: Int = LocalRateLimiter.defaultMaxRequesterBuckets) -> LocalRateLimiter {
    LocalRateLimiter(maxRequesterBuckets: cap) { clock.now }
}

private func ask(_ limiter: LocalRateLimiter, _ rules: [RateLimitRule], _ who: Requester?, tokens: Int = 0) async -> Admission {
    await limiter.admit(LimitRequest(endpoint: "chat", rules: rules, requester: who, tokens: tokens))
}

/// How many of `count` requests in a row are admitted.
private func admitted(_ limiter: LocalRateLimiter, _ rules: [RateLimitRule], _ who: Requester?, count: Int, tokens: Int = 0) async -> Int {
    var admitted = 0
    for _ in 0..<count {
        if case .admitted = await ask(limiter, rules, who, tokens: tokens) { admitted += 1 }
    }
    return admitted
}

private extension Admission {
    var rejection: LimitRejection? { if case .rejected(let rejection, _) = self { rejection } else { nil } }
    var ticket: LimitTicket? { if case .admitted(let ticket, _) = self { ticket } else { nil } }
    var headers: LimitHeaders {
        switch self {
        case .admitted(_, let headers), .rejected(_, let headers): headers
        }
    }
}

@Suite("Rate limits: who is counted where")
struct RateLimitSemanticsTests {
    @Test func theEndpointLimitIsACeilingForEveryoneIncludingAnonymous() async {
        let rules = [RateLimitRule(key: .endpoint, calls: 3), RateLimitRule(key: .user, calls: 10)]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, alice, count: 2) == 2)
        #expect(await admitted(limits, rules, nil, count: 1) == 1)
        let refused = await ask(limits, rules, bob).rejection
        #expect(refused?.rule == rules[0])
        #expect(refused?.bucketPrincipal == nil)
        #expect(refused?.message == "Rate limit exceeded: 3 calls per minute on endpoint chat.")
    }

    @Test func anonymousRequestsSkipPerUserLimits() async {
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, [RateLimitRule(key: .user, calls: 1)], nil, count: 5) == 5)
    }

    @Test func theDefaultUserLimitAppliesToEachUser() async {
        let rules = [RateLimitRule(key: .user, calls: 2)]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, alice, count: 3) == 2)
        #expect(await admitted(limits, rules, bob, count: 1) == 1)
        let refused = await ask(limits, rules, alice).rejection
        #expect(refused?.bucketPrincipal == "alice@example.com")
        #expect(refused?.dimension == .calls)
        #expect(refused?.message == "Rate limit exceeded: 2 calls per minute for user alice@example.com on endpoint chat.")
    }

    @Test func aSpecificUserLimitOverridesTheDefault() async {
        let rules = [RateLimitRule(key: .user, calls: 1), RateLimitRule(key: .user, principal: "alice@example.com", calls: 3)]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, alice, count: 5) == 3)
        #expect(await admitted(limits, rules, bob, count: 5) == 1)
    }

    @Test func aSpecificUserLimitBeatsGroupLimitsAndIsNotChargedToThem() async {
        let rules = [RateLimitRule(key: .userGroup, principal: "ml", calls: 1), RateLimitRule(key: .user, principal: "alice@example.com", calls: 5)]
        let member = Requester(name: "alice@example.com", groups: ["ml"])
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, member, count: 6) == 5)
        #expect(await admitted(limits, rules, Requester(name: "carol", groups: ["ml"]), count: 2) == 1)
    }

    @Test func groupLimitsOverrideTheDefaultAndAreShared() async {
        let rules = [RateLimitRule(key: .user, calls: 1), RateLimitRule(key: .userGroup, principal: "ml", calls: 3)]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, Requester(name: "a", groups: ["ml"]), count: 2) == 2)
        #expect(await admitted(limits, rules, Requester(name: "b", groups: ["ml"]), count: 2) == 1)
        #expect(await admitted(limits, rules, Requester(name: "c", groups: ["other"]), count: 2) == 1)
    }

    @Test func aMemberOfSeveralGroupsIsThrottledOnlyWhenEveryGroupIsOver() async {
        let rules = [RateLimitRule(key: .userGroup, principal: "A", calls: 2), RateLimitRule(key: .userGroup, principal: "B", calls: 3)]
        let both = Requester(name: "alice", groups: ["A", "B"])
        let limits = limiter(ManualClock())
        // Two requests charge both groups; the third fits only B and is charged there alone.
        #expect(await admitted(limits, rules, both, count: 3) == 3)
        let refused = await ask(limits, rules, both).rejection
        #expect(refused?.bucketPrincipal == "A")
        #expect(refused?.message == "Rate limit exceeded: 2 calls per minute for group A on endpoint chat. Every group of alice is over its limit.")
        #expect(await admitted(limits, rules, Requester(name: "bob", groups: ["A"]), count: 1) == 0)
    }

    @Test func servicePrincipalsUseTheirOwnLimitsAndFallBackToTheUserDefault() async {
        let ci = Requester(name: "ci-bot", isServicePrincipal: true)
        let etl = Requester(name: "etl", isServicePrincipal: true)
        let rules = [
            RateLimitRule(key: .user, calls: 5), RateLimitRule(key: .servicePrincipal, calls: 1),
            RateLimitRule(key: .servicePrincipal, principal: "etl", calls: 3), RateLimitRule(key: .user, principal: "ci-bot", calls: 9),
        ]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, rules, ci, count: 3) == 1)
        #expect(await ask(limits, rules, ci).rejection?.message == "Rate limit exceeded: 1 call per minute for service principal ci-bot on endpoint chat.")
        #expect(await admitted(limits, rules, etl, count: 5) == 3)
        let userDefaultOnly = [RateLimitRule(key: .user, calls: 2)]
        #expect(await admitted(limiter(ManualClock()), userDefaultOnly, ci, count: 4) == 2)
    }

    @Test func withCallsAndTokensTheStricterWins() async {
        let tokenBound = [RateLimitRule(key: .user, calls: 10, tokens: 100)]
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, tokenBound, alice, count: 3, tokens: 40) == 2)
        #expect(await ask(limits, tokenBound, alice, tokens: 40).rejection?.dimension == .tokens)
        let callBound = [RateLimitRule(key: .user, calls: 2, tokens: 1000)]
        #expect(await admitted(limits, callBound, bob, count: 3, tokens: 40) == 2)
        #expect(await ask(limits, callBound, bob, tokens: 40).rejection?.dimension == .calls)
    }

    @Test func editingARulesNumbersKeepsItsCounts() async {
        let limits = limiter(ManualClock())
        #expect(await admitted(limits, [RateLimitRule(key: .user, calls: 2)], alice, count: 2) == 2)
        #expect(await admitted(limits, [RateLimitRule(key: .user, calls: 3)], alice, count: 5) == 1)
    }
}

@Suite("Rate limits: windows, tokens and headers")
struct RateLimitAccountingTests {
    @Test func aWindowOpensAtTheFirstAdmissionAndRenewsAMinuteLater() async {
        let clock = ManualClock()
        let limits = limiter(clock)
        let rules = [RateLimitRule(key: .endpoint, calls: 2)]
        #expect(await admitted(limits, rules, nil, count: 1) == 1)
        clock.advance(.seconds(10))
        #expect(await admitted(limits, rules, nil, count: 1) == 1)
        clock.advance(.seconds(10))
        let refused = await ask(limits, rules, nil)
        #expect(refused.rejection?.retryAfter == .seconds(40))
        #expect(refused.rejection?.retryAfterSeconds == 40)
        #expect(refused.headers.remainingRequests == 0)
        clock.advance(.milliseconds(39_900))
        #expect(await ask(limits, rules, nil).rejection?.retryAfterSeconds == 1)
        clock.advance(.milliseconds(100))
        let renewed = await ask(limits, rules, nil)
        #expect(renewed.headers == LimitHeaders(limitRequests: 2, remainingRequests: 1, resetRequests: .seconds(60)))
    }

    @Test func aBurstAcrossAMinuteBoundaryAdmitsExactlyTheLimit() async {
        let clock = ManualClock()
        let limits = limiter(clock)
        let rules = [RateLimitRule(key: .user, calls: 10)]
        var admitted = 0
        for _ in 0..<20 {
            if case .admitted = await ask(limits, rules, alice) { admitted += 1 }
            clock.advance(.milliseconds(500))
        }
        #expect(admitted == 10)
    }

    @Test func aReservationIsRefundedToItsOwnWindowOnly() async throws {
        let clock = ManualClock()
        let limits = limiter(clock)
        let rules = [RateLimitRule(key: .user, tokens: 100)]
        let first = await ask(limits, rules, alice, tokens: 80)
        #expect(first.headers.remainingTokens == 20)
        #expect(await ask(limits, rules, alice, tokens: 30).rejection?.dimension == .tokens)
        limits.settle(try #require(first.ticket), totalTokens: 20)
        #expect(await ask(limits, rules, alice, tokens: 30).headers.remainingTokens == 50)

        let late = await ask(limits, rules, bob, tokens: 80)
        clock.advance(.seconds(61))
        #expect(await ask(limits, rules, bob, tokens: 10).headers.remainingTokens == 90)
        limits.settle(try #require(late.ticket), totalTokens: 0)
        #expect(await ask(limits, rules, bob, tokens: 0).headers.remainingTokens == 90)
    }

    @Test func settlingAboveTheReservationChargesTheDifferenceOnce() async throws {
        let limits = limiter(ManualClock())
        let rules = [RateLimitRule(key: .user, tokens: 100)]
        let ticket = try #require(await ask(limits, rules, alice, tokens: 10).ticket)
        limits.settle(ticket, totalTokens: 60)
        limits.settle(ticket, totalTokens: 0)
        #expect(await limits.charge(ticket, tokensSoFar: 500))
        #expect(await ask(limits, rules, alice).headers.remainingTokens == 40)
    }

    @Test func aStreamIsCutOnceItsBudgetIsSpentAndTheOvershootStillCounts() async throws {
        let limits = limiter(ManualClock())
        let rules = [RateLimitRule(key: .endpoint, tokens: 1000), RateLimitRule(key: .user, tokens: 100)]
        let ticket = try #require(await ask(limits, rules, alice, tokens: 50).ticket)
        #expect(ticket.reservedTokens == 50)
        #expect(await limits.charge(ticket, tokensSoFar: 40))
        #expect(await limits.charge(ticket, tokensSoFar: 90))
        #expect(await limits.charge(ticket, tokensSoFar: 100))
        #expect(await !limits.charge(ticket, tokensSoFar: 120))
        let next = await ask(limits, rules, alice, tokens: 1)
        #expect(next.rejection?.dimension == .tokens)
        #expect(next.headers.remainingTokens == 0)
        limits.settle(ticket, totalTokens: 130)
        #expect(await ask(limits, rules, nil, tokens: 0).headers.remainingTokens == 870)
    }

    @Test func aGroupStreamIsCutOnlyWhenEveryChargedGroupIsOver() async throws {
        let limits = limiter(ManualClock())
        let rules = [RateLimitRule(key: .userGroup, principal: "A", tokens: 100), RateLimitRule(key: .userGroup, principal: "B", tokens: 200)]
        let ticket = try #require(await ask(limits, rules, Requester(name: "alice", groups: ["A", "B"]), tokens: 10).ticket)
        #expect(await limits.charge(ticket, tokensSoFar: 150))
        #expect(await !limits.charge(ticket, tokensSoFar: 250))
    }

    @Test func aRequestLargerThanTheWholeLimitIsRefusedAsTooLarge() async {
        let limits = limiter(ManualClock())
        let refused = await ask(limits, [RateLimitRule(key: .user, tokens: 100)], alice, tokens: 150).rejection
        #expect(refused?.requestTooLarge == true)
        #expect(refused?.retryAfter == .zero)
        #expect(refused?.message == "Request too large: it may use 150 tokens (prompt estimate plus max_tokens), more than the limit of "
            + "100 tokens per minute for user alice@example.com on endpoint chat. Lower max_tokens or shorten the prompt.")
    }

    @Test func aRequestTooLargeForEveryGroupNamesTheMostGenerousOne() async {
        let rules = [RateLimitRule(key: .userGroup, principal: "A", tokens: 100), RateLimitRule(key: .userGroup, principal: "B", tokens: 200)]
        let refused = await ask(limiter(ManualClock()), rules, Requester(name: "alice", groups: ["A", "B"]), tokens: 300).rejection
        #expect(refused?.requestTooLarge == true)
        #expect(refused?.bucketPrincipal == "B")
    }

    @Test func headersReportTheMostConstrainingBucketPerDimension() async {
        let clock = ManualClock()
        let limits = limiter(clock)
        let rules = [RateLimitRule(key: .endpoint, calls: 100, tokens: 10_000), RateLimitRule(key: .user, calls: 5, tokens: 50_000)]
        _ = await ask(limits, rules, alice, tokens: 100)
        clock.advance(.milliseconds(2_500))
        let headers = await ask(limits, rules, alice, tokens: 100).headers
        #expect(headers == LimitHeaders(
            limitRequests: 5, remainingRequests: 3, resetRequests: .milliseconds(57_500),
            limitTokens: 10_000, remainingTokens: 9_800, resetTokens: .milliseconds(57_500)))
        #expect(headers.httpFields.map { "\($0.name): \($0.value)" } == [
            "x-ratelimit-limit-requests: 5", "x-ratelimit-limit-tokens: 10000", "x-ratelimit-remaining-requests: 3",
            "x-ratelimit-remaining-tokens: 9800", "x-ratelimit-reset-requests: 57.5s", "x-ratelimit-reset-tokens: 57.5s",
        ])
        #expect(LimitHeaders.render(.seconds(60)) == "1m0s")
        #expect(LimitHeaders.render(.milliseconds(250)) == "250ms")
        #expect(await ask(limits, [], alice).headers == LimitHeaders())
    }

    @Test func requesterBucketsAreCappedWithoutEvictingAnyone() async {
        let clock = ManualClock()
        let limits = limiter(clock, cap: 2)
        let rules = [RateLimitRule(key: .endpoint, calls: 1_000), RateLimitRule(key: .user, calls: 1)]
        #expect(await admitted(limits, rules, alice, count: 1) == 1)
        #expect(await admitted(limits, rules, bob, count: 1) == 1)
        // At the cap a newcomer gets no bucket of its own but stays under the endpoint ceiling.
        let carol = Requester(name: "carol")
        #expect(await admitted(limits, rules, carol, count: 3) == 3)
        #expect(limits.bucketCount == 3)
        #expect(await admitted(limits, rules, alice, count: 1) == 0)
        clock.advance(.seconds(121))
        _ = await ask(limits, [rules[0]], nil)
        #expect(await admitted(limits, rules, carol, count: 2) == 1)
        #expect(limits.bucketCount == 2)
    }

    @Test func concurrentAdmissionsAdmitExactlyTheLimit() async {
        let limits = limiter(ManualClock())
        let rules = [RateLimitRule(key: .endpoint, calls: 10, tokens: 1_000_000)]
        let admitted = await withTaskGroup(of: Int.self) { group in
            for task in 0..<64 {
                group.addTask {
                    var admitted = 0
                    for _ in 0..<8 {
                        if case .admitted = await ask(limits, rules, Requester(name: "user\(task)"), tokens: 7) { admitted += 1 }
                    }
                    return admitted
                }
            }
            return await group.reduce(0, +)
        }
        #expect(admitted == 10)
        #expect(await ask(limits, rules, nil).headers.remainingTokens == 1_000_000 - 70)
    }
}

import Foundation
import Synchronization
import TollgateCore

/// A `RateLimiter` whose counts live in the store (`rate_limit_windows`), so that every replica on
/// one database enforces one limit together. The limits mean what they mean in one process: the
/// same `RateLimitPlan` decides, windows open at a bucket's first admission and last one period.
///
/// Leased slices: a replica does not ask the store for every request. It leases a slice of a
/// bucket's window — some calls and tokens — in one atomic `UPDATE` that grants at most what the
/// window has left, then admits locally from the slice until it runs out. A slice is a sixteenth
/// of the limit, and never more than an eighth of what the window had left at the last grant, so
/// slices shrink to single calls as a window fills: the store never grants more than the limit,
/// and what replicas hold unused when the window ends — at most about one slice each, a single
/// call or a few tokens near the end of a busy window — is the only way the total falls short.
/// Requests waiting for the same bucket share one store round trip.
///
/// Tokens: a request's reservation comes out of the slice; a refund goes back into it (same
/// window); tokens used past the reservation are taken from it and, if it is short, owed and
/// asked for with the next grant. So across replicas the token total can pass the limit by at most
/// what requests used beyond their reservations in the last moments of a window.
///
/// When the store cannot be reached, a replica grants itself the whole limit for a window and
/// tries the store again after it: during an outage each replica enforces the limit on its own
/// (limit × replicas in all), and traffic keeps flowing.
public final class SharedRateLimiter: RateLimiter {
    let database: any SQLDatabase
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    struct Lease {
        /// The store's window this slice belongs to (ms since 1970, as the store holds it).
        var windowStart: Int64
        var period: Int64
        /// Left to admit from this slice; `Int.max` for a dimension the rule does not limit.
        var calls: Int
        /// Left to reserve; below zero, owed to the store; `Int.max` when the rule counts no tokens.
        var tokens: Int
        /// The window's totals at the last grant, every replica's: what the headers report.
        var storeCalls: Int
        var storeTokens: Int
        /// Identifies the window locally, so refunds go only to the window they came from.
        var window: UInt64
        /// Granted by this replica alone while the store could not be reached.
        var offline: Bool
    }

    struct State {
        var leases: [LimitBucketID: Lease] = [:]
        var inFlight: [LimitBucketID: Task<Void, Never>] = [:]
        /// Each bucket's rule at its last grant, for settling debts from a ticket.
        var rules: [LimitBucketID: RateLimitRule] = [:]
        var nextWindow: UInt64 = 0
    }

    public init(database: any SQLDatabase, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    public func admit(_ request: LimitRequest) async -> Admission {
        let plan = RateLimitPlan(request)
        let reserved = max(0, request.tokens)
        guard !plan.slots.isEmpty else { return .admitted(LimitTicket(charges: [], reserved: reserved), LimitHeaders()) }
        // Top up the slices that cannot take this request, then decide on what is held. Other
        // requests may take a fresh slice first: while the store had room at its last answer,
        // try again (a few times; then the answer stands).
        for attempt in 0..<4 {
            let short = state.withLock { state in plan.slots.filter { !Self.covers(state.leases[$0.bucket], $0.rule, reserved, at: millis()) } }
            for slot in short { await topUp(slot, need: reserved) }
            if let admission = state.withLock({ state in decide(plan, reserved: reserved, state: &state, final: attempt == 3) }) {
                return admission
            }
        }
        return state.withLock { state in decide(plan, reserved: reserved, state: &state, final: true)! }
    }

    /// The decision on the slices held; nil (unless `final`) when it would refuse although the
    /// store had room for a refusing bucket at its last answer.
    private func decide(_ plan: RateLimitPlan, reserved: Int, state: inout State, final: Bool) -> Admission? {
        let time = millis()
        let usages = plan.slots.map { Self.usage(state.leases[$0.bucket], $0.rule, at: time) }
        switch plan.decide(usages.map(\.decision), reserved: reserved) {
        case .reject(let rejection):
            let storeHadRoom = plan.slots.contains { slot in
                guard !Self.covers(state.leases[slot.bucket], slot.rule, reserved, at: time), let lease = state.leases[slot.bucket] else { return false }
                return (slot.rule.calls.map { lease.storeCalls < $0 } ?? false) || (slot.rule.tokens.map { lease.storeTokens < $0 } ?? false)
            }
            if storeHadRoom && !final && !rejection.requestTooLarge { return nil }
            return .rejected(rejection, plan.headers(usages.map(\.store)))
        case .admit(let indices):
            var charges: [LimitTicket.Charge] = []
            for index in indices {
                let slot = plan.slots[index]
                guard var lease = state.leases[slot.bucket] else { continue }
                if lease.calls != .max { lease.calls -= 1 }
                if lease.tokens != .max { lease.tokens = RateLimitPlan.sum(lease.tokens, -reserved) }
                state.leases[slot.bucket] = lease
                charges.append(LimitTicket.Charge(bucket: slot.bucket, window: lease.window, isGroup: slot.role == .group))
            }
            let after = plan.slots.map { Self.usage(state.leases[$0.bucket], $0.rule, at: time).store }
            return .admitted(LimitTicket(charges: charges, reserved: reserved), plan.headers(after, charged: indices))
        }
    }

    public func charge(_ ticket: LimitTicket, tokensSoFar: Int) async -> Bool {
        guard let ledger = ticket.ledger else { return true }
        let owing: [LimitBucketID] = state.withLock { state in
            let charged = ledger.charged.load(ordering: .relaxed)
            guard !ledger.settled.load(ordering: .relaxed), tokensSoFar > charged else { return [] }
            ledger.charged.store(tokensSoFar, ordering: .relaxed)
            return ticket.charges.compactMap { charge in
                guard var lease = state.leases[charge.bucket], lease.window == charge.window, lease.tokens != .max else { return nil }
                lease.tokens = RateLimitPlan.sum(lease.tokens, -(tokensSoFar - charged))
                state.leases[charge.bucket] = lease
                return lease.tokens < 0 ? charge.bucket : nil
            }
        }
        guard !owing.isEmpty else { return true }
        // Some slice is spent: ask the store for what is owed; a bucket still owing is over.
        var requiredOver = false
        var groupsOver = 0
        for charge in ticket.charges where owing.contains(charge.bucket) {
            let over = await settleDebt(charge.bucket)
            if charge.isGroup {
                if over { groupsOver += 1 }
            } else if over {
                requiredOver = true
            }
        }
        let allGroups = ticket.charges.filter(\.isGroup).count
        return !requiredOver && !(allGroups > 0 && groupsOver == allGroups)
    }

    public func settle(_ ticket: LimitTicket, totalTokens: Int) {
        guard let ledger = ticket.ledger else { return }
        let total = max(0, totalTokens)
        state.withLock { state in
            guard let charged = ledger.settle(at: total) else { return }
            for charge in ticket.charges {
                // A refund goes back only to its own window; extra use is owed to the current one.
                guard var lease = state.leases[charge.bucket], lease.tokens != .max, total > charged || lease.window == charge.window else { continue }
                lease.tokens = RateLimitPlan.sum(lease.tokens, charged - total)
                state.leases[charge.bucket] = lease
            }
        }
    }

    // MARK: - Slices

    private func millis() -> Int64 { Int64((now().timeIntervalSince1970 * 1000).rounded(.down)) }

    private static func period(_ rule: RateLimitRule) -> Int64 {
        let (seconds, attoseconds) = rule.renewalPeriod.duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whether a slice can take one more call and `reserved` tokens now.
    static func covers(_ lease: Lease?, _ rule: RateLimitRule, _ reserved: Int, at time: Int64) -> Bool {
        guard let lease, time < lease.windowStart + lease.period else { return false }
        return (rule.calls == nil || (lease.calls > 0 && lease.calls != .max))
            && (rule.tokens == nil || (lease.tokens >= reserved && lease.tokens != .max))
    }

    /// The usage `RateLimitPlan` decides on (the limit less what this slice still holds) and the
    /// store's totals for the headers.
    static func usage(_ lease: Lease?, _ rule: RateLimitRule, at time: Int64) -> (decision: BucketUsage, store: BucketUsage) {
        let period = Duration.milliseconds(Self.period(rule))
        guard let lease, time < lease.windowStart + lease.period else {
            let full = BucketUsage(calls: rule.calls ?? 0, tokens: rule.tokens ?? 0, resetIn: period)
            return (full, BucketUsage(calls: 0, tokens: 0, resetIn: period))
        }
        let resetIn = Duration.milliseconds(max(0, lease.windowStart + lease.period - time))
        let decision = BucketUsage(
            calls: rule.calls.map { lease.calls == .max ? 0 : max(0, $0 - lease.calls) } ?? 0,
            tokens: rule.tokens.map { RateLimitPlan.sum($0, -lease.tokens) } ?? 0, resetIn: resetIn
        )
        let held = lease.calls == .max ? 0 : lease.calls
        let store = BucketUsage(
            calls: max(0, lease.storeCalls - held), tokens: max(0, lease.storeTokens - max(0, lease.tokens)), resetIn: resetIn
        )
        return (decision, store)
    }

    /// Leases more of the slot's window from the store; concurrent callers for one bucket wait on
    /// the same round trip.
    private func topUp(_ slot: RateLimitPlan.Slot, need reserved: Int) async {
        for _ in 0..<2 {
            let (task, joined) = state.withLock { state -> (Task<Void, Never>, Bool) in
                if let running = state.inFlight[slot.bucket] { return (running, true) }
                let task = Task { await self.grant(slot, need: reserved) }
                state.inFlight[slot.bucket] = task
                return (task, false)
            }
            await task.value
            // A grant sized for another request's smaller need may leave this one short: once
            // more, for this one.
            guard joined, !state.withLock({ Self.covers($0.leases[slot.bucket], slot.rule, reserved, at: millis()) }) else { return }
        }
    }

    /// Asks the store for the tokens a bucket's slice owes; true when it still owes some.
    private func settleDebt(_ bucket: LimitBucketID) async -> Bool {
        guard let rule = state.withLock({ $0.rules[bucket] }) else { return true }
        await topUp(RateLimitPlan.Slot(rule: rule, bucket: bucket, role: .required, perRequester: false), need: 0)
        return state.withLock { ($0.leases[bucket]?.tokens ?? -1) < 0 }
    }

    private func grant(_ slot: RateLimitPlan.Slot, need reserved: Int) async {
        defer { _ = state.withLock { $0.inFlight.removeValue(forKey: slot.bucket) } }
        let time = millis()
        let period = Self.period(slot.rule)
        let held = state.withLock { state -> Lease? in
            state.rules[slot.bucket] = slot.rule
            guard let lease = state.leases[slot.bucket], time < lease.windowStart + lease.period else { return nil }
            return lease
        }
        let wantCalls = slot.rule.calls.map { limit in Self.slice(limit, used: held?.storeCalls ?? 0, need: 1) } ?? 0
        let owed = max(0, -(held?.tokens ?? 0))
        let wantTokens = slot.rule.tokens.map { limit in
            RateLimitPlan.sum(Self.slice(limit, used: held?.storeTokens ?? 0, need: reserved), owed)
        } ?? 0
        let granted: RateLimitWindows.Grant
        do {
            granted = try await RateLimitWindows.grant(
                in: database, bucket: slot.bucket, now: time, period: period,
                calls: slot.rule.calls.map { ($0, wantCalls) }, tokens: slot.rule.tokens.map { ($0, wantTokens) }
            )
        } catch {
            // The store is unreachable: a slice granted alone stands until its window ends.
            if held?.offline == true { return }
            granted = RateLimitWindows.Grant(
                windowStart: time, calls: slot.rule.calls ?? 0, tokens: slot.rule.tokens ?? 0, grantedCalls: slot.rule.calls ?? 0,
                grantedTokens: slot.rule.tokens ?? 0, offline: true
            )
        }
        state.withLock { state in
            if var lease = state.leases[slot.bucket], lease.windowStart == granted.windowStart, !(lease.offline && !granted.offline) {
                lease.calls = Self.merge(lease.calls, granted.grantedCalls, limited: slot.rule.calls != nil)
                lease.tokens = Self.merge(lease.tokens, granted.grantedTokens, limited: slot.rule.tokens != nil)
                lease.storeCalls = granted.calls
                lease.storeTokens = granted.tokens
                state.leases[slot.bucket] = lease
            } else {
                state.nextWindow &+= 1
                // A new window: what the old slice held or owed belonged to the old one.
                state.leases[slot.bucket] = Lease(
                    windowStart: granted.windowStart, period: period,
                    calls: slot.rule.calls == nil ? .max : granted.grantedCalls, tokens: slot.rule.tokens == nil ? .max : granted.grantedTokens,
                    storeCalls: granted.calls, storeTokens: granted.tokens, window: state.nextWindow, offline: granted.offline
                )
            }
            state.sweep(at: time)
        }
    }

    /// A slice's count after a grant: `Int.max` for a dimension the rule does not limit (and a
    /// fresh count when a rule that did not limit it now does).
    static func merge(_ held: Int, _ granted: Int, limited: Bool) -> Int {
        guard limited else { return .max }
        return held == .max ? granted : RateLimitPlan.sum(held, granted)
    }

    /// How much to lease: a sixteenth of the limit, at most an eighth of what was left at the
    /// last grant, at least what the request needs.
    static func slice(_ limit: Int, used: Int, need: Int) -> Int {
        let left = max(0, limit - used)
        return max(need, min(max(1, limit / 16), max(1, left / 8)))
    }
}

extension SharedRateLimiter.State {
    /// Drops slices whose window ended long ago, when there are many (one per requester).
    mutating func sweep(at time: Int64) {
        guard leases.count > 10_000 else { return }
        leases = leases.filter { time < $0.value.windowStart + 2 * $0.value.period }
        rules = rules.filter { leases[$0.key] != nil }
    }
}

import Synchronization

/// The in-process `RateLimiter`: counts live in this process, so each replica counts on its own.
///
/// Windows: each bucket has a fixed window that opens at its first admission and renews one
/// `renewal_period` later, at the next admission after that. Anchoring to the bucket rather than to
/// the wall clock's minutes keeps a burst from getting two windows' worth just because it straddles
/// a minute boundary: N calls per minute admits exactly N in any burst shorter than a minute.
///
/// Memory: buckets idle for more than two windows are dropped (swept at most once a window, under
/// the lock, in one pass). Endpoint, named-principal and group buckets are bounded by the
/// configuration; default-limit buckets are one per requester name, so they are capped at
/// `maxRequesterBuckets`. At the cap a new requester is still held to every other applicable limit
/// (the endpoint ceiling above all) but gets no bucket of its own until the sweep frees room.
/// Refusing it instead would let whoever can mint names lock out every newcomer, and evicting
/// someone else's bucket would let them reset other users' counts; someone who can mint names
/// already escapes per-user limits by rotating names, so neither would stop them.
public final class LocalRateLimiter: RateLimiter {
    /// Default cap on default-limit buckets: a few tens of megabytes at most.
    public static let defaultMaxRequesterBuckets = 100_000

    private let state: Mutex<State>
    private let now: @Sendable () -> ContinuousClock.Instant
    private let maxRequesterBuckets: Int

    /// - Parameters:
    ///   - maxRequesterBuckets: how many default-limit buckets to keep at most; at least 1.
    ///   - now: the clock, injectable so tests can move time.
    public init(
        maxRequesterBuckets: Int = LocalRateLimiter.defaultMaxRequesterBuckets,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        precondition(maxRequesterBuckets >= 1, "maxRequesterBuckets must be at least 1")
        self.maxRequesterBuckets = maxRequesterBuckets
        self.now = now
        state = Mutex(State())
    }

    public func admit(_ request: LimitRequest) async -> Admission {
        let plan = RateLimitPlan(request)
        let reserved = max(0, request.tokens)
        guard !plan.slots.isEmpty else { return .admitted(LimitTicket(charges: [], reserved: reserved), LimitHeaders()) }
        return state.withLock { state in
            let now = self.now()
            state.sweepIfDue(now)
            let before = plan.slots.map { state.usage(of: $0, now: now) }
            switch plan.decide(before, reserved: reserved) {
            case .reject(let rejection):
                return .rejected(rejection, plan.headers(before))
            case .admit(let indices):
                var charges: [LimitTicket.Charge] = []
                charges.reserveCapacity(indices.count)
                for index in indices {
                    let slot = plan.slots[index]
                    guard let window = state.open(slot, reserved: reserved, now: now, cap: maxRequesterBuckets) else { continue }
                    charges.append(LimitTicket.Charge(bucket: slot.bucket, window: window, isGroup: slot.role == .group))
                }
                let after = plan.slots.map { state.trackedUsage(of: $0.bucket, now: now) }
                return .admitted(LimitTicket(charges: charges, reserved: reserved), plan.headers(after, charged: indices))
            }
        }
    }

    public func charge(_ ticket: LimitTicket, tokensSoFar: Int) async -> Bool {
        guard let ledger = ticket.ledger else { return true }
        return state.withLock { state in
            let charged = ledger.charged.load(ordering: .relaxed)
            guard !ledger.settled.load(ordering: .relaxed), tokensSoFar > charged else { return true }
            ledger.charged.store(tokensSoFar, ordering: .relaxed)
            let now = self.now()
            var requiredOver = false
            var groups = 0
            var groupsOver = 0
            for charge in ticket.charges {
                let over = state.add(tokensSoFar - charged, to: charge.bucket, now: now)
                if charge.isGroup {
                    groups += 1
                    if over { groupsOver += 1 }
                } else if over {
                    requiredOver = true
                }
            }
            return !requiredOver && !(groups > 0 && groupsOver == groups)
        }
    }

    public func settle(_ ticket: LimitTicket, totalTokens: Int) {
        guard let ledger = ticket.ledger else { return }
        let total = max(0, totalTokens)
        state.withLock { state in
            guard let charged = ledger.settle(at: total) else { return }
            if total > charged {
                let now = self.now()
                for charge in ticket.charges { _ = state.add(total - charged, to: charge.bucket, now: now) }
            } else if total < charged {
                for charge in ticket.charges { state.refund(charged - total, to: charge.bucket, window: charge.window) }
            }
        }
    }

    /// How many buckets are held (for tests and diagnostics).
    var bucketCount: Int { state.withLock { $0.buckets.count } }

    /// Everything behind the lock.
    struct State {
        struct Bucket {
            var window: UInt64
            var opened: ContinuousClock.Instant
            var lastUsed: ContinuousClock.Instant
            var period: Duration
            var calls: Int
            var tokens: Int
            /// The token limit at the last admission, for `charge` to compare against.
            var tokenLimit: Int?
            let perRequester: Bool
        }

        var buckets: [LimitBucketID: Bucket] = [:]
        var requesterBuckets = 0
        /// Window ids are never reused, so a refund cannot land in a bucket recreated after a sweep.
        var nextWindow: UInt64 = 0
        var lastSweep: ContinuousClock.Instant?

        func usage(of slot: RateLimitPlan.Slot, now: ContinuousClock.Instant) -> BucketUsage {
            trackedUsage(of: slot.bucket, now: now)
                ?? BucketUsage(calls: 0, tokens: 0, resetIn: slot.rule.renewalPeriod.duration)
        }

        /// The bucket's count in its open window; nil if there is no such bucket.
        func trackedUsage(of id: LimitBucketID, now: ContinuousClock.Instant) -> BucketUsage? {
            guard let bucket = buckets[id] else { return nil }
            let end = bucket.opened + bucket.period
            guard now < end else { return BucketUsage(calls: 0, tokens: 0, resetIn: bucket.period) }
            return BucketUsage(calls: bucket.calls, tokens: bucket.tokens, resetIn: min(now.duration(to: end), bucket.period))
        }

        /// Charges one call and the reservation, opening the bucket or a new window as needed.
        /// Returns the window charged, or nil when a new default-limit bucket would pass the cap.
        mutating func open(_ slot: RateLimitPlan.Slot, reserved: Int, now: ContinuousClock.Instant, cap: Int) -> UInt64? {
            if let index = buckets.index(forKey: slot.bucket) {
                roll(index, now: now)
                buckets.values[index].calls = RateLimitPlan.sum(buckets.values[index].calls, 1)
                buckets.values[index].tokens = RateLimitPlan.sum(buckets.values[index].tokens, reserved)
                buckets.values[index].lastUsed = now
                buckets.values[index].tokenLimit = slot.rule.tokens
                return buckets.values[index].window
            }
            if slot.perRequester {
                guard requesterBuckets < cap else { return nil }
                requesterBuckets += 1
            }
            nextWindow &+= 1
            buckets[slot.bucket] = Bucket(
                window: nextWindow, opened: now, lastUsed: now, period: slot.rule.renewalPeriod.duration, calls: 1, tokens: reserved,
                tokenLimit: slot.rule.tokens, perRequester: slot.perRequester)
            return nextWindow
        }

        /// Adds tokens used now (a new window's, if the admission's has ended); true when that
        /// puts the bucket over its token limit. A bucket swept away meanwhile is not recreated.
        mutating func add(_ tokens: Int, to id: LimitBucketID, now: ContinuousClock.Instant) -> Bool {
            guard let index = buckets.index(forKey: id) else { return false }
            roll(index, now: now)
            buckets.values[index].tokens = RateLimitPlan.sum(buckets.values[index].tokens, tokens)
            buckets.values[index].lastUsed = now
            let bucket = buckets.values[index]
            return bucket.tokenLimit.map { bucket.tokens > $0 } ?? false
        }

        /// Gives back unused reservation, but only to the window it was taken from: a new window
        /// starts full, and crediting it would let the old window's leftovers carry over.
        mutating func refund(_ tokens: Int, to id: LimitBucketID, window: UInt64) {
            guard let index = buckets.index(forKey: id), buckets.values[index].window == window else { return }
            buckets.values[index].tokens = max(0, buckets.values[index].tokens - tokens)
        }

        private mutating func roll(_ index: Dictionary<LimitBucketID, Bucket>.Index, now: ContinuousClock.Instant) {
            guard now >= buckets.values[index].opened + buckets.values[index].period else { return }
            nextWindow &+= 1
            buckets.values[index].window = nextWindow
            buckets.values[index].opened = now
            buckets.values[index].calls = 0
            buckets.values[index].tokens = 0
        }

        /// Drops buckets idle for more than two of their windows, at most once a minute.
        mutating func sweepIfDue(_ now: ContinuousClock.Instant) {
            guard let last = lastSweep else {
                lastSweep = now
                return
            }
            guard now - last >= RenewalPeriod.minute.duration else { return }
            lastSweep = now
            buckets = buckets.filter { now - $0.value.lastUsed <= $0.value.period * 2 }
            requesterBuckets = buckets.values.count(where: \.perRequester)
        }
    }
}

/// Names one counter: the endpoint, the rule (by `key` and `principal`, which validation keeps
/// unique) and whose bucket it is. Limits are not part of it, so editing a rule's numbers keeps its
/// counts: raising a limit must not hand out a fresh window as a side effect.
package struct LimitBucketID: Hashable, Sendable {
    package var endpoint: String
    package var key: RateLimitKey
    package var rulePrincipal: String?
    /// The user, service principal or group counted; `nil` for the endpoint's bucket.
    package var owner: String?

    package init(endpoint: String, key: RateLimitKey, rulePrincipal: String?, owner: String?) {
        self.endpoint = endpoint
        self.key = key
        self.rulePrincipal = rulePrincipal
        self.owner = owner
    }
}

/// One bucket's count in its open window; a bucket without an open window reads as empty.
package struct BucketUsage: Sendable, Equatable {
    package var calls: Int
    package var tokens: Int
    /// Time left in the window (a whole window for a bucket not yet opened).
    package var resetIn: Duration

    package init(calls: Int, tokens: Int, resetIn: Duration) {
        self.calls = calls
        self.tokens = tokens
        self.resetIn = resetIn
    }
}

/// Which buckets a request is counted in, and how their answers combine. Shared by every
/// `RateLimiter` so that where the counts live cannot change what the limits mean:
///
/// - `endpoint` limits apply to every request, anonymous ones included: a ceiling for everyone.
/// - A requester's own limit: the `user` (or, for a service principal, `service_principal`) entry
///   naming it. It overrides the default and beats group limits, which then do not apply.
/// - Without one, its groups' `user_group` limits, each a budget shared by the group's members.
///   A member of several is refused only when every one of its groups would refuse; the request is
///   charged to each group that had room. Group limits override the default limit.
/// - Otherwise the default: `service_principal` without a principal for service principals (falling
///   back to `user` without one), `user` without a principal for users; one bucket per requester.
/// - Within a bucket, calls and tokens must both have room: the stricter wins.
package struct RateLimitPlan: Sendable {
    package enum Role: Sendable, Equatable {
        /// Must admit (endpoint, own or default limit).
        case required
        /// One of the requester's groups: any one of them admitting is enough.
        case group
    }

    package struct Slot: Sendable {
        package var rule: RateLimitRule
        package var bucket: LimitBucketID
        package var role: Role
        /// Keyed by the requester's own name under a default rule: the only buckets whose number
        /// callers, not the configuration, decide, so the only ones a limiter has to cap.
        package var perRequester: Bool

        package init(rule: RateLimitRule, bucket: LimitBucketID, role: Role, perRequester: Bool) {
            self.rule = rule
            self.bucket = bucket
            self.role = role
            self.perRequester = perRequester
        }
    }

    package let endpoint: String
    package let requester: Requester?
    package let slots: [Slot]

    package init(_ request: LimitRequest) {
        endpoint = request.endpoint
        requester = request.requester
        let rules = request.rules
        var slots: [Slot] = []
        func slot(_ rule: RateLimitRule, owner: String?, role: Role = .required, perRequester: Bool = false) -> Slot {
            let id = LimitBucketID(endpoint: request.endpoint, key: rule.key, rulePrincipal: rule.principal, owner: owner)
            return Slot(rule: rule, bucket: id, role: role, perRequester: perRequester)
        }
        for rule in rules where rule.key == .endpoint {
            slots.append(slot(rule, owner: nil))
        }
        if let who = request.requester {
            let ownKey: RateLimitKey = who.isServicePrincipal ? .servicePrincipal : .user
            if let own = rules.first(where: { $0.key == ownKey && $0.principal == who.name }) {
                slots.append(slot(own, owner: who.name))
            } else {
                for rule in rules where rule.key == .userGroup {
                    if let group = rule.principal, who.groups.contains(group) {
                        slots.append(slot(rule, owner: group, role: .group))
                    }
                }
                if !slots.contains(where: { $0.role == .group }) {
                    let principalDefault = who.isServicePrincipal ? rules.first { $0.key == .servicePrincipal && $0.principal == nil } : nil
                    if let fallback = principalDefault ?? rules.first(where: { $0.key == .user && $0.principal == nil }) {
                        slots.append(slot(fallback, owner: who.name, perRequester: true))
                    }
                }
            }
        }
        self.slots = slots
    }

    /// Whether one bucket has room for the request.
    package struct Verdict: Sendable {
        package var fitsCalls: Bool
        package var fitsTokens: Bool
        /// The reservation alone is more than the token limit: no window could ever admit it.
        package var tooLarge: Bool
        package var fits: Bool { fitsCalls && fitsTokens }
        package var dimension: LimitRejection.Dimension { tooLarge || fitsCalls ? .tokens : .calls }

        package init(_ rule: RateLimitRule, _ usage: BucketUsage, reserved: Int) {
            fitsCalls = rule.calls.map { usage.calls < $0 } ?? true
            fitsTokens = rule.tokens.map { RateLimitPlan.sum(usage.tokens, reserved) <= $0 } ?? true
            tooLarge = rule.tokens.map { reserved > $0 } ?? false
        }
    }

    package enum Decision: Sendable {
        /// Charge these slots (every required one and the groups that had room).
        case admit([Int])
        case reject(LimitRejection)
    }

    /// Decides from each slot's usage (same order as `slots`).
    package func decide(_ usages: [BucketUsage], reserved: Int) -> Decision {
        var charge: [Int] = []
        var refusal: (index: Int, wait: Duration)?
        var groups = 0
        var groupRoom = false
        var groupWait: (index: Int, wait: Duration)?
        var largestGroup: Int?
        for (index, slot) in slots.enumerated() {
            let verdict = Verdict(slot.rule, usages[index], reserved: reserved)
            if verdict.fits { charge.append(index) }
            switch slot.role {
            case .required where verdict.tooLarge:
                return .reject(rejection(index, usages[index], verdict, reserved: reserved))
            case .required where !verdict.fits:
                if refusal.map({ usages[index].resetIn > $0.wait }) ?? true { refusal = (index, usages[index].resetIn) }
            case .required:
                break
            case .group:
                groups += 1
                groupRoom = groupRoom || verdict.fits
                if verdict.tooLarge {
                    if largestGroup.map({ (slot.rule.tokens ?? .max) > (slots[$0].rule.tokens ?? .max) }) ?? true { largestGroup = index }
                } else if !verdict.fits, groupWait.map({ usages[index].resetIn < $0.wait }) ?? true {
                    groupWait = (index, usages[index].resetIn)
                }
            }
        }
        if groups > 0 && !groupRoom {
            guard let groupWait else {
                let index = largestGroup ?? 0
                return .reject(rejection(index, usages[index], Verdict(slots[index].rule, usages[index], reserved: reserved), reserved: reserved))
            }
            if refusal.map({ groupWait.wait > $0.wait }) ?? true { refusal = groupWait }
        }
        if let refusal {
            let usage = usages[refusal.index]
            let verdict = Verdict(slots[refusal.index].rule, usage, reserved: reserved)
            return .reject(rejection(refusal.index, usage, verdict, reserved: reserved))
        }
        return .admit(charge)
    }

    /// The headers from each slot's usage (`nil`: not counted), looking at the required slots and
    /// the best of the groups among `charged` (all groups when `nil`), since a member is held to
    /// its most generous group.
    package func headers(_ usages: [BucketUsage?], charged: [Int]? = nil) -> LimitHeaders {
        func tightest(_ limit: (RateLimitRule) -> Int?, _ used: (BucketUsage) -> Int) -> (limit: Int, remaining: Int, reset: Duration)? {
            var best: (limit: Int, remaining: Int, reset: Duration)?
            var bestGroup: (limit: Int, remaining: Int, reset: Duration)?
            var unlimitedGroup = false
            for (index, slot) in slots.enumerated() {
                guard let usage = usages[index], slot.role == .required || charged?.contains(index) ?? true else { continue }
                guard let cap = limit(slot.rule) else {
                    unlimitedGroup = unlimitedGroup || slot.role == .group
                    continue
                }
                let entry = (limit: cap, remaining: used(usage) >= cap ? 0 : cap - used(usage), reset: usage.resetIn)
                if slot.role == .group {
                    if bestGroup.map({ entry.remaining > $0.remaining }) ?? true { bestGroup = entry }
                } else if best.map({ entry.remaining < $0.remaining || entry.remaining == $0.remaining && entry.reset > $0.reset }) ?? true {
                    best = entry
                }
            }
            if let group = bestGroup, !unlimitedGroup,
               best.map({ group.remaining < $0.remaining || group.remaining == $0.remaining && group.reset > $0.reset }) ?? true {
                best = group
            }
            return best
        }
        let requests = tightest(\.calls, \.calls)
        let tokens = tightest(\.tokens, \.tokens)
        return LimitHeaders(
            limitRequests: requests?.limit, remainingRequests: requests?.remaining, resetRequests: requests?.reset,
            limitTokens: tokens?.limit, remainingTokens: tokens?.remaining, resetTokens: tokens?.reset)
    }

    private func rejection(_ index: Int, _ usage: BucketUsage, _ verdict: Verdict, reserved: Int) -> LimitRejection {
        let slot = slots[index]
        let dimension = verdict.dimension
        let limit = (dimension == .calls ? slot.rule.calls : slot.rule.tokens) ?? 0
        let amount = dimension == .calls ? Self.count(limit, "call") : Self.count(limit, "token")
        let window = "per \(slot.rule.renewalPeriod.rawValue)\(subject(slot)) on endpoint \(endpoint)"
        let message: String
        if verdict.tooLarge {
            message = "Request too large: it may use \(Self.count(reserved, "token")) (prompt estimate plus max_tokens), more than the "
                + "limit of \(amount) \(window). Lower max_tokens or shorten the prompt."
        } else {
            let everyGroup = slot.role == .group && slots.count(where: { $0.role == .group }) > 1
            let note = everyGroup ? " Every group of \(requester?.name ?? "the requester") is over its limit." : ""
            message = "Rate limit exceeded: \(amount) \(window).\(note)"
        }
        return LimitRejection(
            rule: slot.rule, bucketPrincipal: slot.bucket.owner, dimension: dimension,
            retryAfter: verdict.tooLarge ? .zero : usage.resetIn, requestTooLarge: verdict.tooLarge, message: message)
    }

    private func subject(_ slot: Slot) -> String {
        guard let owner = slot.bucket.owner else { return "" }
        switch slot.rule.key {
        case .userGroup: return " for group \(owner)"
        case .servicePrincipal: return " for service principal \(owner)"
        case .user, .endpoint: return requester?.isServicePrincipal == true ? " for service principal \(owner)" : " for user \(owner)"
        }
    }

    private static func count(_ value: Int, _ noun: String) -> String { value == 1 ? "1 \(noun)" : "\(value) \(noun)s" }

    /// Counts only grow, so sums saturate instead of trapping on a hostile `max_tokens`.
    package static func sum(_ a: Int, _ b: Int) -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        return overflow ? (b < 0 ? .min : .max) : total
    }
}

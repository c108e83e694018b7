import Foundation
import Logging
import NIOCore
import TollgateCore

/// The endpoint's guardrails, compiled when its runtime is built.
struct EndpointGuardrails: Sendable {
    var input: GuardrailCheck?
    var output: GuardrailCheck?

    init(_ config: GuardrailsConfig?) {
        input = GuardrailCheck(config?.input, direction: .input)
        output = GuardrailCheck(config?.output, direction: .output)
    }
}

/// A request governance refused: the error to answer, and when to retry (429).
struct GateRefusal: Error {
    var error: GatewayError
    var retryAfterSeconds: Int?
}

/// Governance before the upstream call: rate limits (admission and token reservation), then the
/// input guardrails (PII, keywords, patterns, the judge's checks). Fills `call.governance`.
struct GovernanceGate: Sendable {
    let limiter: any RateLimiter
    let judge: GuardrailJudgeClient
    let metrics: GatewayMetrics
    /// Tokens reserved for the answer when the request names no `max_tokens`.
    let defaultOutputReservation: Int
    let logger: Logger

    func admit(_ call: inout InferenceCall, requester: Requester?) async throws(GateRefusal) {
        call.governance.metrics = metrics
        call.governance.output = call.endpoint.guardrails.output
        let endpoint = call.endpoint.config
        let rules = endpoint.aiGateway.rateLimits
        let input = call.endpoint.guardrails.input
        // The upstream body is parsed once, for the token estimate and the input guardrails.
        let countsTokens = rules.contains { $0.tokens != nil }
        let parsed = countsTokens || input != nil ? try? JSONValue.parse(call.upstreamBody.readableBytesView) : nil
        if !rules.isEmpty {
            // Embeddings have no answer tokens to reserve.
            let output = call.isEmbeddings ? 0 : (call.maxTokens ?? defaultOutputReservation)
            let input = countsTokens ? (parsed.map(TokenEstimator.estimateInput(parsed:)) ?? 0) : 0
            call.governance.inputTokens = input
            let reserved = countsTokens ? input + output : 0
            try await admitLimits(&call, rules: rules, requester: requester, reserved: reserved)
        }
        guard let input, let parsed else { return }
        do throws(GateRefusal) {
            try await screenInput(&call, check: input, parsed: parsed)
        } catch {
            // A refused request used no tokens.
            call.governance.settle(tokens: 0)
            throw error
        }
    }

    private func admitLimits(
        _ call: inout InferenceCall, rules: [RateLimitRule], requester: Requester?, reserved: Int
    ) async throws(GateRefusal) {
        let request = LimitRequest(endpoint: call.endpoint.config.name, rules: rules, requester: requester, tokens: reserved)
        switch await limiter.admit(request) {
        case .admitted(let ticket, let headers):
            call.governance.limiter = limiter
            call.governance.ticket = ticket
            call.governance.limitHeaders = headers
        case .rejected(let rejection, let headers):
            call.governance.limitHeaders = headers
            metrics.rateLimited(endpoint: request.endpoint, key: rejection.rule.key.rawValue, dimension: rejection.dimension.rawValue)
            call.record.rateLimit = [
                "key": .string(rejection.rule.key.rawValue), "principal": rejection.bucketPrincipal.map(JSONValue.string) ?? .null,
                "dimension": .string(rejection.dimension.rawValue),
                "limit": .optionalInt(rejection.dimension == .calls ? rejection.rule.calls : rejection.rule.tokens),
                "renewal_period": .string(rejection.rule.renewalPeriod.rawValue),
            ]
            logger.info("rate limit exceeded", metadata: [
                "endpoint": "\(request.endpoint)", "key": "\(rejection.rule.key.rawValue)", "dimension": "\(rejection.dimension.rawValue)",
            ])
            var error = GatewayError(code: .rateLimitExceeded, status: 429, message: rejection.message)
            error.extra["limit"] = call.record.rateLimit
            throw GateRefusal(error: error, retryAfterSeconds: rejection.requestTooLarge ? nil : rejection.retryAfterSeconds)
        }
    }

    private func screenInput(_ call: inout InferenceCall, check: GuardrailCheck, parsed: JSONValue) async throws(GateRefusal) {
        let (found, masked) = check.screen(ChatTexts.texts(in: parsed))
        var findings = found
        let endpoint = call.endpoint.config.name
        var sent = parsed
        if !findings.contains(where: \.blocks), findings.contains(where: { $0.action == .mask }) {
            var next = masked.makeIterator()
            sent = ChatTexts.rewrite(parsed) { next.next() ?? $0 }
            call.upstreamBody = ByteBuffer(bytes: sent.jsonBytes)
        }
        if !findings.contains(where: \.blocks), let judgeConfig = check.settings.judge {
            // The judge reads what goes upstream: masked PII never reaches it. Its time is
            // upstream wait, not the gateway's overhead.
            let text = ChatTexts.userText(in: sent)
            let judging = ContinuousClock.now
            defer { call.record.upstreamWait = (call.record.upstreamWait ?? .zero) + (.now - judging) }
            var questions: [(String, GuardrailJudgeClient.Question)] = []
            if check.settings.safety { questions.append(("safety", .safety)) }
            if !check.settings.validTopics.isEmpty { questions.append(("valid_topics", .topics(check.settings.validTopics))) }
            for (name, question) in questions {
                do throws(GuardrailJudgeClient.Failure) {
                    if !(try await judge.passes(question, text: text, judge: judgeConfig)) {
                        findings.append(GuardrailFinding(direction: .input, check: name, action: .block))
                        break
                    }
                } catch {
                    logger.warning("guardrail judge failed", metadata: ["endpoint": "\(endpoint)", "check": "\(name)", "reason": "\(error.reason)"])
                    if check.settings.onError == .block {
                        findings.append(GuardrailFinding(direction: .input, check: name, action: .block, detail: "judge failed: \(error.reason)"))
                        break
                    }
                }
            }
        }
        for finding in findings {
            metrics.guardrail(endpoint: endpoint, direction: "input", check: finding.check, action: finding.action.rawValue)
        }
        call.governance.inputFindings = findings
        call.record.guardrails = GuardrailAnnotations.record(findings)
        if findings.contains(where: \.blocks) {
            throw GateRefusal(error: GuardrailAnnotations.blockedPrompt(findings), retryAfterSeconds: nil)
        }
    }
}

import Foundation
import TollgateCore

/// Which way a guardrail looks.
enum GuardrailDirection: String, Sendable {
    case input, output
}

/// One thing a guardrail found and what it did (`inference_table.guardrails`).
struct GuardrailFinding: Sendable, Equatable {
    var direction: GuardrailDirection
    /// `pii`, `invalid_keywords`, `patterns`, `safety` or `valid_topics` (the config's names).
    var check: String
    var action: GuardAction
    /// The PII entity, keyword or pattern name; nil for the judge's checks.
    var detail: String?

    init(direction: GuardrailDirection, check: String, action: GuardAction, detail: String? = nil) {
        self.direction = direction
        self.check = check
        self.action = action
        self.detail = detail
    }

    init(_ summary: FindingSummary, direction: GuardrailDirection) {
        self.direction = direction
        action = summary.action
        switch summary.kind {
        case .pii(let entity): check = "pii"; detail = entity.rawValue
        case .keyword(let keyword): check = "invalid_keywords"; detail = keyword
        case .pattern(let name): check = "patterns"; detail = name
        }
    }

    var blocks: Bool { action == .block }
}

/// One direction's guardrails of an endpoint, compiled once when the endpoint is built.
struct GuardrailCheck: Sendable {
    let direction: GuardrailDirection
    let settings: GuardrailSettings
    let screen: TextScreen

    init?(_ settings: GuardrailSettings?, direction: GuardrailDirection) {
        guard let settings, !settings.isEmpty else { return nil }
        let pii = settings.pii
        guard let screen = try? TextScreen(
            pii: pii.map(\.detectors) ?? [], piiAction: pii?.behavior ?? .none, keywords: settings.invalidKeywords, patterns: settings.patterns
        ) else { return nil }
        self.direction = direction
        self.settings = settings
        self.screen = screen
    }

    /// Screens texts: the findings, and each text masked (unchanged when nothing is masked).
    func screen(_ texts: [String]) -> (findings: [GuardrailFinding], masked: [String]) {
        var findings: [GuardrailFinding] = []
        var masked: [String] = []
        masked.reserveCapacity(texts.count)
        for text in texts {
            let found = screen.findings(in: text)
            findings += found.map { GuardrailFinding(FindingSummary(kind: $0.kind, action: $0.action), direction: direction) }
            masked.append(found.contains { $0.action == .mask } ? screen.masked(text, found) : text)
        }
        return (findings, masked)
    }

    /// A stream screen for this direction's settings.
    func streamScreen() -> StreamScreen { StreamScreen(screen: screen, windowCharacters: settings.streamWindowChars) }
}

/// Guardrail results in Azure OpenAI's annotation shape (`content_filter_result(s)`), so the
/// pipeline reads Tollgate's guardrails as it reads Azure's filters: one category per check,
/// `filtered` when it blocked, `detected` when it found something.
enum GuardrailAnnotations {
    static func categories(_ findings: [GuardrailFinding]) -> JSONValue {
        var object = JSONObject()
        var order: [String] = []
        var grouped: [String: [GuardrailFinding]] = [:]
        for finding in findings {
            if grouped[finding.check] == nil { order.append(finding.check) }
            grouped[finding.check, default: []].append(finding)
        }
        for check in order {
            let group = grouped[check] ?? []
            let blocked = group.contains(where: \.blocks)
            let action = blocked ? "BLOCK" : (group.contains { $0.action == .mask } ? "MASK" : "NONE")
            var category: JSONObject = ["filtered": .bool(blocked), "detected": true, "action": .string(action), "source": "tollgate"]
            let details = Array(Set(group.compactMap(\.detail))).sorted()
            if !details.isEmpty { category["matches"] = .array(details.map(JSONValue.string)) }
            object[check] = .object(category)
        }
        return .object(object)
    }

    /// The row's `guardrails` column: every finding, by direction.
    static func record(_ findings: [GuardrailFinding]) -> JSONValue? {
        guard !findings.isEmpty else { return nil }
        let input = findings.filter { $0.direction == .input }
        let output = findings.filter { $0.direction == .output }
        var object = JSONObject()
        if !input.isEmpty { object["input"] = categories(input) }
        if !output.isEmpty { object["output"] = categories(output) }
        return .object(object)
    }

    /// The 400 of a blocked prompt, in Azure's shape, naming the guardrail.
    static func blockedPrompt(_ findings: [GuardrailFinding]) -> GatewayError {
        let fired = findings.filter(\.blocks)
        let labels: [String] = fired.map { finding in
            guard let detail = finding.detail else { return finding.check }
            return "\(finding.check) (\(detail))"
        }
        let names = Array(Set(labels)).sorted().joined(separator: ", ")
        var error = GatewayError(
            code: .contentFilter, status: 400,
            message: "The request was blocked by the endpoint's input guardrails: \(names).", param: "prompt"
        )
        error.extra["status"] = 400
        error.extra["innererror"] = ["code": "ResponsibleAIPolicyViolation", "content_filter_result": categories(findings)]
        return error
    }
}

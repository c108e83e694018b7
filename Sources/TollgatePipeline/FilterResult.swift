import TollgateCore

/// One content-filter category as reported (`gold_filter_results`).
public struct FilterResult: Sendable, Equatable, Hashable {
    public enum Stage: String, Sendable { case prompt, completion }

    public var stage: Stage
    public var category: String
    public var filtered: Bool
    public var severity: String?
    public var detected: Bool?

    public init(stage: Stage, category: String, filtered: Bool, severity: String? = nil, detected: Bool? = nil) {
        self.stage = stage
        self.category = category
        self.filtered = filtered
        self.severity = severity
        self.detected = detected
    }
}

/// Reads Azure OpenAI filter annotations wherever they appear: `prompt_filter_results` (top
/// level or in stream chunks), per-choice `content_filter_results` / `content_filter_result`,
/// and the `innererror.content_filter_result` of a 400.
enum FilterAnnotations {
    /// Categories of one `{hate: {filtered, severity}, jailbreak: {filtered, detected}, …}` object.
    static func categories(_ object: JSONValue?, stage: FilterResult.Stage) -> [FilterResult] {
        guard let object = object?.objectValue else { return [] }
        return object.pairs.compactMap { name, value in
            guard let filtered = value["filtered"]?.boolValue else { return nil }
            return FilterResult(
                stage: stage, category: name, filtered: filtered, severity: value["severity"]?.stringValue,
                detected: value["detected"]?.boolValue
            )
        }
    }

    /// Everything found in one JSON document (a completion, a chunk, an error body).
    static func all(in value: JSONValue) -> [FilterResult] {
        var results: [FilterResult] = []
        for prompt in value["prompt_filter_results"]?.arrayValue ?? value["prompt_annotations"]?.arrayValue ?? [] {
            results += categories(prompt["content_filter_results"] ?? prompt["content_filter_result"], stage: .prompt)
        }
        for choice in value["choices"]?.arrayValue ?? [] {
            results += categories(choice["content_filter_results"] ?? choice["content_filter_result"], stage: .completion)
        }
        if let inner = value["error"]?["innererror"] {
            results += categories(inner["content_filter_result"] ?? inner["content_filter_results"], stage: .prompt)
        }
        return results
    }

    /// Keeps one result per stage and category: a category that fired anywhere stays fired.
    static func merged(_ results: [FilterResult]) -> [FilterResult] {
        // A handful of categories per request: a linear scan beats building string keys.
        var merged: [FilterResult] = []
        merged.reserveCapacity(results.count)
        for result in results {
            guard let index = merged.firstIndex(where: { $0.stage == result.stage && $0.category == result.category }) else {
                merged.append(result)
                continue
            }
            let existing = merged[index]
            let fires = result.filtered && !existing.filtered
            let sameVerdictHigherSeverity = result.filtered == existing.filtered
                && (result.severity.map(Self.rank) ?? 0) > (existing.severity.map(Self.rank) ?? 0)
            if fires || sameVerdictHigherSeverity { merged[index] = result }
        }
        return merged
    }

    static func rank(_ severity: String) -> Int {
        switch severity {
        case "low": 1
        case "medium": 2
        case "high": 3
        default: 0
        }
    }
}

import Testing
import TollgateCore

@testable import TollgatePipeline

@Suite("Filter annotations")
struct FilterAnnotationsTests {
    @Test func aCategoryThatFiredStaysFired() {
        let merged = FilterAnnotations.merged([
            FilterResult(stage: .prompt, category: "violence", filtered: true, severity: "low"),
            FilterResult(stage: .prompt, category: "violence", filtered: false, severity: "medium"),
            FilterResult(stage: .prompt, category: "hate", filtered: false, severity: "safe"),
            FilterResult(stage: .prompt, category: "hate", filtered: false, severity: "low"),
        ])
        #expect(merged == [
            FilterResult(stage: .prompt, category: "violence", filtered: true, severity: "low"),
            FilterResult(stage: .prompt, category: "hate", filtered: false, severity: "low"),
        ])
    }

    @Test func singularKeyAndInnerErrorAreRead() throws {
        let body = try JSONValue.parse(#"{"choices":[{"content_filter_result":{"sexual":{"filtered":true,"severity":"high"}}}],"error":{"innererror":{"content_filter_result":{"jailbreak":{"filtered":true,"detected":true}}}}}"#)
        let results = FilterAnnotations.all(in: body)
        #expect(results.contains(FilterResult(stage: .completion, category: "sexual", filtered: true, severity: "high")))
        #expect(results.contains(FilterResult(stage: .prompt, category: "jailbreak", filtered: true, severity: nil, detected: true)))
    }
}

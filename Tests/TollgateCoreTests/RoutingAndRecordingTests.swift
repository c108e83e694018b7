import Foundation
import Testing

@testable import TollgateCore

private func endpoint(_ routes: [(String, Int)]?, entities: [String]? = nil) -> EndpointConfig {
    let names = entities ?? (routes ?? []).map(\.0)
    return EndpointConfig(
        name: "e",
        config: EndpointCoreConfig(
            servedEntities: names.map { ServedEntityConfig(name: $0, externalModel: ExternalModelConfig(provider: "p", name: "m-\($0)")) },
            trafficConfig: routes.map { TrafficConfig(routes: $0.map { TrafficRoute(servedEntityName: $0.0, trafficPercentage: $0.1) }) }
        )
    )
}

@Suite("Traffic router")
struct TrafficRouterTests {
    private let router = TrafficRouter(endpoint: endpoint([("a", 70), ("b", 30)]))

    @Test func seventyThirtyBoundaries() {
        #expect(router.entityName(roll: 1) == "a")
        #expect(router.entityName(roll: 70) == "a")
        #expect(router.entityName(roll: 71) == "b")
        #expect(router.entityName(roll: 100) == "b")
    }

    @Test func seventyThirtyCoversEveryRollExactly() {
        let names = (1...100).map { router.entityName(roll: $0) }
        #expect(names == Array(repeating: "a", count: 70) + Array(repeating: "b", count: 30))
    }

    @Test func zeroPercentRoutesAreNeverChosen() {
        let router = TrafficRouter(endpoint: endpoint([("a", 0), ("b", 70), ("c", 0), ("d", 30), ("e", 0)]))
        let names = (1...100).map { router.entityName(roll: $0) }
        #expect(names == Array(repeating: "b", count: 70) + Array(repeating: "d", count: 30))
        let picks = Set((0..<500).map { _ in router.pick() })
        #expect(picks == ["b", "d"])
    }

    @Test func zeroPercentFirstEntityIsNotTheSingleRouteTarget() {
        let router = TrafficRouter(endpoint: endpoint([("old", 0), ("new", 100)]))
        #expect((1...100).allSatisfy { router.entityName(roll: $0) == "new" })
        #expect((0..<50).allSatisfy { _ in router.pick() == "new" })
    }

    @Test func threeWaySplit() {
        let router = TrafficRouter(endpoint: endpoint([("a", 10), ("b", 50), ("c", 40)]))
        #expect(router.entityName(roll: 10) == "a")
        #expect(router.entityName(roll: 11) == "b")
        #expect(router.entityName(roll: 60) == "b")
        #expect(router.entityName(roll: 61) == "c")
        #expect(router.entityName(roll: 100) == "c")
    }

    @Test func withoutTrafficConfigTheFirstEntityIsUsed() {
        let router = TrafficRouter(endpoint: endpoint(nil, entities: ["only", "other"]))
        #expect(router.pick() == "only")
        #expect(router.entityName(roll: 50) == "only")
    }

    @Test func randomPicksFollowTheSplit() {
        let draws = 4000
        let countA = (0..<draws).filter { _ in router.pick() == "a" }.count
        // Expected 2800 with a standard deviation of about 29.
        #expect((2550...3050).contains(countA))
    }
}

@Suite("Token estimator")
struct TokenEstimatorTests {
    private let chatRequest = #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi there"}]}"#

    @Test func noEvidenceGivesNil() {
        #expect(TokenEstimator.usage(for: .none, requestBody: chatRequest) == nil)
    }

    @Test func reportedCountsArePassedThrough() {
        #expect(TokenEstimator.usage(for: .reported(input: 12, output: 34), requestBody: chatRequest)
            == TokenUsage(input: 12, output: 34, source: .reported))
    }

    @Test func chatCompletionUsageInResponseBodyIsReported() {
        let body = #"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!"}}],"usage":{"prompt_tokens":21,"completion_tokens":5,"total_tokens":26}}"#
        #expect(TokenEstimator.usage(for: .responseBody(body), requestBody: chatRequest)
            == TokenUsage(input: 21, output: 5, source: .reported))
    }

    @Test func responsesUsageInResponseBodyIsReported() {
        let body = #"{"id":"resp_1","output":[],"usage":{"input_tokens":8,"output_tokens":3,"total_tokens":11}}"#
        #expect(TokenEstimator.usage(for: .responseBody(body), requestBody: nil)
            == TokenUsage(input: 8, output: 3, source: .reported))
    }

    @Test func responseBodyWithoutUsageIsEstimated() throws {
        // "Hello world, how are you?" is 25 characters: 7 tokens. The request holds
        // "Be brief." + "Hi there" = 17 characters (5 tokens) plus 3 per message.
        let body = #"{"id":"c","choices":[{"index":0,"message":{"role":"assistant","content":"Hello world, how are you?"}}]}"#
        let usage = try #require(TokenEstimator.usage(for: .responseBody(body), requestBody: chatRequest))
        #expect(usage == TokenUsage(input: 11, output: 7, source: .estimated))
        #expect(usage.input > 0)
        #expect(usage.output > 0)
    }

    @Test func incompleteOrNullUsageIsEstimated() {
        let partial = #"{"choices":[{"message":{"content":"abcd"}}],"usage":{"prompt_tokens":4}}"#
        #expect(TokenEstimator.usage(for: .responseBody(partial), requestBody: chatRequest)
            == TokenUsage(input: 11, output: 1, source: .estimated))
        let null = #"{"choices":[{"message":{"content":"abcde"}}],"usage":null}"#
        #expect(TokenEstimator.usage(for: .responseBody(null), requestBody: chatRequest)
            == TokenUsage(input: 11, output: 2, source: .estimated))
    }

    @Test func unparsableResponseBodyEstimatesOnlyTheInput() {
        #expect(TokenEstimator.usage(for: .responseBody("not json"), requestBody: chatRequest)
            == TokenUsage(input: 11, output: 0, source: .estimated))
    }

    @Test func estimateEvidenceUsesTheResponseText() throws {
        let usage = try #require(TokenEstimator.usage(for: .estimate(responseText: "The quick brown fox jumps"), requestBody: chatRequest))
        #expect(usage.source == .estimated)
        #expect(usage.output == 7)
        #expect(usage.input == 11)
    }

    @Test func estimateWithoutRequestBody() {
        #expect(TokenEstimator.usage(for: .estimate(responseText: "abcdefgh"), requestBody: nil)
            == TokenUsage(input: 0, output: 2, source: .estimated))
    }

    @Test func fourCharactersPerTokenRoundedUp() {
        #expect(TokenEstimator.estimate("") == 0)
        #expect(TokenEstimator.estimate("a") == 1)
        #expect(TokenEstimator.estimate("abcd") == 1)
        #expect(TokenEstimator.estimate("abcde") == 2)
        #expect(TokenEstimator.estimate("abcdefgh") == 2)
        #expect(TokenEstimator.estimate("abcdefghi") == 3)
        #expect(TokenEstimator.estimate(String(repeating: "x", count: 400)) == 100)
        #expect(TokenEstimator.estimate("🎉🎉🎉🎉🎉") == 2)
    }

    @Test func inputEstimateReadsResponsesAndContentParts() {
        #expect(TokenEstimator.estimateInput(nil) == 0)
        #expect(TokenEstimator.estimateInput("not json") == 0)
        // "Hello there!" (12) + "Be brief." (9) = 21 characters: 6 tokens, no chat messages.
        #expect(TokenEstimator.estimateInput(#"{"input":"Hello there!","instructions":"Be brief."}"#) == 6)
        // Input items: "abcd" + "efgh" = 8 characters: 2 tokens.
        #expect(TokenEstimator.estimateInput(#"{"input":[{"role":"user","content":"abcd"},{"role":"user","content":[{"type":"input_text","text":"efgh"}]}]}"#) == 2)
        // One chat message with text parts "abcd" + "efghijkl" = 12 characters: 3 tokens + 3.
        #expect(TokenEstimator.estimateInput(#"{"messages":[{"role":"user","content":[{"type":"text","text":"abcd"},{"type":"text","text":"efghijkl"}]}]}"#) == 6)
    }

    @Test func reportedReaderAcceptsBothUsageShapes() {
        #expect(TokenEstimator.reported(in: ["prompt_tokens": 1, "completion_tokens": 2]) == TokenUsage(input: 1, output: 2, source: .reported))
        #expect(TokenEstimator.reported(in: ["input_tokens": 3, "output_tokens": 4]) == TokenUsage(input: 3, output: 4, source: .reported))
        #expect(TokenEstimator.reported(in: ["total_tokens": 7]) == nil)
        #expect(TokenEstimator.reported(in: .null) == nil)
    }
}

@Suite("Inference record payload limit")
struct InferenceRecordTests {
    private func record(request: String?, response: String?) -> InferenceRecord {
        var record = InferenceRecord(requestID: "r", requestTime: Date(timeIntervalSince1970: 0), endpointName: "e", api: .chat, stream: false, statusCode: 200)
        record.request = request
        record.response = response
        return record
    }

    @Test func payloadsWithinTheLimitAreKept() {
        var r = record(request: "0123456789", response: "abc")
        r.applyPayloadLimit(10)
        #expect(r.request == "0123456789")
        #expect(r.response == "abc")
        #expect(r.loggingErrorCodes == [])
    }

    @Test func requestOverTheLimitIsDropped() {
        var r = record(request: "0123456789A", response: "abc")
        r.applyPayloadLimit(10)
        #expect(r.request == nil)
        #expect(r.response == "abc")
        #expect(r.loggingErrorCodes == [.maxRequestSizeExceeded])
        #expect(r.loggingErrorCodes.map(\.rawValue) == ["MAX_REQUEST_SIZE_EXCEEDED"])
    }

    @Test func responseOverTheLimitIsDropped() {
        var r = record(request: "{}", response: String(repeating: "x", count: 11))
        r.applyPayloadLimit(10)
        #expect(r.request == "{}")
        #expect(r.response == nil)
        #expect(r.loggingErrorCodes.map(\.rawValue) == ["MAX_RESPONSE_SIZE_EXCEEDED"])
    }

    @Test func bothOverTheLimitAreDroppedWithBothCodes() {
        var r = record(request: String(repeating: "q", count: 50), response: String(repeating: "r", count: 50))
        r.applyPayloadLimit(49)
        #expect(r.request == nil)
        #expect(r.response == nil)
        #expect(r.loggingErrorCodes == [.maxRequestSizeExceeded, .maxResponseSizeExceeded])
    }

    @Test func limitCountsUTF8BytesNotCharacters() {
        var r = record(request: "éééééé", response: "ok")
        #expect(r.request?.count == 6)
        r.applyPayloadLimit(10)
        #expect(r.request == nil)
        #expect(r.loggingErrorCodes == [.maxRequestSizeExceeded])
    }

    @Test func absentPayloadsRecordNoCodes() {
        var r = record(request: nil, response: nil)
        r.applyPayloadLimit(0)
        #expect(r.loggingErrorCodes == [])
    }
}

@Suite("UTC timestamps and identifiers")
struct TimestampTests {
    private let shape = #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/#

    @Test func currentTimeHasMillisecondISO8601Shape() throws {
        let text = UTCTimestamp.iso8601(Date())
        #expect(text.wholeMatch(of: shape) != nil, "\(text)")
        #expect(text.hasSuffix("Z"))
        #expect(text.count == 24)
        let fraction = try #require(text.split(separator: ".").last)
        #expect(fraction.count == 4)
        #expect(fraction.dropLast().allSatisfy { $0.isNumber })
    }

    @Test func knownInstantsFormatExactly() {
        #expect(UTCTimestamp.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(UTCTimestamp.iso8601(Date(timeIntervalSince1970: 1_767_323_045.125)) == "2026-01-02T03:04:05.125Z")
        #expect(UTCTimestamp.iso8601(Date(timeIntervalSince1970: 1_767_225_599.5)) == "2025-12-31T23:59:59.500Z")
    }

    @Test func wholeSecondsStillHaveThreeFractionalDigits() throws {
        let text = UTCTimestamp.iso8601(Date(timeIntervalSince1970: 1_700_000_000))
        #expect(text == "2023-11-14T22:13:20.000Z")
        #expect(text.wholeMatch(of: shape) != nil)
    }

    @Test func dayIsTheFirstTenCharactersInUTC() {
        let date = Date(timeIntervalSince1970: 1_767_225_599.5)
        #expect(UTCTimestamp.day(date) == "2025-12-31")
        #expect(UTCTimestamp.day(date) == String(UTCTimestamp.iso8601(date).prefix(10)))
        #expect(UTCTimestamp.day(Date(timeIntervalSince1970: 1_767_225_600)) == "2026-01-01")
        let now = Date()
        #expect(UTCTimestamp.day(now) == String(UTCTimestamp.iso8601(now).prefix(10)))
        #expect(UTCTimestamp.day(now).wholeMatch(of: #/\d{4}-\d{2}-\d{2}/#) != nil)
    }

    @Test func requestIDIsALowercaseUUID() {
        let id = Identifiers.requestID()
        #expect(id.wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/#) != nil, "\(id)")
        #expect(Identifiers.requestID() != id)
    }

    @Test func hexIdentifierHasPrefixAnd32HexDigits() {
        let id = Identifiers.hex(prefix: "chatcmpl-")
        #expect(id.hasPrefix("chatcmpl-"))
        #expect(id.dropFirst("chatcmpl-".count).wholeMatch(of: #/[0-9a-f]{32}/#) != nil, "\(id)")
    }
}

import Foundation
import Testing

@testable import TollgateCore

/// The labelled corpus `Fixtures/pii_corpus.jsonl`, made and checked by `tools/pii-corpus`
/// against independent libraries (phonenumbers, python-stdnum, email-validator, ipaddress).
enum PIICorpus {
    struct Entity: Decodable, Hashable {
        var type: String
        var value: String
    }

    struct Case: Decodable {
        var text: String
        var entities: [Entity]
        var tags: [String]?
    }

    /// Read relative to this file, so the test needs no SwiftPM resources.
    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("pii_corpus.jsonl")

    static func load() throws -> [Case] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let decoder = JSONDecoder()
        return try text.split(separator: "\n").map { try decoder.decode(Case.self, from: Data($0.utf8)) }
    }
}

@Suite("PII detectors on the labelled corpus")
struct PIICorpusTests {
    private struct Tally {
        var truePositives = 0
        var falsePositives = 0
        var falseNegatives = 0

        var precision: Double { truePositives + falsePositives == 0 ? 1 : Double(truePositives) / Double(truePositives + falsePositives) }
        var recall: Double { truePositives + falseNegatives == 0 ? 1 : Double(truePositives) / Double(truePositives + falseNegatives) }
    }

    @Test func everyDetectorHasPrecisionAndRecallOfAtLeast95Percent() throws {
        let cases = try PIICorpus.load()
        #expect(cases.count >= 500)
        let screen = try TextScreen(pii: Set(PIIEntity.allCases), piiAction: .mask, keywords: [], patterns: [])
        var tallies: [PIIEntity: Tally] = [:]
        var misses: [String] = []
        for item in cases {
            var labels = item.entities.map { (type: $0.type, value: $0.value.trimmingCharacters(in: .whitespaces)) }
            for finding in screen.findings(in: item.text) {
                guard case .pii(let entity) = finding.kind else { continue }
                let value = finding.matched.trimmingCharacters(in: .whitespaces)
                if let index = labels.firstIndex(where: { $0.type == entity.rawValue && $0.value == value }) {
                    labels.remove(at: index)
                    tallies[entity, default: Tally()].truePositives += 1
                } else {
                    tallies[entity, default: Tally()].falsePositives += 1
                    misses.append("FP \(entity.rawValue) \(value.debugDescription) in \(item.text.debugDescription)")
                }
            }
            for label in labels {
                guard let entity = PIIEntity(rawValue: label.type) else {
                    Issue.record("unknown entity type \(label.type)")
                    continue
                }
                tallies[entity, default: Tally()].falseNegatives += 1
                misses.append("FN \(label.type) \(label.value.debugDescription) in \(item.text.debugDescription)")
            }
        }
        var table = "detector      precision  recall    TP   FP   FN\n"
        for entity in PIIEntity.allCases {
            let tally = tallies[entity] ?? Tally()
            table += entity.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)
                + String(format: "%9.3f %7.3f %5d %4d %4d\n", tally.precision, tally.recall, tally.truePositives, tally.falsePositives, tally.falseNegatives)
        }
        print("PII corpus: \(cases.count) cases\n" + table + misses.prefix(40).joined(separator: "\n"))
        for entity in PIIEntity.allCases {
            let tally = tallies[entity] ?? Tally()
            #expect(tally.truePositives > 0, "\(entity.rawValue) has no positives in the corpus")
            #expect(tally.precision >= 0.95, "\(entity.rawValue) precision \(tally.precision)")
            #expect(tally.recall >= 0.95, "\(entity.rawValue) recall \(tally.recall)")
        }
    }
}

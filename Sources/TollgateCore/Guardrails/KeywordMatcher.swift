import Foundation

/// `invalid_keywords`: each entry matched case-insensitively as a whole word, so `rob` is found
/// in `Rob's` and `ROB` but not in `problem` or `robot`.
///
/// "Whole word" means the characters on either side are not letters, digits, marks or `_` — for
/// the sides of the entry that are such characters themselves (`c++` needs a boundary before the
/// `c` only; `$$$` needs none). Scripts written without spaces (Han, kana, Thai) never form
/// words with their neighbours, so `bomb` is found in `炸弹bomb` and `炸弹` anywhere.
///
/// Entries are trimmed and otherwise matched literally. ASCII entries are matched on the UTF-8
/// bytes with one table look-up per byte; others through ICU (`NSRegularExpression`), whose case
/// folding covers non-ASCII letters.
struct KeywordMatcher: Sendable {
    private struct ASCIIKeyword: Sendable {
        let entry: String
        let lowercased: [UInt8]
        let needsStartBoundary: Bool
        let needsEndBoundary: Bool
    }

    private struct UnicodeKeyword: Sendable {
        let entry: String
        let regex: NSRegularExpression
    }

    private let ascii: [ASCIIKeyword]
    /// For each lowercased first byte, the ASCII keywords starting with it.
    private let byFirstByte: [[Int]]
    /// For each (lowercased) byte: 0 when no ASCII keyword starts with it, 1 when all that do
    /// need a word boundary before them, 2 otherwise. A flat table, so a byte that starts nothing,
    /// or that sits inside a word, costs a load and a compare.
    private let startsKeyword: [UInt8]
    private let unicode: [UnicodeKeyword]
    /// The longest entry, in characters.
    let longestEntry: Int

    var isEmpty: Bool { ascii.isEmpty && unicode.isEmpty }

    init(_ entries: [String]) throws {
        var ascii: [ASCIIKeyword] = []
        var unicode: [UnicodeKeyword] = []
        var byFirstByte = [[Int]](repeating: [], count: 256)
        var longest = 0
        for entry in entries {
            let word = entry.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let first = word.unicodeScalars.first, let last = word.unicodeScalars.last else { continue }
            longest = max(longest, word.count)
            if word.utf8.allSatisfy({ $0 < 0x80 }) {
                let bytes = word.utf8.map(\.asciiLowercased)
                byFirstByte[Int(bytes[0])].append(ascii.count)
                ascii.append(ASCIIKeyword(
                    entry: entry, lowercased: bytes, needsStartBoundary: Self.isWordScalar(first), needsEndBoundary: Self.isWordScalar(last)
                ))
            } else {
                let wordClass = #"[[\p{L}\p{N}\p{M}_]--[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]]"#
                let pattern = (Self.isWordScalar(first) ? "(?<!\(wordClass))" : "") + NSRegularExpression.escapedPattern(for: word)
                    + (Self.isWordScalar(last) ? "(?!\(wordClass))" : "")
                do {
                    unicode.append(UnicodeKeyword(entry: entry, regex: try NSRegularExpression(pattern: pattern, options: [.caseInsensitive])))
                } catch {
                    throw TextScreenError.invalidPattern(name: entry, reason: "keyword could not be compiled: \(error)")
                }
            }
        }
        self.ascii = ascii
        self.byFirstByte = byFirstByte
        startsKeyword = byFirstByte.map { list in
            list.isEmpty ? 0 : list.allSatisfy { ascii[$0].needsStartBoundary } ? 1 : 2
        }
        self.unicode = unicode
        longestEntry = longest
    }

    /// ASCII entries found in `text`, as byte ranges with their entries.
    func scanASCII(_ text: ScanText, into hits: inout [(range: Range<Int>, entry: String)]) {
        guard !ascii.isEmpty else { return }
        startsKeyword.withUnsafeBufferPointer { starts in
            for index in 0..<text.count {
                let kind = starts[Int(text.bytes[index].asciiLowercased)]
                if kind == 0 { continue }
                if kind == 1, index > 0, text.bytes[index - 1].isAlnumByte || text.bytes[index - 1] == .underscore { continue }
                scanASCII(text, at: index, into: &hits)
            }
        }
    }

    /// The ASCII keywords that start at byte `index`.
    private func scanASCII(_ text: ScanText, at index: Int, into hits: inout [(range: Range<Int>, entry: String)]) {
        var startIsBoundary: Bool? = nil
        for candidate in byFirstByte[Int(text.bytes[index].asciiLowercased)] {
            let keyword = ascii[candidate]
            let end = index + keyword.lowercased.count
            guard end <= text.count else { continue }
            if keyword.needsStartBoundary {
                if startIsBoundary == nil { startIsBoundary = !isWordBefore(text, index) }
                if startIsBoundary == false { continue }
            }
            var same = true
            for offset in 1..<keyword.lowercased.count where text.bytes[index + offset].asciiLowercased != keyword.lowercased[offset] {
                same = false
                break
            }
            guard same, !keyword.needsEndBoundary || !isWordAfter(text, end) else { continue }
            hits.append((index..<end, keyword.entry))
        }
    }

    /// Non-ASCII entries found in `string`, as byte ranges of its UTF-8 with their entries.
    func scanUnicode(_ string: String, into hits: inout [(range: Range<Int>, entry: String)]) {
        guard !unicode.isEmpty else { return }
        let whole = NSRange(string.startIndex..., in: string)
        for keyword in unicode {
            for match in keyword.regex.matches(in: string, range: whole) {
                guard let range = Range(match.range, in: string), !range.isEmpty else { continue }
                hits.append((string.utf8Offsets(of: range), keyword.entry))
            }
        }
    }

    private func isWordBefore(_ text: ScanText, _ index: Int) -> Bool {
        let byte = text[index - 1]
        if byte < 0x80 { return byte.isAlnumByte || byte == .underscore }
        return text.scalar(endingAt: index).map(Self.isWordScalar) ?? false
    }

    private func isWordAfter(_ text: ScanText, _ index: Int) -> Bool {
        let byte = text[index]
        if byte < 0x80 { return byte.isAlnumByte || byte == .underscore }
        return text.scalar(startingAt: index).map(Self.isWordScalar) ?? false
    }

    /// A scalar that joins a word: a letter, digit, mark or `_`, outside the scripts written
    /// without spaces.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII { return UInt8(scalar.value).isAlnumByte || scalar == "_" }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark: return true
        default: break
        }
        guard properties.isAlphabetic || properties.numericType != nil else { return false }
        return !isUnspacedScript(scalar.value)
    }

    /// Han, kana, Thai, Lao, Khmer and Myanmar: scripts whose words are not separated by spaces.
    private static func isUnspacedScript(_ value: UInt32) -> Bool {
        switch value {
        case 0x0E00...0x0EFF, 0x1000...0x109F, 0x1780...0x17FF, 0x3040...0x30FF, 0x31F0...0x31FF, 0x3400...0x4DBF,
             0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9F, 0x20000...0x3FFFF:
            true
        default:
            false
        }
    }
}

extension String {
    /// The UTF-8 offsets of `range`, an index range of this string.
    func utf8Offsets(of range: Range<String.Index>) -> Range<Int> {
        let start = utf8.distance(from: utf8.startIndex, to: range.lowerBound)
        return start..<(start + utf8.distance(from: range.lowerBound, to: range.upperBound))
    }
}

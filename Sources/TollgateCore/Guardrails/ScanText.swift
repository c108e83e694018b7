/// The UTF-8 bytes the detectors read. Reads outside the text answer 0 (a byte no detector
/// accepts), so boundary checks before the start or past the end need no bounds tests.
///
/// Detectors work on bytes, not `Character`s: every built-in format is ASCII, grapheme breaking
/// would cost more than the whole scan, and a multi-byte scalar next to a match then simply acts
/// as a boundary, which is what CJK text without spaces needs (`电话+86 138 0013 8000`).
struct ScanText {
    let bytes: UnsafeBufferPointer<UInt8>

    var count: Int { bytes.count }

    subscript(_ index: Int) -> UInt8 {
        index >= 0 && index < bytes.count ? bytes[index] : 0
    }

    /// The scalar that ends just before byte `index`, if any.
    func scalar(endingAt index: Int) -> Unicode.Scalar? {
        guard index > 0, index <= count else { return nil }
        var start = index - 1
        // Step back over continuation bytes (10xxxxxx) to the scalar's lead byte.
        while start > 0, index - start < 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(startingAt: start)
    }

    /// The scalar that starts at byte `index`, if any.
    func scalar(startingAt index: Int) -> Unicode.Scalar? {
        guard index >= 0, index < count else { return nil }
        var iterator = UnsafeBufferPointer(rebasing: bytes[index...]).makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) { return scalar }
        return nil
    }

    /// Whether the bytes at `index` spell `word` in ASCII, ignoring case (`word` is lowercase).
    func matchesLowercase(_ word: StaticString, at index: Int) -> Bool {
        let length = word.utf8CodeUnitCount
        guard index >= 0, index + length <= count else { return false }
        let pointer = word.utf8Start
        for offset in 0..<length where bytes[index + offset].asciiLowercased != pointer[offset] {
            return false
        }
        return true
    }

    /// Whether the text before byte `index` (skipping spaces and the punctuation that sits between
    /// a label and its value, `#`, `:`, `.`, `=`) ends in one of `words`, ignoring case, within
    /// `limit` bytes. Detectors use it for context such as `SSN: 123456789` or `version 1.2.3.4`.
    func precededByWord(_ words: [StaticString], before index: Int, limit: Int = 24) -> Bool {
        var end = index
        let floor = max(0, index - limit)
        while end > floor, self[end - 1].isLabelPunctuation { end -= 1 }
        let last = self[end - 1].asciiLowercased
        for word in words {
            let length = word.utf8CodeUnitCount
            let start = end - length
            // The last letters differ for nearly every word: compare them before the rest.
            guard start >= floor, word.utf8Start[length - 1] == last else { continue }
            if matchesLowercase(word, at: start), !self[start - 1].isAlnumByte { return true }
        }
        return false
    }
}

extension UInt8 {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let hash = UInt8(ascii: "#")
    static let colon = UInt8(ascii: ":")
    static let period = UInt8(ascii: ".")
    static let equals = UInt8(ascii: "=")
    static let minus = UInt8(ascii: "-")
    static let plus = UInt8(ascii: "+")
    static let underscore = UInt8(ascii: "_")
    static let at = UInt8(ascii: "@")
    static let slash = UInt8(ascii: "/")
    static let openParen = UInt8(ascii: "(")
    static let closeParen = UInt8(ascii: ")")

    var isDigitByte: Bool { self &- 0x30 < 10 }
    var isUpperByte: Bool { self &- 0x41 < 26 }
    var isLowerByte: Bool { self &- 0x61 < 26 }
    var isAlphaByte: Bool { (self | 0x20) &- 0x61 < 26 }
    var isAlnumByte: Bool { isDigitByte || isAlphaByte }
    var isHexByte: Bool { isDigitByte || (self | 0x20) &- 0x61 < 6 }
    /// `[A-Za-z0-9_-]`: the alphabet of API keys and URL-safe base64.
    var isTokenByte: Bool { isAlnumByte || self == .underscore || self == .minus }
    var isASCIISpace: Bool { self == .space || self == .tab || self == 0x0A || self == 0x0D || self == 0x0C || self == 0x0B }
    /// What sits between a label and its value: `SSN: `, `version=`, `ref #`.
    var isLabelPunctuation: Bool {
        self == .space || self == .tab || self == .hash || self == .colon || self == .period || self == .equals || self == .minus
    }
    var asciiLowercased: UInt8 { isUpperByte ? self | 0x20 : self }
    var digitValue: Int { Int(self &- 0x30) }
}

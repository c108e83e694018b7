import Foundation

/// The generic secret rule: a run of 32–256 `[A-Za-z0-9_-]` characters that looks random.
///
/// Random keys differ from the long tokens of ordinary text in ways cheap to measure: their
/// letters, digits and cases alternate every two characters or so, where identifiers, slugs and
/// long words keep each word together (`getUserAccountSettings2024`), and their characters spread
/// evenly (above 3.7 bits each, where identifiers stay near 3.9 but only with long segments).
/// The rule deliberately does not call these secrets:
/// - hex-only tokens: git SHAs, SHA-256/MD5 digests, UUIDs (all hex and dashes), `0x…`
///   addresses, and hex after a word prefix (`chatcmpl-<hex>`, `req_<hex>`) are references that
///   fill logs and code reviews, not credentials;
/// - object ids with a well-known prefix (`chatcmpl-`, `resp_`, `msg_`, `call_`, `toolu_`…), which
///   the APIs Tollgate fronts put in every response;
/// - tokens that decode as base64 to printable text (`SGVsbG8gd29ybGQ…`): encoded prose, not keys;
/// - parts of paths, URLs, file names and base64 blobs: a run right after `/`, `\`, `.`, `@`, `%`
///   or `+`, or right before `/`, `+`, `=`, `@`, `%` or a `.` that continues the token.
enum HighEntropyToken {
    static let lengths = 32...256

    static func isSecret(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        guard lengths.contains(end - start) else { return false }
        let before = text[start - 1]
        let after = text[end]
        if before == .slash || before == UInt8(ascii: "\\") || before == .period || before == .at || before == UInt8(ascii: "%")
            || before == .plus {
            return false
        }
        if after == .slash || after == .plus || after == .equals || after == .at || after == UInt8(ascii: "%")
            || (after == .period && text[end + 1].isTokenByte) {
            return false
        }
        var digits = 0
        var letters = 0
        for index in start..<end {
            let byte = text[index]
            if byte.isDigitByte { digits += 1 } else if byte.isAlphaByte { letters += 1 }
        }
        guard digits > 0, letters > 0, !isReference(text, start, end), !isSeparatedWords(text, start, end),
              looksRandom(text, start, end, segmentLimit: 4.0) else { return false }
        return !decodesToText(text, start, end)
    }

    /// Prefixes of the object ids in model API responses and payment APIs: public handles.
    private static let idPrefixes: [StaticString] = [
        "chatcmpl-", "cmpl-", "resp_", "msg_", "call_", "toolu_", "req_", "file-", "file_", "asst_", "thread_", "run_",
        "batch_", "ftjob-", "org-", "evt_", "cus_", "pi_", "ch_", "sub_", "price_", "prod_",
    ]

    /// Whether the run is a digest or an id rather than a credential (see the type's notes).
    static func isReference(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        for prefix in idPrefixes where text.matchesLowercase(prefix, at: start) { return true }
        var body = start
        if text[start] == UInt8(ascii: "0"), text[start + 1] == UInt8(ascii: "x") {
            body = start + 2
        } else {
            // A short lowercase word and a separator before hex: `key_<hex>`, `sha256-<hex>`.
            var index = start
            while index < end, index - start <= 12, text[index].isLowerByte || text[index].isDigitByte { index += 1 }
            if index < end, index - start >= 2, text[index] == .minus || text[index] == .underscore { body = index + 1 }
        }
        guard end - body >= 16 else { return false }
        for index in body..<end where !text[index].isHexByte && text[index] != .minus { return false }
        return true
    }

    /// Whether the run is four or more `-`/`_`-separated pieces that are each one word
    /// (`lowercase`, `UPPERCASE`, `Capitalized`) or one number: a slug or identifier such as
    /// `this-is-a-long-slug-for-2024`. Random keys rarely have three separators, and their pieces
    /// mix classes.
    static func isSeparatedWords(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        var pieces = 0
        var index = start
        while index < end {
            let pieceStart = index
            while index < end, text[index] != .minus, text[index] != .underscore { index += 1 }
            if index > pieceStart {
                guard isOneWord(text, pieceStart, index) else { return false }
                pieces += 1
            }
            index += 1
        }
        return pieces >= 4
    }

    private static func isOneWord(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        let first = text[start]
        var rest = start + 1
        if first.isDigitByte {
            while rest < end, text[rest].isDigitByte { rest += 1 }
        } else if first.isUpperByte, text[rest].isUpperByte {
            while rest < end, text[rest].isUpperByte { rest += 1 }
        } else if first.isAlphaByte {
            while rest < end, text[rest].isLowerByte { rest += 1 }
        }
        return rest == end
    }

    /// Whether `start..<end` alternates character classes like random text: the mean length of
    /// its segments (a capitalised or lowercase word, a run of capitals, a run of digits; `-` and
    /// `_` split segments) is at most `segmentLimit`, and its character entropy is at least 3.7 bits.
    /// A key body after a known prefix uses the looser limit of 5 (and, like a Bearer token, needs
    /// no digit: a random 32-character base64url body has none one time in 250).
    static func looksRandom(_ text: ScanText, _ start: Int, _ end: Int, segmentLimit: Double = 5.0) -> Bool {
        var segments = 0
        var characters = 0
        var digits = 0
        var letters = 0
        var index = start
        while index < end {
            let byte = text[index]
            if byte.isDigitByte {
                while index < end, text[index].isDigitByte { index += 1; characters += 1; digits += 1 }
            } else if byte.isUpperByte {
                index += 1
                characters += 1
                letters += 1
                if text[index].isLowerByte, index < end {
                    while index < end, text[index].isLowerByte { index += 1; characters += 1; letters += 1 }
                } else {
                    while index < end, text[index].isUpperByte, !text[index + 1].isLowerByte { index += 1; characters += 1; letters += 1 }
                }
            } else if byte.isLowerByte {
                while index < end, text[index].isLowerByte { index += 1; characters += 1; letters += 1 }
            } else {
                index += 1
                continue
            }
            segments += 1
        }
        guard segments > 0, letters > 0 else { return false }
        return Double(characters) / Double(segments) <= segmentLimit && entropy(text, start, end) >= 3.7
    }

    /// Shannon entropy of the bytes, in bits per byte.
    static func entropy(_ text: ScanText, _ start: Int, _ end: Int) -> Double {
        var counts = [Int](repeating: 0, count: 128)
        for index in start..<end { counts[Int(text[index] & 0x7F)] += 1 }
        let total = Double(end - start)
        var bits = 0.0
        for count in counts where count > 0 {
            let p = Double(count) / total
            bits -= p * log2(p)
        }
        return bits
    }

    /// Whether the run, read as base64 (standard or URL-safe), decodes to mostly printable ASCII:
    /// encoded text rather than random bytes (which are printable only about 40% of the time).
    static func decodesToText(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        var printable = 0
        var decoded = 0
        var accumulator: UInt32 = 0
        var bits = 0
        for index in start..<end {
            let byte = text[index]
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - 65)
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - 97 + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - 48 + 52)
            case .minus: value = 62
            default: value = 63
            }
            accumulator = (accumulator << 6) | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                let decodedByte = UInt8((accumulator >> UInt32(bits)) & 0xFF)
                decoded += 1
                if (0x20...0x7E).contains(decodedByte) || decodedByte == 0x0A || decodedByte == 0x09 { printable += 1 }
            }
        }
        return decoded > 0 && Double(printable) >= Double(decoded) * 0.85
    }
}

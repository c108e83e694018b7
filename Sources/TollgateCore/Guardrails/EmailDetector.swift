/// Email addresses: `local@domain.tld`, ASCII only.
///
/// The local part is `[A-Za-z0-9._%+-]` (what real addresses use; RFC 5322's quoted forms and
/// `!#$&'*/=?^{|}~` show up in prose far more often as punctuation than in addresses), 1–64
/// characters, no leading, trailing or doubled dot. The domain has at least two labels and a
/// top-level label of two or more letters (or an `xn--` punycode one), so `user@localhost`,
/// `a@b` and `@handle` are not addresses. A non-ASCII letter touching the local part ends it:
/// in `邮箱alice@example.com` the address is `alice@example.com`. The user part of a URL
/// (`postgres://app@db.internal`) is not an address.
enum EmailDetector {
    /// RFC 5321's limit on a whole address.
    static let maxLength = 254

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        var floor = 0
        let count = text.count
        while index < count {
            guard text.bytes[index] == .at else {
                index += 1
                continue
            }
            if let hit = match(text, at: index, floor: floor) {
                hits.append(hit)
                floor = hit.upperBound
                index = hit.upperBound
            } else {
                index += 1
            }
        }
    }

    private static func isLocalByte(_ byte: UInt8) -> Bool {
        byte.isAlnumByte || byte == .period || byte == .underscore || byte == .minus || byte == .plus || byte == UInt8(ascii: "%")
    }

    private static func isDomainByte(_ byte: UInt8) -> Bool {
        byte.isAlnumByte || byte == .minus || byte == .period
    }

    /// The address around the `@` at `at`, not reaching back before `floor` (the previous match).
    private static func match(_ text: ScanText, at: Int, floor: Int) -> Range<Int>? {
        var start = at
        while start > floor, isLocalByte(text[start - 1]) {
            start -= 1
            if at - start > 64 { return nil }
        }
        // A sentence's punctuation before the address is not part of it (`...alice@x.io`).
        while start < at, text[start] == .period || text[start] == .minus || text[start] == .plus { start += 1 }
        guard start < at, text[at - 1] != .period, !isURLUserInfo(text, before: start) else { return nil }
        for index in start..<(at - 1) where text[index] == .period && text[index + 1] == .period { return nil }

        var end = at + 1
        while isDomainByte(text[end]) {
            end += 1
            if end - start > maxLength { return nil }
        }
        // A full stop or dash after the address ends the sentence, not the domain.
        while end > at + 1, text[end - 1] == .period || text[end - 1] == .minus { end -= 1 }
        guard end > at + 1, validDomain(text, at + 1, end) else { return nil }
        return start..<end
    }

    /// Whether the text before `start` is a URL's scheme and user (`postgres://app@db`,
    /// `https://user:pass@host`): the part before the `@` then names an account on a host, and the
    /// URL is not an email address.
    private static func isURLUserInfo(_ text: ScanText, before start: Int) -> Bool {
        var index = start
        while index > 2, start - index < 128 {
            let byte = text[index - 1]
            if byte.isASCIISpace || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "<") || byte == .at {
                return false
            }
            if byte == .slash, text[index - 2] == .slash, text[index - 3] == .colon { return true }
            index -= 1
        }
        return false
    }

    private static func validDomain(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        var labels = 0
        var labelStart = start
        var index = start
        while index <= end {
            if index == end || text[index] == .period {
                let length = index - labelStart
                guard (1...63).contains(length), text[labelStart] != .minus, text[index - 1] != .minus else { return false }
                labels += 1
                if index == end { break }
                labelStart = index + 1
            }
            index += 1
        }
        guard labels >= 2 else { return false }
        let tldLength = end - labelStart
        if text.matchesLowercase("xn--", at: labelStart) { return tldLength >= 5 }
        guard tldLength >= 2 else { return false }
        for index in labelStart..<end where !text[index].isAlphaByte { return false }
        return true
    }
}

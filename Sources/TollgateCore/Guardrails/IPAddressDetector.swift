/// IPv4 and IPv6 addresses.
///
/// IPv4 is four dotted octets of 0–255 without leading zeros (`01` reads as octal to some
/// parsers and as decimal to others, so such text is not an address), standing alone: not part of
/// a longer dotted number (`1.2.3.4.5`), not glued to letters, and not a version (`v1.2.3.4`,
/// `version 10.0.0.1`, `build 1.2.3.4`) or a section number (`section 3.2.1.4`). A port or
/// prefix length after it (`:8080`, `/24`) is fine and not part of the finding.
///
/// IPv6 is RFC 4291 text: eight groups of 1–4 hex digits, one `::` standing for zero groups or
/// more, optionally ending in dotted IPv4. A time (`12:30:45`) or a MAC address
/// (`00:1A:2B:3C:4D:5E`) has too few groups and no `::`; `::` alone, and a compressed form of
/// letters only with fewer than three groups (C++'s `a::b`), and slices in a subscript
/// (`arr[::2]`, `s[1::3]`) are not addresses.
enum IPAddressDetector {
    /// The longest IPv6 text: `ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`.
    static let maxLength = 45

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        scanIPv4(text, into: &hits)
        scanIPv6(text, into: &hits)
    }

    /// Labels after which a dotted quad is a version or a section number, not an address.
    private static let notAddressWords: [StaticString] = [
        "v", "ver", "version", "build", "release", "firmware", "rev", "section", "sec", "chapter", "clause",
    ]

    private static func scanIPv4(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count
        while index < count {
            guard text.bytes[index].isDigitByte else {
                index += 1
                continue
            }
            let before = text[index - 1]
            if !before.isAlnumByte, before != .period, before != .underscore, let end = ipv4(text, at: index),
               !text.precededByWord(notAddressWords, before: index, limit: 12) {
                hits.append(index..<end)
                index = end
                continue
            }
            while text[index].isDigitByte || (text[index] == .period && text[index + 1].isDigitByte) { index += 1 }
        }
    }

    /// The end of a standalone dotted quad at `start`.
    private static func ipv4(_ text: ScanText, at start: Int) -> Int? {
        guard let end = dottedQuad(text, at: start) else { return nil }
        let after = text[end]
        if after.isAlnumByte || after == .underscore { return nil }
        if after == .period, text[end + 1].isDigitByte { return nil }
        return end
    }

    /// The end of four octets at `start`, or nil.
    static func dottedQuad(_ text: ScanText, at start: Int) -> Int? {
        var index = start
        for octet in 0..<4 {
            if octet > 0 {
                guard text[index] == .period else { return nil }
                index += 1
            }
            var value = 0
            var digits = 0
            while text[index].isDigitByte, digits < 4 {
                value = value * 10 + text[index].digitValue
                digits += 1
                index += 1
            }
            guard (1...3).contains(digits), value <= 255, !(digits > 1 && text[index - digits] == UInt8(ascii: "0")) else {
                return nil
            }
        }
        return index
    }

    private static func isIPv6Byte(_ byte: UInt8) -> Bool { byte.isHexByte || byte == .colon || byte == .period }

    private static func scanIPv6(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        var processed = 0
        let count = text.count
        while index < count {
            guard text.bytes[index] == .colon, index >= processed else {
                index += 1
                continue
            }
            // The whole run of address characters around this colon, each byte visited once:
            // a run longer than any address is skipped in one step.
            var start = index
            while start > processed, isIPv6Byte(text[start - 1]) { start -= 1 }
            var end = index + 1
            while isIPv6Byte(text[end]) { end += 1 }
            processed = end
            index = end
            guard end - start <= maxLength + 1, !text[end].isAlnumByte, text[end] != .underscore else { continue }
            // Sentence punctuation after the address: `… at fe80::1.` or `fe80::1: the`.
            while end > start, text[end - 1] == .period { end -= 1 }
            if end - start > 2, text[end - 1] == .colon, text[end - 2] != .colon { end -= 1 }
            if let hit = address(text, start, end) { hits.append(hit) }
        }
    }

    /// The address in the run `start..<end`: the whole run, or what follows its first single
    /// colon when a label is glued to it (`addr:fe80::1`, `IPv6:2001:db8::1`).
    private static func address(_ text: ScanText, _ start: Int, _ end: Int) -> Range<Int>? {
        var start = start
        // `arr[::2]`, `s[1::3]`: a slice in a subscript, not `[::1]` in a URL.
        if text[start - 1] == UInt8(ascii: "["), isSubscripted(text[start - 2]) { return nil }
        while start < end, text[start] == .period { start += 1 }
        if text[start] == .colon, text[start + 1] != .colon { start += 1 }
        if start < end, !text[start - 1].isAlnumByte, text[start - 1] != .underscore, validIPv6(text, start, end) {
            return start..<end
        }
        var colon = start
        while colon < end, text[colon] != .colon { colon += 1 }
        guard colon < end - 1, text[colon + 1] != .colon, colon > start else { return nil }
        return validIPv6(text, colon + 1, end) ? (colon + 1)..<end : nil
    }

    private static func isSubscripted(_ byte: UInt8) -> Bool {
        byte.isAlnumByte || byte == .underscore || byte == .closeParen || byte == UInt8(ascii: "]")
    }

    static func validIPv6(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        var groups = 0
        var compressed = false
        var sawDigit = false
        var index = start
        if text[index] == .colon {
            guard text[index + 1] == .colon else { return false }
            compressed = true
            index += 2
            if index == end { return false }  // `::` alone
        }
        while index < end {
            // A dotted IPv4 tail takes the last two groups.
            if let quadEnd = dottedQuad(text, at: index), quadEnd == end, groups <= 6 {
                groups += 2
                sawDigit = true
                index = end
                break
            }
            var digits = 0
            while index < end, text[index].isHexByte, digits < 5 {
                if text[index].isDigitByte { sawDigit = true }
                digits += 1
                index += 1
            }
            guard (1...4).contains(digits) else { return false }
            groups += 1
            if index == end { break }
            guard text[index] == .colon else { return false }
            index += 1
            if text[index] == .colon {
                guard !compressed else { return false }
                compressed = true
                index += 1
                if index == end { break }
            } else if index == end {
                return false
            }
        }
        guard compressed ? groups <= 7 : groups == 8 else { return false }
        return sawDigit || groups >= 3
    }
}

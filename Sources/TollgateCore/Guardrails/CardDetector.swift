/// Payment card numbers: 13–19 digits, bare or grouped with single spaces or dashes (one style
/// throughout, first group of four, the others 3–6), passing the Luhn check and starting with a
/// known issuer prefix at a length that issuer uses.
///
/// A bare number must be exactly the digit run (a 20-digit id holds no card). A grouped one is
/// read group by group and the longest valid prefix wins, so an expiry date or CVV after it
/// (`4111 1111 1111 1111 12/27`) does not hide the card.
enum CardDetector {
    /// 19 digits and four separators.
    static let maxLength = 23

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count
        while index < count {
            guard text.bytes[index].isDigitByte else {
                index += 1
                continue
            }
            let before = text[index - 1]
            let boundary = !before.isAlnumByte && before != .period && before != .underscore && before != .plus
                && !(before == .minus && text[index - 2].isDigitByte)
            if boundary, let hit = match(text, at: index) {
                hits.append(hit)
                index = hit.upperBound
                continue
            }
            while text[index].isDigitByte { index += 1 }
        }
    }

    private static func match(_ text: ScanText, at start: Int) -> Range<Int>? {
        // On the stack: this runs for every number in the text.
        var digits = Digits()
        var index = start
        while text[index].isDigitByte, digits.count <= 19 {
            digits.append(text[index] &- 0x30)
            index += 1
        }
        if text[index].isDigitByte { return nil }
        let separator = text[index]
        let grouped = (separator == .space || separator == .minus) && text[index + 1].isDigitByte
        if !grouped || digits.count >= 13 {
            // A bare number: the run itself, nothing glued after it.
            guard (13...19).contains(digits.count), !text[index].isAlphaByte, valid(digits) else { return nil }
            if text[index] == .period || text[index] == .minus || text[index] == .slash, text[index + 1].isDigitByte { return nil }
            return start..<index
        }
        guard digits.count == 4 else { return nil }
        var best: Int? = nil
        var groups = 1
        while text[index] == separator, text[index + 1].isDigitByte, groups < 6 {
            var next = index + 1
            var groupLength = 0
            while text[next].isDigitByte, groupLength <= 6 {
                digits.append(text[next] &- 0x30)
                groupLength += 1
                next += 1
            }
            guard (3...6).contains(groupLength), !text[next].isDigitByte, digits.count <= 19 else { break }
            groups += 1
            index = next
            if digits.count >= 13, !text[index].isAlphaByte, valid(digits) { best = index }
        }
        return best.map { start..<$0 }
    }

    /// Up to 32 digits without a heap allocation.
    struct Digits {
        private var storage = SIMD32<UInt8>()
        private(set) var count = 0

        mutating func append(_ digit: UInt8) {
            if count < 32 { storage[count] = digit }
            count += 1
        }

        subscript(_ index: Int) -> UInt8 { storage[index] }

        func prefix(_ length: Int) -> Int {
            var value = 0
            for index in 0..<min(length, count) { value = value * 10 + Int(storage[index]) }
            return value
        }
    }

    /// Luhn plus an issuer prefix that uses this length.
    static func valid(_ digits: Digits) -> Bool {
        luhn(digits) && issuerAccepts(digits)
    }

    static func luhn(_ digits: Digits) -> Bool {
        var sum = 0
        for offset in 0..<digits.count {
            var value = Int(digits[digits.count - 1 - offset])
            if offset % 2 == 1 {
                value *= 2
                if value > 9 { value -= 9 }
            }
            sum += value
        }
        return sum % 10 == 0
    }

    /// The issuer identification number ranges of the networks a card in text is likely to
    /// belong to, with the lengths each issues.
    private static func issuerAccepts(_ digits: Digits) -> Bool {
        func prefix(_ count: Int) -> Int { digits.prefix(count) }
        let length = digits.count
        let p1 = prefix(1), p2 = prefix(2), p3 = prefix(3), p4 = prefix(4), p6 = prefix(6)
        if p1 == 4 { return length == 13 || length == 16 || length == 19 }  // Visa
        if (51...55).contains(p2) || (2221...2720).contains(p4) { return length == 16 }  // Mastercard
        if p2 == 34 || p2 == 37 { return length == 15 }  // American Express
        if p4 == 6011 || (644...649).contains(p3) || p2 == 65 || (622126...622925).contains(p6) {
            return (16...19).contains(length)  // Discover
        }
        if (3528...3589).contains(p4) { return (16...19).contains(length) }  // JCB
        if (300...305).contains(p3) || p4 == 3095 || p2 == 36 || p2 == 38 || p2 == 39 {
            return (14...19).contains(length)  // Diners Club
        }
        if p2 == 62 { return (16...19).contains(length) }  // UnionPay
        if (2200...2204).contains(p4) { return (16...19).contains(length) }  // Mir
        if [5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763].contains(p4) { return (13...19).contains(length) }  // Maestro
        if p2 == 60 || p3 == 508 { return length == 16 }  // RuPay
        return false
    }
}

/// Phone numbers in two families.
///
/// - International: `+` then 8–15 digits (E.164's limit) with single spaces, dashes or dots
///   between groups and at most one parenthesised group (`+1 (415) 555-2671`, `+44 (0)20 7946 0958`,
///   whose `(0)` trunk prefix is not counted). The leading digits must be a real country calling
///   code and the rest a length that country uses (`PhoneCountryCodes`); `+1` numbers follow NANP.
/// - North American without `+`: `(415) 555-2671`, `415-555-2671`, `415.555.2671`,
///   `415 555 2671`, `1-800-555-0199`, with one separator style throughout and NANP's rules (area
///   code and exchange start with 2–9 and are not `N11`).
///
/// National numbers of other countries (`020 7946 0958`) are not detected: without the country
/// code they cannot be told from other grouped numbers. A number labelled as a reference (`Order
/// #415-555-2671`, `invoice no. 415-555-2671`) is not a phone number. Digits glued to letters,
/// longer digit runs, dates, times, versions and prices never fit these shapes.
enum PhoneDetector {
    static let maxLength = 32

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count
        while index < count {
            let byte = text.bytes[index]
            if byte == .plus, text[index + 1].isDigitByte {
                if let hit = international(text, at: index) {
                    hits.append(hit)
                    index = hit.upperBound
                    continue
                }
            } else if byte.isDigitByte || byte == .openParen {
                if let hit = northAmerican(text, at: index) {
                    hits.append(hit)
                    index = hit.upperBound
                    continue
                }
                // The rest of a digit run cannot start a number (its left boundary is a digit).
                while text[index + 1].isDigitByte { index += 1 }
            }
            index += 1
        }
    }

    private static func isGroupSeparator(_ byte: UInt8) -> Bool {
        byte == .space || byte == .minus || byte == .period
    }

    private static func international(_ text: ScanText, at start: Int) -> Range<Int>? {
        let before = text[start - 1]
        guard !before.isAlnumByte, before != .plus, before != .period, before != .slash else { return nil }
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var index = start + 1
        var lastDigitEnd = index
        var afterSeparator = false
        var openParen: (position: Int, digits: Int)? = nil
        var closedParens = 0
        while true {
            let byte = text[index]
            if byte.isDigitByte {
                digits.append(byte &- 0x30)
                lastDigitEnd = index + 1
                afterSeparator = false
            } else if isGroupSeparator(byte) {
                if afterSeparator { break }
                afterSeparator = true
            } else if byte == .openParen {
                guard openParen == nil, closedParens == 0 else { break }
                openParen = (index, digits.count)
                afterSeparator = false
            } else if byte == .closeParen {
                guard let open = openParen, digits.count > open.digits else { break }
                // `(0)` after the country code is the trunk prefix dialled at home, not a digit of
                // the international number.
                if digits.count - open.digits == 1, digits.last == 0 { digits.removeLast() }
                openParen = nil
                closedParens += 1
                afterSeparator = false
            } else {
                break
            }
            index += 1
            if index - start > maxLength { return nil }
        }
        if let open = openParen, open.position < lastDigitEnd { return nil }
        let end = lastDigitEnd
        guard endsCleanly(text, at: end), (8...15).contains(digits.count), let code = PhoneCountryCodes.split(digits) else {
            return nil
        }
        let national = digits.count - code.length
        guard PhoneCountryCodes.nationalLengths(code.code).contains(national) else { return nil }
        // A national number written after the country code never starts with the trunk 0
        // (Italy's landlines keep theirs).
        if digits[code.length] == 0, code.code != 39 { return nil }
        if code.code == 1 {
            let area = Int(digits[1]) * 100 + Int(digits[2]) * 10 + Int(digits[3])
            let exchange = Int(digits[4]) * 100 + Int(digits[5]) * 10 + Int(digits[6])
            guard validNANP(area: area, exchange: exchange) else { return nil }
        }
        return start..<end
    }

    private static func northAmerican(_ text: ScanText, at start: Int) -> Range<Int>? {
        let before = text[start - 1]
        guard !before.isAlnumByte, !isNumberPunctuation(before) else { return nil }
        var index = start
        if text[index] == UInt8(ascii: "1"), isGroupSeparator(text[index + 1]), text[index + 2].isDigitByte || text[index + 2] == .openParen {
            index += 2
        }
        let area: Int
        var separator: UInt8? = nil
        if text[index] == .openParen {
            guard let digits = digitGroup(text, at: index + 1, count: 3), text[index + 4] == .closeParen else { return nil }
            area = digits
            index += 5
            if text[index] == .space { index += 1 }
        } else {
            guard let digits = digitGroup(text, at: index, count: 3), isGroupSeparator(text[index + 3]) else { return nil }
            area = digits
            separator = text[index + 3]
            index += 4
        }
        guard let exchange = digitGroup(text, at: index, count: 3) else { return nil }
        index += 3
        let second = text[index]
        guard isGroupSeparator(second), separator == nil || separator == second else { return nil }
        index += 1
        guard digitGroup(text, at: index, count: 4) != nil else { return nil }
        index += 4
        // The label check last: it reads words back, and few digit runs get this far.
        guard endsCleanly(text, at: index), validNANP(area: area, exchange: exchange), !isReference(text, before: start) else {
            return nil
        }
        return start..<index
    }

    /// The value of `count` digits at `index` with no digit right after them.
    private static func digitGroup(_ text: ScanText, at index: Int, count: Int) -> Int? {
        var value = 0
        for offset in 0..<count {
            let byte = text[index + offset]
            guard byte.isDigitByte else { return nil }
            value = value * 10 + byte.digitValue
        }
        return text[index + count].isDigitByte ? nil : value
    }

    /// NANP: area code and exchange start with 2–9 and are not `N11` service codes.
    private static func validNANP(area: Int, exchange: Int) -> Bool {
        area >= 200 && exchange >= 200 && area % 100 != 11 && exchange % 100 != 11
    }

    /// Nothing after the number continues it: no letter or digit, no `-5` or `.5` tail.
    private static func endsCleanly(_ text: ScanText, at end: Int) -> Bool {
        let after = text[end]
        if after.isAlnumByte || after == .underscore { return false }
        if after == .minus || after == .period || after == .slash || after == .colon { return !text[end + 1].isDigitByte }
        return true
    }

    /// Bytes that make the digits after them part of a bigger number, an amount or an id.
    private static func isNumberPunctuation(_ byte: UInt8) -> Bool {
        byte == .plus || byte == .period || byte == .minus || byte == .slash || byte == .underscore || byte == .hash
            || byte == UInt8(ascii: "$") || byte == UInt8(ascii: "%") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "=")
    }

    private static let referenceWords: [StaticString] = [
        "order", "invoice", "inv", "ticket", "ref", "reference", "tracking", "case", "po", "sku", "part", "serial",
        "account", "acct", "confirmation", "conf", "booking", "transaction", "txn", "receipt", "item", "model",
    ]
    private static let numberWords: [StaticString] = ["no", "nr", "num", "number", "id", "code"]

    /// Whether a reference label (`Order #`, `invoice no.`, `tracking number:`) precedes `start`.
    private static func isReference(_ text: ScanText, before start: Int) -> Bool {
        if text.precededByWord(referenceWords, before: start) { return true }
        guard text.precededByWord(numberWords, before: start) else { return false }
        // Step back over the number word to the label before it.
        var end = start
        while end > 0, text[end - 1].isLabelPunctuation { end -= 1 }
        while end > 0, text[end - 1].isAlphaByte { end -= 1 }
        return text.precededByWord(referenceWords, before: end)
    }
}

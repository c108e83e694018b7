/// US Social Security numbers: `AAA-GG-SSSS` or `AAA GG SSSS` (one separator style), or nine bare
/// digits only right after an SSN label (`SSN: 123456789`, `social security number 123456789`),
/// since nine bare digits are far more often something else.
///
/// Numbers the SSA never issues are rejected: area 000, 666 or 900–999, group 00, serial 0000,
/// and the numbers famous for being published (`078-05-1120`, `219-09-9999`, `457-55-5462`).
enum SSNDetector {
    static let maxLength = 11

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count
        while index < count {
            guard text.bytes[index].isDigitByte else {
                index += 1
                continue
            }
            let before = text[index - 1]
            let boundary = !before.isAlnumByte && before != .period && before != .minus && before != .plus
                && before != .slash && before != .underscore
            if boundary, let hit = match(text, at: index) {
                hits.append(hit)
                index = hit.upperBound
                continue
            }
            while text[index].isDigitByte { index += 1 }
        }
    }

    private static let labels: [StaticString] = ["ssn", "ssn#", "ss#", "social security number", "social security no", "social security"]

    private static func match(_ text: ScanText, at start: Int) -> Range<Int>? {
        guard let area = number(text, at: start, count: 3) else { return nil }
        let separator = text[start + 3]
        let end: Int
        let group: Int
        let serial: Int
        if separator == .minus || separator == .space {
            guard let g = number(text, at: start + 4, count: 2), text[start + 6] == separator,
                  let s = number(text, at: start + 7, count: 4), !text[start + 11].isDigitByte else { return nil }
            (group, serial, end) = (g, s, start + 11)
        } else {
            guard let g = number(text, at: start + 3, count: 2), let s = number(text, at: start + 5, count: 4),
                  !text[start + 9].isDigitByte, text.precededByWord(labels, before: start) else { return nil }
            (group, serial, end) = (g, s, start + 9)
        }
        let after = text[end]
        guard !after.isAlphaByte, after != .underscore else { return nil }
        if after == .minus || after == .period || after == .slash, text[end + 1].isDigitByte { return nil }
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return nil }
        let value = (area, group, serial)
        if value == (78, 5, 1120) || value == (219, 9, 9999) || value == (457, 55, 5462) { return nil }
        return start..<end
    }

    private static func number(_ text: ScanText, at index: Int, count: Int) -> Int? {
        var value = 0
        for offset in 0..<count {
            let byte = text[index + offset]
            guard byte.isDigitByte else { return nil }
            value = value * 10 + byte.digitValue
        }
        return value
    }
}

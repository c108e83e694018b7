/// IBANs: an ISO country code, two check digits and the country's BBAN, written compactly
/// (`DE89370400440532013000`) or in groups of four separated by single spaces
/// (`DE89 3704 0044 0532 0130 00`), in capitals as printed on statements.
///
/// The length must be the one the IBAN registry gives the country and the whole must pass the
/// ISO 7064 mod-97 check, which catches every single-character error and nearly all others.
enum IBANDetector {
    /// 34 characters (the longest IBAN) and eight spaces.
    static let maxLength = 42

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count - 3
        while index < count {
            let byte = text.bytes[index]
            guard byte.isUpperByte, text[index + 1].isUpperByte, text[index + 2].isDigitByte, text[index + 3].isDigitByte,
                  !text[index - 1].isAlnumByte else {
                index += 1
                continue
            }
            if let hit = match(text, at: index) {
                hits.append(hit)
                index = hit.upperBound
            } else {
                index += 1
            }
        }
    }

    private static func match(_ text: ScanText, at start: Int) -> Range<Int>? {
        let country = String(decoding: [text[start], text[start + 1]], as: UTF8.self)
        guard let length = lengths[country] else { return nil }
        var characters: [UInt8] = []
        characters.reserveCapacity(length)
        var index = start
        var spaced: Bool? = nil
        while characters.count < length {
            let byte = text[index]
            if byte.isUpperByte || byte.isDigitByte {
                characters.append(byte)
                index += 1
            } else if byte == .space, characters.count % 4 == 0, spaced != false, text[index + 1].isAlnumByte {
                spaced = true
                index += 1
            } else {
                return nil
            }
            // Once the first group of four goes by unspaced, the IBAN is written compactly.
            if characters.count == 5, spaced == nil { spaced = false }
        }
        let after = text[index]
        guard !after.isAlnumByte, after != .underscore, mod97(characters) == 1 else { return nil }
        return start..<index
    }

    /// ISO 7064 MOD 97-10 over the IBAN with its first four characters moved to the end and
    /// letters read as 10–35, folded digit by digit so no big integers are needed.
    static func mod97(_ characters: [UInt8]) -> Int {
        var remainder = 0
        for offset in 0..<characters.count {
            let byte = characters[(offset + 4) % characters.count]
            if byte.isDigitByte {
                remainder = (remainder * 10 + byte.digitValue) % 97
            } else {
                remainder = (remainder * 100 + Int(byte) - 55) % 97
            }
        }
        return remainder
    }

    /// IBAN lengths by country, from the SWIFT IBAN registry.
    static let lengths: [String: Int] = [
        "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
        "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
        "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
        "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27,
        "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25,
        "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18,
        "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
        "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
        "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
    ]
}

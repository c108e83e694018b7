/// A value assigned to a name that says it is secret: `AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/…`,
/// `"client_secret": "…"`, `db_password: …`, `api_key => '…'`.
///
/// The name carries the evidence, so the value may use the whole base64 alphabet (`+`, `/`, `=`,
/// which split the runs the other secret rules read) and may be hex, and needs only 16
/// characters. It must still look like a credential rather than a placeholder: a letter and a
/// digit, no whitespace, and 3 bits of entropy per character (`changeme`, `${API_TOKEN}` and
/// `<your-key>` are not values).
enum LabelledSecret {
    static let valueLengths = 16...256

    /// Parts of names that mark their values as secret.
    private static let words: [StaticString] = [
        "secret", "passw", "pwd", "token", "apikey", "api_key", "api-key", "access_key", "accesskey", "private_key",
        "privatekey", "credential", "auth_key",
    ]

    /// The value assigned to the name `start..<end` (a run of `[A-Za-z0-9_-]`), if the name is a
    /// secret's.
    static func value(_ text: ScanText, nameStart start: Int, nameEnd end: Int) -> Range<Int>? {
        guard (3...64).contains(end - start) else { return nil }
        var index = end
        if isQuote(text[index]) { index += 1 }
        while text[index] == .space { index += 1 }
        // The assignment first: it rules out nearly every word, the name check only a few.
        guard text[index] == .equals || text[index] == .colon, isSecretName(text, start, end) else { return nil }
        index += 1
        if text[index] == UInt8(ascii: ">") { index += 1 }
        while text[index] == .space || text[index] == .tab { index += 1 }
        if isQuote(text[index]) { index += 1 }
        let valueStart = index
        while isValueByte(text[index]) {
            index += 1
            if index - valueStart > valueLengths.upperBound { return nil }
        }
        // A full stop after an unquoted value ends the sentence.
        while index > valueStart, text[index - 1] == .period { index -= 1 }
        guard valueLengths.contains(index - valueStart), looksLikeCredential(text, valueStart, index) else { return nil }
        return valueStart..<index
    }

    private static func isSecretName(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        for offset in start..<end {
            for word in words where text.matchesLowercase(word, at: offset) && offset + word.utf8CodeUnitCount <= end {
                return true
            }
        }
        return false
    }

    private static func isQuote(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "`")
    }

    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte.isTokenByte || byte == .plus || byte == .slash || byte == .equals || byte == .period || byte == UInt8(ascii: "~")
    }

    private static func looksLikeCredential(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        var letters = 0
        var digits = 0
        for index in start..<end {
            if text[index].isAlphaByte { letters += 1 } else if text[index].isDigitByte { digits += 1 }
        }
        return letters > 0 && digits > 0 && HighEntropyToken.entropy(text, start, end) >= 3.0
    }
}

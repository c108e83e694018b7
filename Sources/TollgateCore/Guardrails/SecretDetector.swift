/// API keys and tokens.
///
/// Text is read as runs of `[A-Za-z0-9_-]` (the alphabet of nearly every key and of URL-safe
/// base64). A run is a secret when it is
/// - a known key format, by prefix (`KeyRule.all`: OpenAI and Anthropic `sk-`, GitHub `ghp_`…
///   and `github_pat_`, Slack `xoxb-`…, AWS `AKIA`/`ASIA`, Google `AIza`, GitLab `glpat-`, Stripe
///   `sk_live_`…, Hugging Face `hf_`, npm `npm_`, Tollgate's own `tg-`);
/// - a JWT: `eyJ…` `.` `eyJ…` with or without its `.signature` (an unsigned token still carries
///   the claims, and a stream must hold a token back before its signature arrives);
/// - the token after `Bearer ` (the token only, so a mask reads `Bearer [SECRET]`);
/// - the value assigned to a secret's name (`LabelledSecret`: `client_secret: …`);
/// - or random-looking enough on its own (`HighEntropyToken`).
enum SecretDetector {
    /// The longest JWT taken (a longer one is rare and still caught piecewise by the
    /// high-entropy rule); other keys are at most 256.
    static let maxLength = 4096

    static func scan(_ text: ScanText, into hits: inout [Range<Int>]) {
        var index = 0
        let count = text.count
        while index < count {
            guard text.bytes[index].isTokenByte else {
                index += 1
                continue
            }
            let start = index
            while text[index].isTokenByte { index += 1 }
            let end = index
            if let value = LabelledSecret.value(text, nameStart: start, nameEnd: end) {
                hits.append(value)
                index = value.upperBound
                continue
            }
            if let jwtEnd = jwt(text, start, end) {
                hits.append(start..<jwtEnd)
                index = jwtEnd
                continue
            }
            if KeyRule.matches(text, start, end) || HighEntropyToken.isSecret(text, start, end) {
                hits.append(start..<end)
            } else if end - start == 6, text.matchesLowercase("bearer", at: start), let token = bearerToken(text, after: end) {
                hits.append(token)
                index = token.upperBound
            }
        }
    }

    /// The end of a JWT starting with the run `start..<end`.
    private static func jwt(_ text: ScanText, _ start: Int, _ end: Int) -> Int? {
        guard end - start >= 10, text[start] == UInt8(ascii: "e"), text[start + 1] == UInt8(ascii: "y"), text[start + 2] == UInt8(ascii: "J"),
              text[end] == .period, text[end + 1] == UInt8(ascii: "e"), text[end + 2] == UInt8(ascii: "y"),
              text[end + 3] == UInt8(ascii: "J") else { return nil }
        var payloadEnd = end + 1
        while text[payloadEnd].isTokenByte { payloadEnd += 1 }
        guard payloadEnd - end - 1 >= 10 else { return nil }
        var signatureEnd = payloadEnd
        if text[payloadEnd] == .period, text[payloadEnd + 1].isTokenByte {
            signatureEnd = payloadEnd + 1
            while text[signatureEnd].isTokenByte { signatureEnd += 1 }
        }
        guard signatureEnd - start <= maxLength, text[signatureEnd] != .period || !text[signatureEnd + 1].isTokenByte else {
            return nil
        }
        return signatureEnd
    }

    /// The credential after `Bearer `: 20 or more characters of RFC 6750's `b64token` alphabet,
    /// with a letter and a digit or else random-looking (so `Bearer YOUR_TOKEN_HERE` is not one).
    private static func bearerToken(_ text: ScanText, after end: Int) -> Range<Int>? {
        guard text[end] == .space else { return nil }
        let start = end + 1
        var index = start
        var letters = 0
        var digits = 0
        while true {
            let byte = text[index]
            if byte.isAlphaByte {
                letters += 1
            } else if byte.isDigitByte {
                digits += 1
            } else if !(byte == .minus || byte == .underscore || byte == .period || byte == UInt8(ascii: "~")
                || byte == .plus || byte == .slash) {
                break
            }
            index += 1
            if index - start > maxLength { return nil }
        }
        while text[index] == .equals { index += 1 }
        // A full stop after the token ends the sentence.
        while index > start, text[index - 1] == .period { index -= 1 }
        guard index - start >= 20, letters > 0, digits > 0 || HighEntropyToken.looksRandom(text, start, index) else { return nil }
        return start..<index
    }
}

/// A key format recognised by its prefix: the body after the prefix must have a length in
/// `body`, use only `alphabet`, and (for prefixes that also start ordinary words, like `sk-`)
/// look random.
struct KeyRule: Sendable {
    enum Alphabet: Sendable {
        case alphanumeric, upperAlphanumeric, token, alphanumericUnderscore, alphanumericDash

        func contains(_ byte: UInt8) -> Bool {
            switch self {
            case .alphanumeric: byte.isAlnumByte
            case .upperAlphanumeric: byte.isUpperByte || byte.isDigitByte
            case .token: byte.isTokenByte
            case .alphanumericUnderscore: byte.isAlnumByte || byte == .underscore
            case .alphanumericDash: byte.isAlnumByte || byte == .minus
            }
        }
    }

    let prefix: StaticString
    let body: ClosedRange<Int>
    let alphabet: Alphabet
    let mustLookRandom: Bool

    static let all: [KeyRule] = [
        KeyRule(prefix: "sk-", body: 20...256, alphabet: .token, mustLookRandom: true),  // OpenAI, Anthropic (sk-ant-), DeepSeek…
        KeyRule(prefix: "sk_live_", body: 16...256, alphabet: .alphanumeric, mustLookRandom: false),  // Stripe
        KeyRule(prefix: "sk_test_", body: 16...256, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "rk_live_", body: 16...256, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "rk_test_", body: 16...256, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "ghp_", body: 36...255, alphabet: .alphanumeric, mustLookRandom: false),  // GitHub
        KeyRule(prefix: "gho_", body: 36...255, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "ghu_", body: 36...255, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "ghs_", body: 36...255, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "ghr_", body: 36...255, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "github_pat_", body: 22...255, alphabet: .alphanumericUnderscore, mustLookRandom: false),
        KeyRule(prefix: "xoxb-", body: 20...255, alphabet: .alphanumericDash, mustLookRandom: true),  // Slack
        KeyRule(prefix: "xoxp-", body: 20...255, alphabet: .alphanumericDash, mustLookRandom: true),
        KeyRule(prefix: "xoxa-", body: 20...255, alphabet: .alphanumericDash, mustLookRandom: true),
        KeyRule(prefix: "xoxr-", body: 20...255, alphabet: .alphanumericDash, mustLookRandom: true),
        KeyRule(prefix: "xoxs-", body: 20...255, alphabet: .alphanumericDash, mustLookRandom: true),
        KeyRule(prefix: "AKIA", body: 16...16, alphabet: .upperAlphanumeric, mustLookRandom: false),  // AWS
        KeyRule(prefix: "ASIA", body: 16...16, alphabet: .upperAlphanumeric, mustLookRandom: false),
        KeyRule(prefix: "AIza", body: 35...35, alphabet: .token, mustLookRandom: false),  // Google
        KeyRule(prefix: "glpat-", body: 20...64, alphabet: .token, mustLookRandom: false),  // GitLab
        KeyRule(prefix: "hf_", body: 30...40, alphabet: .alphanumeric, mustLookRandom: true),  // Hugging Face
        KeyRule(prefix: "npm_", body: 36...36, alphabet: .alphanumeric, mustLookRandom: false),
        KeyRule(prefix: "tg-", body: 32...32, alphabet: .token, mustLookRandom: true),  // Tollgate's own keys
    ]

    /// Whether the run `start..<end` is a key of any known format.
    static func matches(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        // The shortest key (`AKIA` + 16) has 20 characters; most words stop here.
        guard end - start >= 20 else { return false }
        return all.contains { $0.matches(text, start, end) }
    }

    func matches(_ text: ScanText, _ start: Int, _ end: Int) -> Bool {
        let length = prefix.utf8CodeUnitCount
        guard end - start > length else { return false }
        let pointer = prefix.utf8Start
        for offset in 0..<length where text[start + offset] != pointer[offset] { return false }
        let bodyStart = start + length
        guard body.contains(end - bodyStart) else { return false }
        for index in bodyStart..<end where !alphabet.contains(text[index]) { return false }
        return !mustLookRandom || HighEntropyToken.looksRandom(text, bodyStart, end)
    }
}

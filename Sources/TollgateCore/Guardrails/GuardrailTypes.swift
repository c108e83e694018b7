/// Detectors Tollgate ships; raw values are the config names and the mask labels.
public enum PIIEntity: String, CaseIterable, Sendable, Codable, Hashable {
    case email = "EMAIL"
    case phoneNumber = "PHONE_NUMBER"
    case creditCard = "CREDIT_CARD"
    case usSSN = "US_SSN"
    case iban = "IBAN"
    case ipAddress = "IP_ADDRESS"
    case secret = "SECRET"

    /// `[EMAIL]`, `[CREDIT_CARD]`…
    public var maskLabel: String { "[\(rawValue)]" }
}

/// What a finding is.
public enum FindingKind: Sendable, Hashable {
    case pii(PIIEntity)
    /// A configured `invalid_keywords` entry (the entry as configured).
    case keyword(String)
    /// A configured custom regex pattern, by its name.
    case pattern(String)

    /// The text a MASK finding of this kind is replaced with: `[EMAIL]`, a pattern's `[NAME]`
    /// uppercased. Keywords always block, so theirs (`[KEYWORD]`) only shows if a caller masks one.
    public var maskLabel: String {
        switch self {
        case .pii(let entity): entity.maskLabel
        case .keyword: "[KEYWORD]"
        case .pattern(let name): "[\(name.uppercased())]"
        }
    }
}

/// What to do with a finding.
public enum GuardAction: String, Sendable, Codable {
    case block = "BLOCK"
    case mask = "MASK"
    case none = "NONE"

    /// Overlap precedence: a blocking finding must never be hidden behind a masking one, or a
    /// request that should be refused would pass with a mask.
    var precedence: Int {
        switch self {
        case .block: 2
        case .mask: 1
        case .none: 0
        }
    }
}

/// One match in a text.
public struct TextFinding: Sendable, Equatable {
    public var kind: FindingKind
    public var action: GuardAction
    /// Where the match is, as indices of the scanned string (valid for that string only).
    ///
    /// The bounds are Unicode-scalar aligned but not always `Character` aligned (a match can end
    /// before a combining mark), so read the text through `text.unicodeScalars[range]` or
    /// `text.utf8[range]`: `text[range]` rounds to `Character` boundaries. `matched` already holds
    /// the exact text.
    public var range: Range<String.Index>
    /// The matched text, exactly.
    public var matched: String

    public init(kind: FindingKind, action: GuardAction, range: Range<String.Index>, matched: String) {
        self.kind = kind
        self.action = action
        self.range = range
        self.matched = matched
    }
}

/// A finding without its text or position: what a stream reports and a recording keeps, so the
/// record never stores the very PII or secret the guardrail kept from the client.
public struct FindingSummary: Sendable, Equatable, Hashable {
    public var kind: FindingKind
    public var action: GuardAction

    public init(kind: FindingKind, action: GuardAction) {
        self.kind = kind
        self.action = action
    }

    public init(_ finding: TextFinding) {
        self.init(kind: finding.kind, action: finding.action)
    }
}

/// A custom regex (`patterns: [{name, regex, behavior}]`). `behavior` defaults to BLOCK when the
/// config leaves it out.
public struct NamedPattern: Sendable, Equatable, Codable {
    public var name: String
    /// An ICU regular expression (`NSRegularExpression` syntax).
    public var regex: String
    public var behavior: GuardAction

    public init(name: String, regex: String, behavior: GuardAction = .block) {
        self.name = name
        self.regex = regex
        self.behavior = behavior
    }

    enum CodingKeys: String, CodingKey {
        case name, regex, behavior
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        regex = try c.decode(String.self, forKey: .regex)
        behavior = try c.decodeIfPresent(GuardAction.self, forKey: .behavior) ?? .block
    }
}

/// Why a `TextScreen` could not be built.
public enum TextScreenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A custom pattern's regex does not compile; `name` is the pattern's configured name.
    case invalidPattern(name: String, reason: String)

    public var description: String {
        switch self {
        case .invalidPattern(let name, let reason): "pattern \"\(name)\": \(reason)"
        }
    }
}

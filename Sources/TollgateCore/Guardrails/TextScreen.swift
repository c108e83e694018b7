import Foundation

/// Finds PII, invalid keywords and custom patterns in text. Built once from config, used by many
/// requests concurrently (it holds only immutable, compiled state).
///
/// Cost: the built-in detectors each make one linear pass over the UTF-8 bytes with bounded work
/// per position, so a scan is O(n) whatever the input; keywords add one table look-up per byte.
/// Custom patterns run through ICU and cost what their regex costs.
public struct TextScreen: Sendable {
    private struct CompiledPattern: Sendable {
        let name: String
        let behavior: GuardAction
        let regex: NSRegularExpression
    }

    /// The enabled detectors, in tie-break order (see `resolve`).
    private let detectors: [PIIEntity]
    private let piiAction: GuardAction
    private let keywords: KeywordMatcher
    private let patterns: [CompiledPattern]

    /// The length assumed for a custom pattern's matches (a regex's longest match cannot be known
    /// in general), in characters.
    public static let patternBound = 256

    /// The longest text one finding can span, in characters: the longest match of each enabled
    /// built-in detector (a JWT, at 4096, when secrets are on), of each keyword, and
    /// `patternBound` when there are custom patterns. A stream window this long catches every
    /// finding; shorter windows catch every finding up to their length.
    public let longestMatch: Int

    /// `pii` entities with the PII behavior; keywords always BLOCK (Databricks'
    /// `invalid_keywords`), matched case-insensitively on word boundaries (`KeywordMatcher`);
    /// throws `TextScreenError.invalidPattern` naming the first pattern whose regex does not compile.
    public init(pii: Set<PIIEntity>, piiAction: GuardAction, keywords: [String], patterns: [NamedPattern]) throws {
        detectors = Self.order.filter(pii.contains)
        self.piiAction = piiAction
        self.keywords = try KeywordMatcher(keywords)
        self.patterns = try patterns.map { pattern in
            do {
                return CompiledPattern(name: pattern.name, behavior: pattern.behavior, regex: try NSRegularExpression(pattern: pattern.regex))
            } catch {
                throw TextScreenError.invalidPattern(name: pattern.name, reason: "not a valid regular expression")
            }
        }
        longestMatch = max(
            detectors.map(Self.maxLength).max() ?? 0, self.keywords.longestEntry, patterns.isEmpty ? 0 : Self.patternBound
        )
    }

    /// Findings sorted by start, non-overlapping. Where matches overlap, one is kept: the one that
    /// blocks over one that masks over one that does nothing (so an overlapping mask can never
    /// hide a block), then the longer, then the earlier, then by detector (secret, email, IBAN,
    /// card, SSN, phone, IP; then keywords, then patterns in config order).
    public func findings(in text: String) -> [TextFinding] {
        let found = candidates(in: text, from: 0)
        var findings: [TextFinding] = []
        findings.reserveCapacity(found.count)
        let utf8 = text.utf8
        var cursor = utf8.startIndex
        var cursorOffset = 0
        // Offsets only grow, so each index is reached from the previous one: linear even for a
        // string whose UTF-8 view cannot jump.
        for candidate in found {
            let start = utf8.index(cursor, offsetBy: candidate.start - cursorOffset)
            let end = utf8.index(start, offsetBy: candidate.end - candidate.start)
            let range = start..<end
            findings.append(TextFinding(
                kind: candidate.kind, action: candidate.action, range: range, matched: String(Substring(text.unicodeScalars[range]))
            ))
            (cursor, cursorOffset) = (end, candidate.end)
        }
        return findings
    }

    /// The text with every MASK finding replaced by its label (`[EMAIL]`; a pattern's label is
    /// `[NAME]` uppercased); BLOCK and NONE findings are left as they are. `findings` must be this
    /// text's (from `findings(in:)`); any that overlap an earlier one are skipped.
    public func masked(_ text: String, _ findings: [TextFinding]) -> String {
        let masks = findings.filter { $0.action == .mask }.sorted { $0.range.lowerBound < $1.range.lowerBound }
        guard !masks.isEmpty else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count)
        var cursor = text.startIndex
        for finding in masks where finding.range.lowerBound >= cursor {
            result += Substring(text.unicodeScalars[cursor..<finding.range.lowerBound])
            result += finding.kind.maskLabel
            cursor = finding.range.upperBound
        }
        result += Substring(text.unicodeScalars[cursor...])
        return result
    }

    // MARK: - Candidates

    /// One match before overlaps are resolved, in UTF-8 offsets.
    struct Candidate: Sendable, Equatable {
        var start: Int
        var end: Int
        var kind: FindingKind
        var action: GuardAction
        /// The tie-break position of what found it.
        var rank: Int

        var summary: FindingSummary { FindingSummary(kind: kind, action: action) }
    }

    /// Tie-break order: the more specific formats first, so a token that is both a key and
    /// high-entropy, or digits that are both a card and something else, get the specific name.
    private static let order: [PIIEntity] = [.secret, .email, .iban, .creditCard, .usSSN, .phoneNumber, .ipAddress]

    private static func maxLength(_ entity: PIIEntity) -> Int {
        switch entity {
        case .email: EmailDetector.maxLength
        case .phoneNumber: PhoneDetector.maxLength
        case .creditCard: CardDetector.maxLength
        case .usSSN: SSNDetector.maxLength
        case .iban: IBANDetector.maxLength
        case .ipAddress: IPAddressDetector.maxLength
        case .secret: SecretDetector.maxLength
        }
    }

    /// The bytes a detector's every match contains, found in one pass: a text without an ASCII
    /// digit holds no phone number, card, SSN, IBAN or IPv4 address, one without `@` no email,
    /// one with neither a digit nor `:` no IP address. Detectors whose trigger is absent are not
    /// run at all (most prompts have no `@`, many no digit).
    private struct Triggers {
        var digit = false
        var at = false
        var colon = false

        init(_ bytes: UnsafeBufferPointer<UInt8>) {
            for byte in bytes {
                if byte.isDigitByte {
                    digit = true
                } else if byte == .at {
                    at = true
                } else if byte == .colon {
                    colon = true
                }
                if digit, at, colon { break }
            }
        }

        func mayMatch(_ entity: PIIEntity) -> Bool {
            switch entity {
            case .email: at
            case .phoneNumber, .creditCard, .usSSN, .iban: digit
            case .ipAddress: digit || colon
            case .secret: true
            }
        }
    }

    private static func scan(_ entity: PIIEntity, _ text: ScanText, _ hits: inout [Range<Int>]) {
        switch entity {
        case .email: EmailDetector.scan(text, into: &hits)
        case .phoneNumber: PhoneDetector.scan(text, into: &hits)
        case .creditCard: CardDetector.scan(text, into: &hits)
        case .usSSN: SSNDetector.scan(text, into: &hits)
        case .iban: IBANDetector.scan(text, into: &hits)
        case .ipAddress: IPAddressDetector.scan(text, into: &hits)
        case .secret: SecretDetector.scan(text, into: &hits)
        }
    }

    /// Resolved candidates (sorted, non-overlapping) of the matches that start at or after the
    /// UTF-8 offset `minStart`. Matches starting earlier are dropped before overlaps are resolved:
    /// a stream passes the tail of text it already sent as left context only.
    func candidates(in text: String, from minStart: Int) -> [Candidate] {
        var found: [Candidate] = []
        var byteHits: [Range<Int>] = []
        var keywordHits: [(range: Range<Int>, entry: String)] = []
        let scanBytes = { (bytes: UnsafeBufferPointer<UInt8>) in
            let scanText = ScanText(bytes: bytes)
            let triggers = Triggers(bytes)
            for (rank, entity) in detectors.enumerated() where triggers.mayMatch(entity) {
                byteHits.removeAll(keepingCapacity: true)
                Self.scan(entity, scanText, &byteHits)
                for hit in byteHits where hit.lowerBound >= minStart {
                    found.append(Candidate(start: hit.lowerBound, end: hit.upperBound, kind: .pii(entity), action: piiAction, rank: rank))
                }
            }
            keywords.scanASCII(scanText, into: &keywordHits)
        }
        if text.utf8.withContiguousStorageIfAvailable(scanBytes) == nil {
            Array(text.utf8).withUnsafeBufferPointer(scanBytes)
        }
        keywords.scanUnicode(text, into: &keywordHits)
        let keywordRank = Self.order.count
        for hit in keywordHits where hit.range.lowerBound >= minStart {
            found.append(Candidate(start: hit.range.lowerBound, end: hit.range.upperBound, kind: .keyword(hit.entry), action: .block, rank: keywordRank))
        }
        if !patterns.isEmpty {
            let whole = NSRange(text.startIndex..., in: text)
            for (offset, pattern) in patterns.enumerated() {
                for match in pattern.regex.matches(in: text, range: whole) {
                    guard let range = Range(match.range, in: text), !range.isEmpty else { continue }
                    let bytes = text.utf8Offsets(of: range)
                    guard bytes.lowerBound >= minStart else { continue }
                    found.append(Candidate(
                        start: bytes.lowerBound, end: bytes.upperBound, kind: .pattern(pattern.name), action: pattern.behavior,
                        rank: keywordRank + 1 + offset
                    ))
                }
            }
        }
        return Self.resolve(found)
    }

    /// Keeps one candidate of each overlapping group (the rule `findings(in:)` documents). Work is
    /// per cluster of mutually overlapping candidates, which detectors keep small, so resolving is
    /// O(n log n).
    static func resolve(_ candidates: [Candidate]) -> [Candidate] {
        guard candidates.count > 1 else { return candidates }
        let sorted = candidates.sorted { ($0.start, $1.end - $1.start) < ($1.start, $0.end - $0.start) }
        var kept: [Candidate] = []
        kept.reserveCapacity(sorted.count)
        var cluster: [Candidate] = []
        var clusterEnd = Int.min
        func flush() {
            if cluster.count == 1 {
                kept.append(cluster[0])
            } else if !cluster.isEmpty {
                kept += choose(cluster, span: cluster[0].start..<clusterEnd)
            }
            cluster.removeAll(keepingCapacity: true)
        }
        for candidate in sorted {
            if candidate.start >= clusterEnd { flush() }
            cluster.append(candidate)
            clusterEnd = max(clusterEnd, candidate.end)
        }
        flush()
        return kept
    }

    /// The winners of one cluster, sorted by start: candidates in order of precedence, each kept
    /// unless it overlaps one kept before. Occupancy is a byte map of the cluster, so a hostile
    /// cluster (a keyword like `$$` matching at every offset of `$$$$…`) costs the total length
    /// of its candidates, not their count squared.
    private static func choose(_ cluster: [Candidate], span: Range<Int>) -> [Candidate] {
        var occupied = [Bool](repeating: false, count: span.count)
        var chosen: [Candidate] = []
        for candidate in cluster.sorted(by: wins) {
            let range = (candidate.start - span.lowerBound)..<(candidate.end - span.lowerBound)
            guard !occupied[range].contains(true) else { continue }
            occupied.replaceSubrange(range, with: repeatElement(true, count: range.count))
            chosen.append(candidate)
        }
        return chosen.sorted { $0.start < $1.start }
    }

    /// Whether `a` is kept over an overlapping `b`.
    private static func wins(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.action.precedence != b.action.precedence { return a.action.precedence > b.action.precedence }
        if a.end - a.start != b.end - b.start { return a.end - a.start > b.end - b.start }
        if a.start != b.start { return a.start < b.start }
        return a.rank < b.rank
    }
}

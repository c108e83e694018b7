/// Output guardrails on a stream: text arrives as deltas, and a little is held back so a match
/// split across chunks is still caught.
///
/// Guarantee: every finding up to `windowCharacters` characters long is caught however the text
/// is chunked, and when nothing blocks, the concatenation of everything `feed` and `finish`
/// return is exactly `screen.masked(fullText, screen.findings(in: fullText))`. When something
/// blocks, the stream blocks on the same first blocking finding as the whole text would.
///
/// How: the screen rescans what it holds on every delta and releases text only up to a point
/// `windowCharacters + contextCharacters` characters before the end, moved back
/// - to the start of the word it falls in (after the nearest whitespace within
///   `windowCharacters`; up to `maxHeldRun` characters when the word is still growing at the end
///   of the text, like a long key arriving piece by piece), so masks fall on clean boundaries;
/// - to the start of any finding it would cut.
///
/// The extra `contextCharacters` give detectors the right context they read (a digit after a
/// number, a boundary after a keyword), and the last `contextCharacters` already released stay in
/// the scan as left context (`SSN:` before nine digits) without being sent again. A finding
/// longer than the window is still caught when it is detectable before it is complete (keys
/// with a known prefix, JWTs, long words) but is not guaranteed.
///
/// Cost: each `feed` rescans at most about `2 × windowCharacters + 2 × contextCharacters`
/// characters (more only while a finding or a growing word is held).
public struct StreamScreen: Sendable {
    /// The default `windowCharacters` (`stream_window_chars`).
    public static let defaultWindow = 64
    /// Characters of context kept on each side of the released text (see the type's notes).
    public static let contextCharacters = 32
    /// The longest unbroken word held back whole while it is still growing.
    public static let maxHeldRun = 1024

    public let screen: TextScreen
    public let windowCharacters: Int

    /// Left context (already sent) followed by the held text.
    private var buffer = ""
    /// The UTF-8 length of the left context at the start of `buffer`.
    private var contextBytes = 0
    private var blocked: FindingSummary?
    private var found: [FindingSummary] = []

    public init(screen: TextScreen, windowCharacters: Int = StreamScreen.defaultWindow) {
        self.screen = screen
        self.windowCharacters = max(0, windowCharacters)
    }

    /// Everything found in the text released so far, and the blocking finding if there was one,
    /// in order. Summaries, not `TextFinding`s: ranges into the held text mean nothing to a caller,
    /// and a record of the stream should not keep the matched PII.
    public var findings: [FindingSummary] { found }

    /// Whether the stream has blocked (every later call returns the same block, sending nothing).
    public var isBlocked: Bool { blocked != nil }

    /// Takes the next delta; returns what may be sent now (masked, possibly empty) or a block.
    public mutating func feed(_ delta: String) -> StreamScreenStep {
        if let blocked { return .block(send: "", finding: blocked) }
        guard !delta.isEmpty else { return .send("") }
        buffer += delta
        return release(final: false)
    }

    /// End of stream: flushes the held text (masked) or blocks.
    public mutating func finish() -> StreamScreenStep {
        if let blocked { return .block(send: "", finding: blocked) }
        return release(final: true)
    }

    private mutating func release(final: Bool) -> StreamScreenStep {
        let candidates = screen.candidates(in: buffer, from: contextBytes)
        let end = final ? buffer.utf8.count : releasePoint(candidates)
        // Findings before the release point are settled: the rest of the text cannot change them.
        if let block = candidates.first(where: { $0.action == .block && $0.start < end }) {
            let before = candidates.filter { $0.end <= block.start }
            let text = maskedSlice(before, upTo: block.start)
            found += before.map(\.summary)
            found.append(block.summary)
            blocked = block.summary
            buffer = ""
            contextBytes = 0
            return .block(send: text, finding: block.summary)
        }
        guard end > contextBytes else { return .send("") }
        let released = candidates.filter { $0.start < end }
        let text = maskedSlice(released, upTo: end)
        found += released.map(\.summary)
        keepContext(before: end)
        return .send(text)
    }

    /// The UTF-8 offset in `buffer` up to which text may be released now.
    private func releasePoint(_ candidates: [TextScreen.Candidate]) -> Int {
        let utf8 = buffer.utf8
        let floor = utf8.index(utf8.startIndex, offsetBy: contextBytes)
        let hold = windowCharacters + Self.contextCharacters
        guard var point = buffer.index(buffer.endIndex, offsetBy: -hold, limitedBy: floor), point > floor else {
            return contextBytes
        }
        point = wordStart(before: point, floor: floor)
        var offset = utf8.distance(from: utf8.startIndex, to: point)
        if let cut = candidates.first(where: { $0.start < offset && $0.end > offset }) { offset = cut.start }
        return max(offset, contextBytes)
    }

    /// `point`, or the start of the word it falls in: after the nearest whitespace at most
    /// `windowCharacters` back, or `maxHeldRun` back when no whitespace follows `point` (the word
    /// runs on to the end of the text and may still grow).
    private func wordStart(before point: String.Index, floor: String.Index) -> String.Index {
        let growing = !buffer[point...].contains(where: \.isWhitespace)
        let limit = growing ? Self.maxHeldRun : windowCharacters
        var index = point
        var steps = 0
        while index > floor, steps < limit {
            let previous = buffer.index(before: index)
            if buffer[previous].isWhitespace { return index }
            index = previous
            steps += 1
        }
        return index == floor && growing ? floor : point
    }

    /// `buffer` from the end of the context to `end`, with the MASK candidates replaced.
    private func maskedSlice(_ candidates: [TextScreen.Candidate], upTo end: Int) -> String {
        let utf8 = buffer.utf8
        var result = ""
        var cursor = utf8.index(utf8.startIndex, offsetBy: contextBytes)
        for candidate in candidates where candidate.action == .mask {
            let start = utf8.index(utf8.startIndex, offsetBy: candidate.start)
            result += Substring(buffer.unicodeScalars[cursor..<start])
            result += candidate.kind.maskLabel
            cursor = utf8.index(utf8.startIndex, offsetBy: candidate.end)
        }
        result += Substring(buffer.unicodeScalars[cursor..<utf8.index(utf8.startIndex, offsetBy: end)])
        return result
    }

    /// Drops what was released, keeping its last `contextCharacters` as left context.
    private mutating func keepContext(before end: Int) {
        let utf8 = buffer.utf8
        let point = utf8.index(utf8.startIndex, offsetBy: end)
        let start = buffer.index(point, offsetBy: -Self.contextCharacters, limitedBy: buffer.startIndex) ?? buffer.startIndex
        contextBytes = utf8.distance(from: start, to: point)
        buffer = String(Substring(buffer.unicodeScalars[start...]))
    }
}

/// What a stream may do after a delta.
public enum StreamScreenStep: Sendable, Equatable {
    /// Text safe to send now (possibly empty), already masked.
    case send(String)
    /// A BLOCK finding: `send` is the safe text before it that may still be sent (masked); the
    /// stream must end after it.
    case block(send: String, finding: FindingSummary)
}

/// A JSON number as written: the literal text is kept, so integers past 2^53 and values past
/// `Double`'s range are relayed and re-encoded exactly, and conversions to `Int` are exact or nil.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral {
    /// Valid JSON number text (RFC 8259).
    public let text: String

    /// A number whose text the parser has already checked.
    init(validatedText: String) { text = validatedText }

    public init(_ value: Int) { text = String(value) }
    public init(_ value: Int64) { text = String(value) }
    public init(_ value: UInt64) { text = String(value) }

    /// `nil` for NaN and infinities, which JSON cannot write.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        if value.rounded() == value, abs(value) < 9.2e18 {
            text = String(Int64(value))
        } else {
            text = String(value)
        }
    }

    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self = JSONNumber(value) ?? JSONNumber(0) }

    /// The nearest `Double` (±infinity past its range, as `Double("1e999")`).
    public var double: Double { Double(text) ?? 0 }

    /// The value as an `Int` when it is an integer that fits exactly; `nil` otherwise
    /// (`1e19`, `2.5`, `1e999`). `1.0` and `1e3` are integers.
    public var int: Int? {
        if let exact = Int(text) { return exact }
        let value = double
        guard value.isFinite, value.rounded() == value else { return nil }
        return Int(exactly: value)
    }

    /// Whether the literal is written as an integer (no fraction, no exponent).
    public var isIntegerLiteral: Bool { !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") } }

    public var description: String { text }

    /// Numbers are equal when their text is, or when both are finite and equal as `Double`s.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.text == rhs.text { return true }
        if let left = Int(lhs.text), let right = Int(rhs.text) { return left == right }
        let left = lhs.double, right = rhs.double
        return left.isFinite && right.isFinite && left == right
    }
}

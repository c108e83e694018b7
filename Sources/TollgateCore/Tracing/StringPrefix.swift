extension String {
    /// The first `count` characters. A string whose UTF-8 is no longer than `count` bytes has no
    /// more characters than that and is returned as it is, without walking its graphemes.
    public func leading(_ count: Int) -> String {
        utf8.count <= count ? self : String(prefix(count))
    }
}

import Foundation
import TollgateCore

/// The simulator's `/embeddings` answer: one unit vector per input, the same for the same text,
/// `dimensions` long (64 by default), as floats or as base64 of little-endian float32 (what the
/// openai SDK asks for by default).
struct SimulatedEmbeddings {
    let request: JSONValue

    var inputs: [String] {
        switch request["input"] {
        case .string(let text)?: [text]
        case .array(let items)?: items.map { $0.stringValue ?? $0.jsonText }
        default: []
        }
    }

    var answer: JSONValue {
        let dimensions = request["dimensions"]?.intValue.map { min(max($0, 1), 4096) } ?? 64
        let base64 = request["encoding_format"]?.stringValue == "base64"
        let data: [JSONValue] = inputs.enumerated().map { index, text in
            let vector = Self.vector(text, dimensions: dimensions)
            let embedding: JSONValue = base64
                ? .string(Data(vector.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) }).base64EncodedString())
                : .array(vector.map { .double(Double($0)) })
            return ["object": "embedding", "index": .int(index), "embedding": embedding]
        }
        let tokens = inputs.reduce(0) { $0 + max(1, $1.utf8.count / 4) }
        return [
            "object": "list", "data": .array(data), "model": .string(request["model"]?.stringValue ?? "simulator"),
            "usage": ["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)],
        ]
    }

    /// A unit vector seeded by the text's FNV-1a hash.
    static func vector(_ text: String, dimensions: Int) -> [Float] {
        var state: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
        var values: [Float] = []
        for _ in 0..<dimensions {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            values.append(Float(Int64(bitPattern: state >> 11) - (1 << 52)) / Float(1 << 52))
        }
        let norm = max(values.reduce(0) { $0 + $1 * $1 }.squareRoot(), .leastNormalMagnitude)
        return values.map { $0 / norm }
    }
}

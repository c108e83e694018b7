import GRDB
import GRDBSQLite

/// Column values of one or more rows in one contiguous allocation, built on the thread that
/// parsed them.
///
/// The writer binds a batch's ~20 values per request while it holds the store's write lock.
/// Read from `[DatabaseValue]` arrays, each value was a pointer chase into memory another core
/// had allocated — a cache miss per value, half of the writer's time. Packed, the writer reads
/// memory in order and only calls SQLite's `bind` functions; text is bound in place
/// (`SQLITE_STATIC`), so SQLite does not copy it either.
///
/// `@unchecked Sendable`: the buffer is written once, in `init`, and only read afterwards.
final class PackedValues: @unchecked Sendable {
    private enum Kind: UInt8 { case null, integer, real, text, blob }

    /// One value: its kind, and the integer, the bits of the double, or where its bytes are.
    private struct Slot {
        var kind: Kind
        var length: Int32
        var payload: Int64
    }

    /// Number of values.
    let count: Int
    private let slots: UnsafeMutablePointer<Slot>
    private let bytes: UnsafeMutableRawPointer

    init(_ values: [DatabaseValue]) {
        count = values.count
        var byteCount = 0
        for value in values {
            switch value.storage {
            case .string(let text): byteCount += text.utf8.count
            case .blob(let data): byteCount += data.count
            default: break
            }
        }
        slots = .allocate(capacity: max(count, 1))
        bytes = .allocate(byteCount: max(byteCount, 1), alignment: 8)  // never null: a null pointer binds NULL
        var offset = 0
        for (index, value) in values.enumerated() {
            let slot: Slot
            switch value.storage {
            case .null:
                slot = Slot(kind: .null, length: 0, payload: 0)
            case .int64(let number):
                slot = Slot(kind: .integer, length: 0, payload: number)
            case .double(let number):
                slot = Slot(kind: .real, length: 0, payload: Int64(bitPattern: number.bitPattern))
            case .string(var text):
                let length = text.withUTF8 { utf8 in
                    if let source = utf8.baseAddress { (bytes + offset).copyMemory(from: source, byteCount: utf8.count) }
                    return utf8.count
                }
                slot = Slot(kind: .text, length: Int32(length), payload: Int64(offset))
                offset += length
            case .blob(let data):
                data.withUnsafeBytes { raw in
                    if let source = raw.baseAddress { (bytes + offset).copyMemory(from: source, byteCount: raw.count) }
                }
                slot = Slot(kind: .blob, length: Int32(data.count), payload: Int64(offset))
                offset += data.count
            }
            (slots + index).initialize(to: slot)
        }
    }

    deinit {
        slots.deallocate()
        bytes.deallocate()
    }

    private static let staticBinding: sqlite3_destructor_type? = nil

    /// Binds value `index` to parameter `parameter` of `handle`. The binding points into this
    /// object's memory: it must be cleared before the object goes away.
    func bind(_ index: Int, to handle: OpaquePointer, at parameter: Int32) {
        let slot = slots[index]
        switch slot.kind {
        case .null:
            sqlite3_bind_null(handle, parameter)
        case .integer:
            sqlite3_bind_int64(handle, parameter, slot.payload)
        case .real:
            sqlite3_bind_double(handle, parameter, Double(bitPattern: UInt64(bitPattern: slot.payload)))
        case .text:
            let start = (bytes + Int(slot.payload)).assumingMemoryBound(to: CChar.self)
            sqlite3_bind_text(handle, parameter, start, slot.length, Self.staticBinding)
        case .blob:
            sqlite3_bind_blob(handle, parameter, bytes + Int(slot.payload), slot.length, Self.staticBinding)
        }
    }
}

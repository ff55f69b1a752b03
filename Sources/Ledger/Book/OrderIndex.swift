/// A hash map from order id to node slot: open addressing with linear probing
/// and backward-shift deletion, hashed by a fixed multiplier.
///
/// Why not `Dictionary`: it is on every insert, cancel and fill, and Swift's
/// seeded SipHash costs more than the rest of a cancel. A fixed hash is safe
/// here because order ids come from the ledger's counter, not from users, so no
/// one can pick colliding keys; and the map is never iterated, so its layout
/// cannot leak into any result.
@usableFromInline
struct OrderIndex: Sendable {
    /// Slot values; `empty` marks a free bucket.
    @usableFromInline var values: [Int32]
    @usableFromInline var keys: [UInt64]
    @usableFromInline var count = 0
    /// 64 - log2(capacity): the hash is the top bits of id x multiplier.
    @usableFromInline var shift: UInt64

    @usableFromInline static let empty: Int32 = -1
    @usableFromInline static let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15

    @usableFromInline
    init() {
        values = Array(repeating: OrderIndex.empty, count: 16)
        keys = Array(repeating: 0, count: 16)
        shift = 64 - 4
    }

    @inlinable var mask: Int { values.count - 1 }

    @inlinable
    func bucket(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* OrderIndex.multiplier) >> shift) }

    /// The slot stored for `key`.
    @inlinable
    subscript(key: UInt64) -> Int32? {
        var i = bucket(key)
        while true {
            let v = values[i]
            if v == OrderIndex.empty { return nil }
            if keys[i] == key { return v }
            i = (i + 1) & mask
        }
    }

    /// Stores `value` for `key`, which must not be present.
    @inlinable
    mutating func insert(_ key: UInt64, _ value: Int32) {
        if (count + 1) * 2 > values.count { grow() }
        var i = bucket(key)
        while values[i] != OrderIndex.empty { i = (i + 1) & mask }
        keys[i] = key
        values[i] = value
        count += 1
    }

    /// Removes `key` if present.
    @inlinable
    mutating func remove(_ key: UInt64) {
        var i = bucket(key)
        while true {
            if values[i] == OrderIndex.empty { return }
            if keys[i] == key { break }
            i = (i + 1) & mask
        }
        // Backward shift: pull later entries of the probe run into the hole
        // unless their home bucket lies cyclically after the hole.
        var hole = i
        var j = (i + 1) & mask
        while values[j] != OrderIndex.empty {
            let home = bucket(keys[j])
            if (j - home) & mask >= (j - hole) & mask {
                keys[hole] = keys[j]
                values[hole] = values[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        values[hole] = OrderIndex.empty
        count -= 1
    }

    @usableFromInline
    mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let capacity = values.count * 2
        values = Array(repeating: OrderIndex.empty, count: capacity)
        keys = Array(repeating: 0, count: capacity)
        shift -= 1
        count = 0
        for i in 0..<oldValues.count where oldValues[i] != OrderIndex.empty { insert(oldKeys[i], oldValues[i]) }
    }
}

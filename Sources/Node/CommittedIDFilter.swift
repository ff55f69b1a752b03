import BallastCrypto

/// A Bloom filter over the ids of committed transactions, keyed by an id's first 8 bytes (the
/// prefix the index stores), that grows with them: when its newest level is full it adds one of
/// twice the capacity, so a full level never fills further and the false-positive rate stays
/// bounded however many ids it holds.
///
/// Why: every node asks the index, for every transaction of every block it executes, whether it
/// was committed at an earlier height (a leader catching up could propose it again). The answer
/// is almost always no, and each no was two B-tree searches in SQLite. A filter's no is certain
/// (it never forgets an id it was given), so only its "maybe" goes to the index, which compares
/// whole ids. About 1.25 bytes of memory per committed transaction.
struct CommittedIDFilter {
    private struct Level {
        var words: [UInt64]
        var count = 0
        let capacity: Int
        /// Bit positions are taken modulo the level's size, a power of two.
        var mask: UInt64 { UInt64(words.count * 64 - 1) }

        init(capacity: Int) {
            self.capacity = capacity
            // About 10 bits per id (rounded up to a power of two): with 7 probes, under 1% false positives.
            var bits = 64
            while bits < capacity * CommittedIDFilter.bitsPerID { bits <<= 1 }
            words = [UInt64](repeating: 0, count: bits / 64)
        }
    }

    static let bitsPerID = 10
    static let probes: UInt64 = 7
    private var levels: [Level]

    /// `firstCapacity`: the ids the first level holds before the next is added.
    init(firstCapacity: Int = 1 << 16) {
        levels = [Level(capacity: max(1, firstCapacity))]
    }

    /// Ids added so far (a repeated prefix counts again).
    var count: Int { levels.reduce(0) { $0 + $1.count } }

    /// The prefix the filter is keyed by: the id's first 8 bytes, as the index stores them.
    static func prefix(_ id: Hash256) -> UInt64 {
        id.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
    }

    /// The probe positions of `prefix` (double hashing; the second step is odd, so the probes
    /// differ in any power-of-two size). Ids are hashes, so the prefix needs no mixing itself.
    @inline(__always)
    private static func forEachProbe(_ prefix: UInt64, mask: UInt64, _ body: (Int, UInt64) -> Bool) -> Bool {
        let step = WordHash.mix(prefix) | 1
        var position = prefix
        for _ in 0..<probes {
            let bit = position & mask
            if !body(Int(bit >> 6), 1 << (bit & 63)) { return false }
            position &+= step
        }
        return true
    }

    mutating func insert(_ prefix: UInt64) {
        if levels[levels.count - 1].count >= levels[levels.count - 1].capacity {
            levels.append(Level(capacity: levels[levels.count - 1].capacity * 2))
        }
        let last = levels.count - 1
        let mask = levels[last].mask
        _ = CommittedIDFilter.forEachProbe(prefix, mask: mask) { word, bit in
            levels[last].words[word] |= bit
            return true
        }
        levels[last].count += 1
    }

    mutating func insert(_ id: Hash256) { insert(CommittedIDFilter.prefix(id)) }

    /// False only when no id with this prefix was inserted.
    func mayContain(_ id: Hash256) -> Bool {
        let prefix = CommittedIDFilter.prefix(id)
        for level in levels where level.count > 0 {
            if CommittedIDFilter.forEachProbe(prefix, mask: level.mask, { word, bit in level.words[word] & bit != 0 }) { return true }
        }
        return false
    }
}

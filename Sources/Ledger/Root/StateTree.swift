import Codec
import BallastCrypto

/// The name of one entry of the state: what the state root commits to, one leaf each.
public enum StateKey: Hashable, Comparable, Sendable {
    case global
    case insurance
    case pool(AssetID)
    case oracle(AssetID)
    case market(MarketID)
    case order(MarketID, OrderID)
    case account(Address)

    var tag: UInt8 {
        switch self {
        case .global: return 0
        case .insurance: return 1
        case .pool: return 2
        case .oracle: return 3
        case .market: return 4
        case .order: return 5
        case .account: return 6
        }
    }

    public static func < (a: StateKey, b: StateKey) -> Bool {
        if a.tag != b.tag { return a.tag < b.tag }
        switch (a, b) {
        case (.pool(let x), .pool(let y)), (.oracle(let x), .oracle(let y)), (.market(let x), .market(let y)):
            return x < y
        case (.order(let m1, let o1), .order(let m2, let o2)): return (m1, o1) < (m2, o2)
        case (.account(let x), .account(let y)): return x < y
        default: return false
        }
    }

    /// The hash tables' hash (the root update's set of touched keys): a keyed word mix as for
    /// addresses (see `FixedBytes._rawHashValue`), not SipHash.
    public func _rawHashValue(seed: Int) -> Int {
        let s = seed &+ Int(tag)
        switch self {
        case .global, .insurance: return Int(truncatingIfNeeded: WordHash.mix(WordHash.processKey ^ UInt64(bitPattern: Int64(s))))
        case .pool(let a), .oracle(let a), .market(let a):
            return Int(truncatingIfNeeded: WordHash.mix(WordHash.processKey ^ UInt64(bitPattern: Int64(s)) ^ UInt64(a)))
        case .order(let m, let o):
            let h = WordHash.mix(WordHash.processKey ^ UInt64(bitPattern: Int64(s)) ^ o)
            return Int(truncatingIfNeeded: WordHash.mix(h ^ UInt64(m)))
        case .account(let a): return a._rawHashValue(seed: s)
        }
    }

    /// Which of the tree's buckets holds this key: a fixed mix of its contents.
    func bucket(bits: Int) -> Int {
        var x: UInt64
        switch self {
        case .global: x = 1
        case .insurance: x = 2
        case .pool(let a): x = 0x100 &+ UInt64(a)
        case .oracle(let a): x = 0x200 &+ UInt64(a)
        case .market(let m): x = 0x300 &+ UInt64(m)
        case .order(let m, let o): x = o &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(m) &+ 0x400
        case .account(let a): x = a.storage.0
        }
        // splitmix64 finalizer: addresses are already uniform, this spreads the small keys.
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        x ^= x >> 31
        return Int(x >> UInt64(64 - bits))
    }
}

extension StateKey: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(tag)
        switch self {
        case .global, .insurance: break
        case .pool(let a), .oracle(let a): w.write(a)
        case .market(let m): w.write(m)
        case .order(let m, let o): w.write(m); w.write(o)
        case .account(let a): w.write(a)
        }
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        switch try r.readUInt8() {
        case 0: self = .global
        case 1: self = .insurance
        case 2: self = .pool(try r.readUInt32())
        case 3: self = .oracle(try r.readUInt32())
        case 4: self = .market(try r.readUInt32())
        case 5: self = .order(try r.readUInt32(), try r.readUInt64())
        case 6: self = .account(try r.read())
        case let tag: throw .unknownTag(type: "StateKey", tag: tag)
        }
    }
}

/// A Merkle commitment over every state entry, updated in time proportional to the entries
/// that changed.
///
/// Leaves are BLAKE2b-256(key ‖ value) and fall into 2^bits buckets by a fixed mix of the key.
/// A bucket's hash is BLAKE2b-256 of its leaf hashes in key order (all zeros when empty); a
/// binary tree over the buckets gives the root (a node over two empty subtrees is all zeros).
/// Changing k entries re-hashes k small buckets and their paths to the top.
public struct StateTree: Sendable {
    public static let defaultBits = 16
    static let domain: [UInt8] = Array("ballast/state/v1".utf8)

    public let bits: Int
    /// Per bucket: (key, leaf hash), sorted by key.
    var buckets: [[(key: StateKey, leaf: Hash256)]]
    /// Heap-ordered nodes: 1 is the top, bucket b is node (count + b).
    var nodes: [Hash256]
    var dirtyBuckets: [Int] = []

    /// An empty tree.
    public init(bits: Int = StateTree.defaultBits) {
        self.bits = bits
        buckets = Array(repeating: [], count: 1 << bits)
        nodes = Array(repeating: .zero, count: 2 << bits)
    }

    /// The leaf hash of one entry: BLAKE2b-256(key ‖ value).
    public static func leaf(key: StateKey, value: [UInt8]) -> Hash256 {
        // One buffer and a one-shot hash: an incremental hasher allocates its state.
        var w = ByteWriter(capacity: 40 + value.count)
        key.encode(to: &w)
        w.writeRaw(value)
        return Blake2b.hash256(w.bytes)
    }

    /// Sets (or with nil removes) the leaf of `key`; the root is stale until `commit()`.
    public mutating func set(_ key: StateKey, leaf: Hash256?) {
        let b = key.bucket(bits: bits)
        // Search and change the bucket in place (a copy of it would cost its whole size).
        var lo = 0, hi = buckets[b].count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if buckets[b][mid].key < key { lo = mid + 1 } else { hi = mid }
        }
        let exists = lo < buckets[b].count && buckets[b][lo].key == key
        switch (leaf, exists) {
        case (let leaf?, true):
            if buckets[b][lo].leaf == leaf { return }
            buckets[b][lo].leaf = leaf
        case (let leaf?, false): buckets[b].insert((key, leaf), at: lo)
        case (nil, true): buckets[b].remove(at: lo)
        case (nil, false): return
        }
        dirtyBuckets.append(b)
    }

    /// Re-hashes the changed buckets and their paths to the top.
    public mutating func commit() {
        guard !dirtyBuckets.isEmpty else { return }
        let count = 1 << bits
        dirtyBuckets.sort()
        var level: [Int] = []
        level.reserveCapacity(dirtyBuckets.count)
        for b in dirtyBuckets where level.last != b + count { level.append(b + count) }
        dirtyBuckets.removeAll(keepingCapacity: true)
        hashNodes(level, buckets: true)
        var parents: [Int] = []
        parents.reserveCapacity(level.count)
        while level.first != 1 {
            parents.removeAll(keepingCapacity: true)
            for node in level where parents.last != node >> 1 { parents.append(node >> 1) }
            hashNodes(parents, buckets: false)
            swap(&level, &parents)
        }
    }

    /// Sets `nodes[t]` for each `t` in `targets`: the bucket's hash when `buckets` (t is a bucket's
    /// node), else the hash of t's two children. The nodes of one level are independent, so
    /// their one-block inputs (every pair, buckets of up to four leaves) are hashed together in
    /// SIMD lanes (`Blake2b.hash256Blocks`), a chunk at a time; larger buckets one by one.
    mutating func hashNodes(_ targets: [Int], buckets areBuckets: Bool) {
        let count = 1 << bits
        let chunk = 64
        withUnsafeTemporaryAllocation(byteCount: chunk * (128 + 32 + 8 + 1), alignment: 64) { scratch in
            let blocks = scratch.baseAddress!
            let digests = blocks + chunk * 128
            let slots = (digests + chunk * 32).bindMemory(to: Int.self, capacity: chunk)
            let lengths = (digests + chunk * 40).bindMemory(to: UInt8.self, capacity: chunk)
            var pending = 0
            func flush() {
                Blake2b.hash256Blocks(blocks, lengths: lengths, count: pending, digests: digests)
                for j in 0..<pending {
                    nodes[slots[j]] = Hash256(storage: digests.load(fromByteOffset: 32 * j, as: Hash256.Storage.self))
                }
                pending = 0
            }
            for t in targets {
                let block = blocks + 128 * pending
                if areBuckets {
                    let b = t - count
                    let leaves = buckets[b].count
                    if leaves == 0 || leaves > 4 {
                        nodes[t] = hashBucket(b)
                        continue
                    }
                    for i in 0..<leaves { block.storeBytes(of: buckets[b][i].leaf.storage, toByteOffset: 32 * i, as: Hash256.Storage.self) }
                    (block + 32 * leaves).initializeMemory(as: UInt8.self, repeating: 0, count: 128 - 32 * leaves)
                    lengths[pending] = UInt8(32 * leaves)
                } else {
                    let left = nodes[2 * t], right = nodes[2 * t + 1]
                    // A node over two empty subtrees is zero, not hashed.
                    if left == .zero && right == .zero {
                        nodes[t] = .zero
                        continue
                    }
                    block.storeBytes(of: left.storage, as: Hash256.Storage.self)
                    block.storeBytes(of: right.storage, toByteOffset: 32, as: Hash256.Storage.self)
                    (block + 64).initializeMemory(as: UInt8.self, repeating: 0, count: 64)
                    lengths[pending] = 64
                }
                slots[pending] = t
                pending += 1
                if pending == chunk { flush() }
            }
            if pending > 0 { flush() }
        }
    }

    /// The commitment (after `commit()`).
    public var root: Hash256 {
        var h = Blake2bHasher()
        h.update(StateTree.domain)
        h.update(nodes[1])
        return h.finalize()
    }

    /// Recomputes every bucket and node from the leaves.
    /// Empty subtrees hash to zero, so only the paths above non-empty buckets are computed.
    public mutating func rebuildAll() {
        nodes = Array(repeating: .zero, count: 2 << bits)
        dirtyBuckets = buckets.indices.filter { !buckets[$0].isEmpty }
        commit()
    }

    /// BLAKE2b-256 of the bucket's leaf hashes in key order, hashed in one shot from a
    /// temporary buffer (the same digest as feeding them one by one).
    func hashBucket(_ b: Int) -> Hash256 {
        let count = buckets[b].count
        if count == 0 { return .zero }
        return withUnsafeTemporaryAllocation(byteCount: count * 32, alignment: 8) { buffer in
            for i in 0..<count {
                buckets[b][i].leaf.withUnsafeBytes { buffer.baseAddress!.advanced(by: i * 32).copyMemory(from: $0.baseAddress!, byteCount: 32) }
            }
            return Blake2b.hash256(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Number of leaves.
    public var leafCount: Int { buckets.reduce(0) { $0 + $1.count } }
}

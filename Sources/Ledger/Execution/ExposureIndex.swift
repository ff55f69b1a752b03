import BallastCrypto

/// Which accounts are exposed to which asset, so that the end-of-block health check and funding
/// visit only the accounts a block could have changed: those it touched, and those holding,
/// owing or trading an asset whose mark, oracle or borrow index moved.
///
/// Keyed by account slot (see `AccountTable`): a bit per slot per asset, no hashing. Slot order
/// is not address order, so every walk that reaches a result sorts by address first.
struct ExposureIndex: Sendable {
    /// Per asset, a bit per slot: accounts with a perp position on it, a balance of it
    /// (non-USDC) or a debt in it.
    var holders: [[UInt64]]
    /// Each slot's exposed assets as bits (`wordsPerSlot` words from `slot x wordsPerSlot`), to
    /// update `holders` when the account changes: flat, so re-indexing allocates nothing.
    var exposedBits: [UInt64] = []
    let wordsPerSlot: Int
    /// Prices and borrow indices at the last check, per asset.
    var lastMark: [Int64]
    var lastOracle: [Int64]
    var lastBorrowIndex: [Int128]
    /// Per slot, whether its holdings or positions may have changed since it was last indexed.
    var stale: [Bool] = []
    /// Per slot, the mark of the last walk that met it (`nextMark`), to list each slot once.
    var seen: [UInt32] = []
    var currentMark: UInt32 = 0

    init(assetCount: Int) {
        holders = Array(repeating: [], count: assetCount)
        lastMark = Array(repeating: 0, count: assetCount)
        lastOracle = Array(repeating: 0, count: assetCount)
        lastBorrowIndex = Array(repeating: 0, count: assetCount)
        wordsPerSlot = max(1, (assetCount + 63) / 64)
    }

    /// A fresh mark for a walk over slots: no slot carries it yet.
    mutating func nextMark(slotCount: Int) -> UInt32 {
        if seen.count < slotCount { seen.append(contentsOf: repeatElement(0, count: slotCount - seen.count)) }
        if currentMark == .max {
            for i in seen.indices { seen[i] = 0 }
            currentMark = 0
        }
        currentMark += 1
        return currentMark
    }

    mutating func markStale(_ slot: Int) {
        if stale.count <= slot { stale.append(contentsOf: repeatElement(false, count: slot + 1 - stale.count)) }
        stale[slot] = true
    }

    func isStale(_ slot: Int) -> Bool { slot < stale.count && stale[slot] }

    mutating func insert(_ slot: Int, asset: AssetID) {
        let word = slot >> 6
        if holders[Int(asset)].count <= word {
            holders[Int(asset)].append(contentsOf: repeatElement(0, count: word + 1 - holders[Int(asset)].count))
        }
        holders[Int(asset)][word] |= 1 << UInt64(slot & 63)
    }

    mutating func remove(_ slot: Int, asset: AssetID) {
        let word = slot >> 6
        if word < holders[Int(asset)].count { holders[Int(asset)][word] &= ~(1 << UInt64(slot & 63)) }
    }

    /// Calls `body` with each slot holding `asset`, in slot order.
    func forEachHolder(of asset: Int, _ body: (Int) -> Void) {
        for (w, bits) in holders[asset].enumerated() where bits != 0 {
            var rest = bits
            while rest != 0 {
                body(w << 6 + rest.trailingZeroBitCount)
                rest &= rest - 1
            }
        }
    }
}

extension Ledger {
    /// Word `w` of the bits of the assets the account in slot `s` is exposed to: a balance
    /// (non-USDC), a debt or a perp position. Not `mutating`, so the account is read in place.
    func exposedWord(slot s: Int, word w: Int) -> UInt64 {
        var bits: UInt64 = 0
        let low = w << 6
        func add(_ asset: AssetID) {
            let i = Int(asset) - low
            if i >= 0 && i < 64 { bits |= 1 << UInt64(i) }
        }
        for h in accounts.values[s].holdings where h.debtShares > 0 || (h.asset != 0 && !h.isEmpty) { add(h.asset) }
        for p in accounts.values[s].positions { add(config.marketBase[Int(p.market)]) }
        return bits
    }

    /// Re-indexes `address` after it changed.
    mutating func reindex(_ address: Address) {
        if let s = accounts.slot(address) { reindex(slot: s) }
    }

    /// Re-indexes the account in slot `s` after it changed.
    mutating func reindex(slot s: Int) {
        let words = exposure.wordsPerSlot
        if exposure.exposedBits.count < (s + 1) * words {
            exposure.exposedBits.append(contentsOf: repeatElement(0, count: (s + 1) * words - exposure.exposedBits.count))
        }
        if s < exposure.stale.count { exposure.stale[s] = false }
        for w in 0..<words {
            let now = exposedWord(slot: s, word: w)
            var changed = now ^ exposure.exposedBits[s * words + w]
            guard changed != 0 else { continue }
            exposure.exposedBits[s * words + w] = now
            while changed != 0 {
                let bit = changed.trailingZeroBitCount
                changed &= changed - 1
                let asset = AssetID(w << 6 + bit)
                if now & (1 << UInt64(bit)) != 0 { exposure.insert(s, asset: asset) } else { exposure.remove(s, asset: asset) }
            }
        }
    }

    /// Slots of the accounts whose health may have changed since the last call: the touched
    /// ones plus the holders of every asset whose mark, oracle or borrow index moved. Each once,
    /// in no particular order (the backstop orders its candidates by health, then address).
    mutating func accountsToRecheck(touched: [Int]) -> [Int] {
        let mark = exposure.nextMark(slotCount: accounts.slotCount)
        var out: [Int] = []
        for s in touched where exposure.seen[s] != mark {
            exposure.seen[s] = mark
            out.append(s)
        }
        for i in exposure.holders.indices {
            let price = markPrice(AssetID(i)), oracle = oracles[i].price, index = pools[i].borrowIndex
            if price != exposure.lastMark[i] || oracle != exposure.lastOracle[i] || index != exposure.lastBorrowIndex[i] {
                exposure.lastMark[i] = price
                exposure.lastOracle[i] = oracle
                exposure.lastBorrowIndex[i] = index
                let words = exposure.holders[i]
                for (w, bits) in words.enumerated() where bits != 0 {
                    var rest = bits
                    while rest != 0 {
                        let s = w << 6 + rest.trailingZeroBitCount
                        rest &= rest - 1
                        if exposure.seen[s] != mark {
                            exposure.seen[s] = mark
                            out.append(s)
                        }
                    }
                }
            }
        }
        return out
    }

    /// The addresses of the accounts exposed to `asset`, sorted.
    func holders(of asset: AssetID) -> [Address] {
        var out: [Address] = []
        exposure.forEachHolder(of: Int(asset)) { out.append(accounts.addresses[$0]) }
        out.sort()
        return out
    }

    /// Rebuilds the index from every account (genesis and snapshot restore).
    mutating func rebuildExposure() {
        exposure = ExposureIndex(assetCount: config.assetCount)
        for address in accounts.sortedAddresses() { reindex(address) }
    }
}

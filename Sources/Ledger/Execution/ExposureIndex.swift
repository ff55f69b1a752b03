import BallastCrypto

/// Which accounts are exposed to which asset, so that the end-of-block health check and funding
/// visit only the accounts a block could have changed: those it touched, and those holding,
/// owing or trading an asset whose mark, oracle or borrow index moved.
///
/// Sets and dictionaries here are for membership only; every walk over them is sorted first.
struct ExposureIndex: Sendable {
    /// Per asset: accounts with a perp position on it, a balance of it (non-USDC) or a debt in it.
    var holders: [Set<Address>]
    /// Each indexed account's assets, to update `holders` when the account changes.
    var assetsOf: [Address: [AssetID]] = [:]
    /// Prices and borrow indices at the last check, per asset.
    var lastMark: [Int64]
    var lastOracle: [Int64]
    var lastBorrowIndex: [Int128]

    init(assetCount: Int) {
        holders = Array(repeating: [], count: assetCount)
        lastMark = Array(repeating: 0, count: assetCount)
        lastOracle = Array(repeating: 0, count: assetCount)
        lastBorrowIndex = Array(repeating: 0, count: assetCount)
    }
}

extension Ledger {
    /// The assets an account is exposed to (sorted, unique).
    func exposedAssets(_ a: Account) -> [AssetID] {
        var out: [AssetID] = []
        out.reserveCapacity(a.holdings.count + a.positions.count)
        for h in a.holdings where h.debtShares > 0 || (h.asset != 0 && !h.isEmpty) { out.append(h.asset) }
        for p in a.positions {
            let base = config.genesis.markets[Int(p.market)].base
            if !out.contains(base) { out.append(base) }
        }
        return out.sorted()
    }

    /// Re-indexes `address` after it changed.
    mutating func reindex(_ address: Address) {
        let now = exposedAssets(account(address))
        let before = exposure.assetsOf[address] ?? []
        guard now != before else { return }
        for a in before where !now.contains(a) { exposure.holders[Int(a)].remove(address) }
        for a in now where !before.contains(a) { exposure.holders[Int(a)].insert(address) }
        exposure.assetsOf[address] = now.isEmpty ? nil : now
    }

    /// Accounts whose health may have changed since the last call: the touched ones plus the
    /// holders of every asset whose mark, oracle or borrow index moved. Sorted.
    mutating func accountsToRecheck(touched: [Address]) -> [Address] {
        // Deduplicated by a set (the sort below fixes the order), so each account is sorted once.
        var seen = Set<Address>()
        var out: [Address] = []
        for a in touched where seen.insert(a).inserted { out.append(a) }
        for i in exposure.holders.indices {
            let mark = markPrice(AssetID(i)), oracle = oracles[i].price, index = pools[i].borrowIndex
            if mark != exposure.lastMark[i] || oracle != exposure.lastOracle[i] || index != exposure.lastBorrowIndex[i] {
                exposure.lastMark[i] = mark
                exposure.lastOracle[i] = oracle
                exposure.lastBorrowIndex[i] = index
                for a in exposure.holders[i] where seen.insert(a).inserted { out.append(a) }
            }
        }
        out.sort()
        return out
    }

    /// Rebuilds the index from every account (genesis and snapshot restore).
    mutating func rebuildExposure() {
        exposure = ExposureIndex(assetCount: config.assetCount)
        for address in accounts.keys.sorted() { reindex(address) }
    }
}

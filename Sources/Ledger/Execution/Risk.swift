import BallastCrypto

extension Ledger {
    /// The mark of `asset`: for an asset with a perp market, median(oracle, best bid, best ask)
    /// when the book has both sides, else the oracle, clamped to oracle +- the mark clamp.
    /// Assets without a perp are marked at the oracle.
    public func markPrice(_ asset: AssetID) -> Int64 {
        let oracle = oracles[Int(asset)].price
        guard let market = config.perpMarket[Int(asset)] else { return oracle }
        let book = books[Int(market)]
        guard let bid = book.bestBid, let ask = book.bestAsk else { return oracle }
        let median = max(min(oracle, bid), min(max(oracle, bid), ask))
        let band = Int64((Int128(oracle) * Int128(config.genesis.oracle.markClampPpm)) / Int128(PPM.one))
        return min(max(median, oracle - band), oracle + band)
    }

    /// The margin engine's view of an account: net USDC, and per underlying the net spot
    /// amount and the perp position at the current mark and oracle.
    public func accountRisk(_ account: Account) throws(LedgerError) -> AccountRisk {
        var usdc: Int64 = 0
        var exposures: [Exposure] = []
        // One allocation, not one per doubling.
        exposures.reserveCapacity(account.holdings.count + account.positions.count)
        var hasDebt = false
        for h in account.holdings {
            let (s, o) = try amounts(h)
            if h.debtShares > 0 { hasDebt = true }
            let net = try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(s).checkedSubtracting(o) }
            if h.asset == 0 {
                usdc = net
            } else {
                exposures.append(Exposure(asset: h.asset, spot: net, mark: markPrice(h.asset), oracle: oracles[Int(h.asset)].price))
            }
        }
        for p in account.positions {
            let asset = config.genesis.markets[Int(p.market)].base
            let i = lowerBound(exposures, asset, \.asset)
            if i < exposures.count && exposures[i].asset == asset {
                exposures[i].perpSize = p.size
                exposures[i].perpCostBasis = p.costBasis
            } else {
                exposures.insert(Exposure(asset: asset, perpSize: p.size, perpCostBasis: p.costBasis,
                                          mark: markPrice(asset), oracle: oracles[Int(asset)].price), at: i)
            }
        }
        return AccountRisk(usdc: usdc, exposures: exposures, hasOpenOrders: account.openOrders > 0, hasDebt: hasDebt)
    }

    /// Both modes' margin numbers of the account at `address`.
    public func marginSummary(_ address: Address) throws(LedgerError) -> MarginSummary {
        try evaluate(accountRisk(account(address)))
    }

    func evaluate(_ risk: AccountRisk) throws(LedgerError) -> MarginSummary {
        do { return try config.engine.evaluate(risk) } catch { throw .overflow }
    }

    /// The numbers of the account's own mode.
    func requirement(_ address: Address) throws(LedgerError) -> Requirement {
        try requirement(of: account(address))
    }

    func requirement(of a: Account) throws(LedgerError) -> Requirement {
        try evaluate(accountRisk(a)).requirement(portfolioMode: a.mode == .portfolio)
    }

    /// The check after every risk-adding action: slack covers the reserved margin and, in
    /// portfolio mode, borrowed value stays within collateral x LTV.
    func checkRisk(_ address: Address) throws(LedgerError) {
        guard let s = accounts.slot(address) else { return try checkRisk(of: Account()) }
        try checkRisk(of: accounts.values[s])
    }

    func checkRisk(of a: Account) throws(LedgerError) {
        let summary = try evaluate(accountRisk(a))
        let req = summary.requirement(portfolioMode: a.mode == .portfolio)
        if req.slack < a.reservedMargin { throw .insufficientMargin(slack: req.slack, required: a.reservedMargin) }
        if a.mode == .portfolio && !summary.withinBorrowCapacity {
            throw .overLTV(borrowed: summary.borrowedValue, limit: summary.borrowCapacity)
        }
    }
}


import BallastCrypto

extension Ledger {
    /// The mark of `asset`: for an asset with a perp market, median(oracle, best bid, best ask)
    /// when the book has both sides, else the oracle, clamped to oracle +- the mark clamp.
    /// Assets without a perp are marked at the oracle.
    public func markPrice(_ asset: AssetID) -> Int64 {
        let oracle = oracles[Int(asset)].price
        guard let market = config.perpMarket[Int(asset)] else { return oracle }
        // The book's best prices are read in place: `let book = books[m]` would copy the book
        // (retaining each of its arrays and maps) on every margin check.
        guard let bid = books[Int(market)].bestBid, let ask = books[Int(market)].bestAsk else { return oracle }
        let median = max(min(oracle, bid), min(max(oracle, bid), ask))
        let band = Ledger.ppmOf(oracle, config.markClampPpm)
        return min(max(median, oracle - band), oracle + band)
    }

    /// `value x ppm / 10^6`, truncated toward zero. In `Int64` when the product fits: the same
    /// quotient as in `Int128`, without its library division.
    @inline(__always)
    static func ppmOf(_ value: Int64, _ ppm: Int64) -> Int64 {
        let (product, overflow) = value.multipliedReportingOverflow(by: ppm)
        if !overflow { return product / PPM.one }
        return Int64((Int128(value) * Int128(ppm)) / Int128(PPM.one))
    }

    /// The margin engine's view of an account: net USDC, and per underlying the net spot
    /// amount and the perp position at the current mark and oracle.
    public func accountRisk(_ account: Account) throws(LedgerError) -> AccountRisk {
        var risk = AccountRisk(usdc: 0)
        // One allocation, not one per doubling.
        risk.exposures.reserveCapacity(account.holdings.count + account.positions.count)
        try fillRisk(account, into: &risk)
        return risk
    }

    /// `accountRisk(account)` written into `risk`, reusing its exposure storage (the end-of-block
    /// recheck builds thousands in a row). `marks`, when given, is `markPrice` of every asset,
    /// computed once by a caller during which no book changes. Without `spot`, holdings other
    /// than USDC are left out (and `hasDebt` may miss theirs): what standard mode's MR and V_liq
    /// read, and no more.
    func fillRisk(_ account: Account, into risk: inout AccountRisk, marks: [Int64]? = nil,
                  spot: Bool = true) throws(LedgerError) {
        risk.usdc = 0
        risk.exposures.removeAll(keepingCapacity: true)
        risk.hasDebt = false
        for h in account.holdings {
            if !spot && h.asset != 0 { continue }
            let (s, o) = try amounts(h)
            if h.debtShares > 0 { risk.hasDebt = true }
            let net = try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(s).checkedSubtracting(o) }
            if h.asset == 0 {
                risk.usdc = net
            } else {
                risk.exposures.append(Exposure(asset: h.asset, spot: net, mark: marks?[Int(h.asset)] ?? markPrice(h.asset),
                                               oracle: oracles[Int(h.asset)].price))
            }
        }
        for p in account.positions {
            let asset = config.marketBase[Int(p.market)]
            let i = lowerBound(risk.exposures, asset, \.asset)
            if i < risk.exposures.count && risk.exposures[i].asset == asset {
                risk.exposures[i].perpSize = p.size
                risk.exposures[i].perpCostBasis = p.costBasis
            } else {
                // Appended, then moved down into place: cheaper than the general
                // `insert(_:at:)` for these few elements.
                risk.exposures.append(Exposure(asset: asset, perpSize: p.size, perpCostBasis: p.costBasis,
                                               mark: marks?[Int(asset)] ?? markPrice(asset), oracle: oracles[Int(asset)].price))
                var j = risk.exposures.count - 1
                while j > i {
                    risk.exposures.swapAt(j, j - 1)
                    j -= 1
                }
            }
        }
        risk.hasOpenOrders = account.openOrders > 0
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


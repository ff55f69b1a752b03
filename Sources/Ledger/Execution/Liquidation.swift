import BallastCrypto

extension Ledger {
    /// Portion `numerator / denominator` of `value`, rounded away from zero so steps always
    /// make progress, never beyond `value`.
    static func portion(_ value: Int64, _ numerator: Int64, _ denominator: Int64) -> Int64 {
        if numerator >= denominator { return value }
        let magnitude = (Int128(value.magnitude) * Int128(numerator) + Int128(denominator) - 1) / Int128(denominator)
        let m = Int64(min(magnitude, Int128(value.magnitude)))
        return value < 0 ? -m : m
    }

    /// Moves a share (ppm) of every perp position, non-USDC balance and non-USDC debt of `from`
    /// to `to` at mark price. Pool positions move as shares (no cash leaves the pool); USDC
    /// settles the value, paid by `to` with `policy` (the backstop's always posts). What moved is
    /// added to `tally`.
    mutating func transferRisk(from: Address, to: Address, sharePpm: Int64, policy: BorrowPolicy,
                               tally: inout LiquidationEvent) throws(LedgerError) {
        // Debt the account could pay itself is paid first, so only net amounts change hands.
        for h in account(from).holdings where h.debtShares > 0 { try netDebt(from, h.asset) }
        let source = account(from)
        for p in source.positions {
            let q = Ledger.portion(p.size, sharePpm, PPM.one)
            guard q != 0 else { continue }
            let mc = config.genesis.markets[Int(p.market)]
            let mark = markPrice(mc.base)
            let quote = try ck { () throws(LedgerMathError) in
                try Int64(checked: Int128(q.magnitude) * Int128(mark) / Int128(config.unitScale[Int(mc.base)])) }
            let realized = try changePosition(from, market: p.market, delta: -q, quote: quote)
            try changePosition(to, market: p.market, delta: q, quote: quote)
            tally.add(market: p.market, size: q, price: mark)
            tally.realizedPnl = try ck { () throws(LedgerMathError) in try tally.realizedPnl.checkedAdding(realized) }
        }
        for h in source.holdings where h.asset != 0 {
            let moved = AssetHolding(asset: h.asset, wallet: Ledger.portion(h.wallet, sharePpm, PPM.one),
                                     supplyShares: Ledger.portion(h.supplyShares, sharePpm, PPM.one),
                                     debtShares: Ledger.portion(h.debtShares, sharePpm, PPM.one))
            guard !moved.isEmpty else { continue }
            let (supplied, owed) = try amounts(moved)
            let net = Int128(moved.wallet) + Int128(supplied) - Int128(owed)
            let value = try ck { () throws(LedgerMathError) in
                try Int64(checked: net.magnitude > 0 ? Int128(net.magnitude) * Int128(markPrice(h.asset)) / Int128(config.unitScale[Int(h.asset)]) : 0) }
            try modifyAccount(from) { (a: inout Account) throws(LedgerError) in
                var x = a.holding(h.asset)
                x.wallet -= moved.wallet; x.supplyShares -= moved.supplyShares; x.debtShares -= moved.debtShares
                a.setHolding(x)
            }
            try modifyAccount(to) { (a: inout Account) throws(LedgerError) in
                var x = a.holding(h.asset)
                x.wallet = try ck { () throws(LedgerMathError) in try x.wallet.checkedAdding(moved.wallet) }
                x.supplyShares = try ck { () throws(LedgerMathError) in try x.supplyShares.checkedAdding(moved.supplyShares) }
                x.debtShares = try ck { () throws(LedgerMathError) in try x.debtShares.checkedAdding(moved.debtShares) }
                a.setHolding(x)
            }
            // The taker's buckets are netted at once (supply or debt, never both).
            try netDebt(to, h.asset)
            tally.add(asset: h.asset, amount: Int64(clamping: net), value: net < 0 ? -value : value)
            if net > 0 {
                try debit(to, 0, value, policy: policy)
                try credit(from, 0, value)
            } else if net < 0 {
                try debit(from, 0, value, policy: .forced)
                try credit(to, 0, value)
            }
        }
    }

    /// Cancels every resting order of `address`.
    mutating func cancelEverything(_ address: Address) throws(LedgerError) {
        guard account(address).openOrders > 0 else { return }
        for m in books.indices {
            for order in books[m].orders(owner: address) { try removeRestingOrder(MarketID(m), order) }
        }
    }

    /// Pays up to `amount` from `target`'s USDC, but no more than its remaining V_liq.
    mutating func payFromRemainingValue(_ target: Address, amounts: [Int64]) throws(LedgerError) -> [Int64] {
        var available = max(0, try requirement(target).liquidationValue)
        var paid: [Int64] = []
        for a in amounts {
            let p = min(max(0, a), available)
            available -= p
            paid.append(p)
        }
        try debit(target, 0, paid.reduce(0, +), policy: .forced)
        return paid
    }

    /// The `liquidate` action: valid while the target's MR / V_liq is above the liquidation
    /// ratio. Its orders are cancelled; then the liquidator takes over 20% steps of everything at
    /// mark until the ratio is at most the target (0.8), or everything at once when V_liq is below
    /// 2/3 MR. Per step the liquidator gets 40% and the fund 10% of the maintenance released,
    /// paid by the target and capped at its remaining V_liq. The liquidator must pass its own
    /// checks afterwards.
    mutating func liquidate(liquidator: Address, target: Address) throws(LedgerError) {
        guard liquidator != target else { throw .selfLiquidation }
        let r = config.genesis.risk
        let start = try requirement(target)
        guard start.isLiquidatable else { throw .targetHealthy(pmrPpm: start.ratioPPM) }
        try cancelEverything(target)
        // Everything at once or in steps is decided on the account as it is taken over, without
        // its orders (their cancellation can move the mark).
        let whole = belowTakeoverLine(target)
        var tally = LiquidationEvent(liquidated: target, liquidator: liquidator, byBackstop: false, whole: whole)
        var steps = 0
        while true {
            let before = try requirement(target)
            try transferRisk(from: target, to: liquidator, sharePpm: whole ? PPM.one : r.liquidationStepPpm, policy: .voluntary,
                             tally: &tally)
            let after = try requirement(target)
            let released = max(0, before.maintenance - after.maintenance)
            let bonus = try ck { () throws(LedgerMathError) in try PPM.apply(r.liquidatorSharePpm, to: released, rounding: .down) }
            let fee = try ck { () throws(LedgerMathError) in try PPM.apply(r.insuranceSharePpm, to: released, rounding: .down) }
            let paid = try payFromRemainingValue(target, amounts: [bonus, fee])
            try credit(liquidator, 0, paid[0])
            try payInsurance(0, paid[1])
            tally.liquidatorBonus = try ck { () throws(LedgerMathError) in try tally.liquidatorBonus.checkedAdding(paid[0]) }
            tally.insuranceFee = try ck { () throws(LedgerMathError) in try tally.insuranceFee.checkedAdding(paid[1]) }
            steps += 1
            let now = try requirement(target)
            let exposed = !account(target).positions.isEmpty || account(target).holdings.contains { $0.asset != 0 && !$0.isEmpty }
            if whole || !exposed || !now.ratioExceeds(ppm: r.liquidationTargetPpm) || steps >= 64 { break }
        }
        try checkRisk(liquidator)
        try coverBankruptcy(target, tally: &tally)
        emit(target, .liquidation(tally))
        emit(liquidator, .liquidation(tally))
    }

    /// Whole takeover of `target` by the protocol's backstop account; 50% of the maintenance
    /// released goes to the insurance fund (capped at the remaining V_liq).
    mutating func backstopTakeover(_ target: Address) throws(LedgerError) {
        let r = config.genesis.risk
        try cancelEverything(target)
        var tally = LiquidationEvent(liquidated: target, liquidator: r.backstopAddress, byBackstop: true, whole: true)
        let before = try requirement(target)
        try transferRisk(from: target, to: r.backstopAddress, sharePpm: PPM.one, policy: .forced, tally: &tally)
        let after = try requirement(target)
        let released = max(0, before.maintenance - after.maintenance)
        let fee = try ck { () throws(LedgerMathError) in try PPM.apply(r.backstopSharePpm, to: released, rounding: .down) }
        let paid = try payFromRemainingValue(target, amounts: [fee])
        try payInsurance(0, paid[0])
        tally.insuranceFee = paid[0]
        try coverBankruptcy(target, tally: &tally)
        emit(target, .liquidation(tally))
        emit(r.backstopAddress, .liquidation(tally))
    }

    /// An account left with nothing but negative USDC after a takeover is bankrupt: the insurance
    /// fund pays the hole; what it cannot pay is socialized by lowering the USDC supply index.
    /// If that would take the index to zero, the rest is recorded as the chain's deficit. The
    /// three amounts are added to `tally`.
    mutating func coverBankruptcy(_ target: Address, tally: inout LiquidationEvent) throws(LedgerError) {
        try netDebt(target, 0)
        let a = account(target)
        guard a.positions.isEmpty, !a.holdings.contains(where: { $0.asset != 0 && !$0.isEmpty }) else { return }
        let net = try netBalance(a, 0)
        guard net < 0 else { return }
        var hole = -net
        let fromFund = min(hole, max(0, insurance[0]))
        if fromFund > 0 {
            try payInsurance(0, -fromFund)
            try credit(target, 0, fromFund)
            hole -= fromFund
            tally.insurancePaid = fromFund
        }
        guard hole > 0 else { return }
        // Write the remaining debt off: its shares leave the account and the pool, and the
        // suppliers' claims shrink by the same amount.
        let h = account(target).holding(0)
        touch(.pool(0))
        var pool = pools[0]
        let shares = min(h.debtShares, try ck { () throws(LedgerMathError) in try pool.debtSharesFor(hole, rounding: .up) })
        try modifyAccount(target) { (acct: inout Account) throws(LedgerError) in
            var hh = acct.holding(0)
            hh.debtShares -= shares
            acct.setHolding(hh)
        }
        pool.debtShares -= shares
        let supplied = try ck { () throws(LedgerMathError) in try pool.totalSupplied() }
        if pool.supplyShares > 0 && supplied > hole {
            let cut = try ck { () throws(LedgerMathError) in
                try Int128.mulDiv(Int128(hole), Wad.one, Int128(pool.supplyShares), rounding: .up) }
            pool.supplyIndex -= cut
            tally.socialized = hole
        } else {
            touch(.global)
            global.deficit = try ck { () throws(LedgerMathError) in try global.deficit.checkedAdding(hole) }
            tally.deficit = hole
        }
        pools[0] = pool
    }

    /// Whether the account at `address` is below the whole-takeover line (V_liq < 2/3 MR, with
    /// a requirement), in its own mode.
    func belowTakeoverLine(_ address: Address) -> Bool {
        let r = config.genesis.risk
        guard let req = try? requirement(address), req.maintenance > 0 else { return false }
        return req.liquidationValueBelow(numerator: r.takeoverNumerator, denominator: r.takeoverDenominator)
    }

    /// End of block: the backstop takes over whole every account with V_liq < 2/3 MR, lowest
    /// V_liq / MR first (ties by address), at most `backstopMaxPerBlock`. Each candidate's resting
    /// orders are cancelled first and the account checked again without them (`runBackstop`).
    mutating func runBackstop(recheck: [Int]) -> [Address] {
        let r = config.genesis.risk
        var candidates: [(value: Int64, mr: Int64, address: Address)] = []
        // Each account is read in place through the buffer (no copy of it) and its margin view
        // built into one reused `AccountRisk` (no allocation per account).
        var risk = AccountRisk(usdc: 0)
        // No book changes while the list is made: each asset's mark is found once.
        let marks = (0..<config.assetCount).map { markPrice(AssetID($0)) }
        accounts.values.withUnsafeBufferPointer { values in
            for s in recheck {
                let address = accounts.addresses[s]
                guard address != r.backstopAddress, !values[s].positions.isEmpty || values[s].hasDebt else { continue }
                let portfolioMode = values[s].mode == .portfolio
                // Standard mode's MR is the perps' alone: zero without a position.
                if !portfolioMode && values[s].positions.isEmpty { continue }
                // MR and V_liq alone first (in standard mode from USDC and the perps only): most
                // accounts are nowhere near the line. Where both succeed they equal the full
                // evaluation's, and they fail only where it fails (a subset of its checked
                // steps), so this skips exactly the accounts the full check below would skip.
                guard (try? fillRisk(values[s], into: &risk, marks: marks, spot: portfolioMode)) != nil,
                      let lean = try? config.engine.liquidationNumbers(risk, portfolioMode: portfolioMode),
                      lean.maintenance > 0,
                      Requirement.liquidationValue(lean.liquidationValue, below: r.takeoverNumerator,
                                                   over: r.takeoverDenominator, of: lean.maintenance) else { continue }
                if !portfolioMode {
                    guard (try? fillRisk(values[s], into: &risk, marks: marks)) != nil else { continue }
                }
                guard let req = try? evaluate(risk).requirement(portfolioMode: portfolioMode),
                      req.maintenance > 0,
                      req.liquidationValueBelow(numerator: r.takeoverNumerator, denominator: r.takeoverDenominator) else { continue }
                candidates.append((req.liquidationValue, req.maintenance, address))
            }
        }
        // Lowest V_liq / MR first: compare by cross-multiplication, ties by address.
        candidates.sort { x, y in
            let l = Int128(x.value) * Int128(y.mr), rr = Int128(y.value) * Int128(x.mr)
            return l != rr ? l < rr : x.address < y.address
        }
        var taken: [Address] = []
        let dirtyBefore = dirtyAccounts.count
        for c in candidates where taken.count < Int(r.backstopMaxPerBlock) {
            // Earlier takeovers (cancelled orders move marks, bankruptcies the USDC index) may
            // have changed this account's health since the list was made: check it again.
            guard belowTakeoverLine(c.address) else { continue }
            beginTransaction()
            do {
                // As in a liquidation, the account's resting orders go first. They can hold the
                // mark against it (a resting bid above the oracle raises the mark a short is
                // valued at), so it is checked once more without them: only an account still
                // below 2/3 MR is taken over. The cancellations stand either way.
                try cancelEverything(c.address)
                if belowTakeoverLine(c.address) {
                    try backstopTakeover(c.address)
                    taken.append(c.address)
                }
                commitTransaction()
            } catch {
                rollbackTransaction()
            }
        }
        // Takeovers changed accounts; the backstop's own exposure too. (The block's earlier
        // changes were re-indexed before the recheck.)
        for s in dirtyAccounts[dirtyBefore...] where exposure.isStale(Int(s)) { reindex(slot: Int(s)) }
        return taken
    }
}

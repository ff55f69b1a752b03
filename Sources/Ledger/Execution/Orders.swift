import BallastCrypto

extension Ledger {
    // MARK: Cancels

    mutating func cancel(_ sender: Address, _ cancels: [CancelRequest]) throws(LedgerError) {
        for c in cancels {
            guard Int(c.market) < config.marketCount else { throw .unknownMarket(c.market) }
            // The book is read in place (a copy would retain each of its arrays and maps).
            let found: BookOrder?
            switch c {
            case .order(_, let id): found = books[Int(c.market)].order(id: id).flatMap { $0.owner == sender ? $0 : nil }
            case .client(_, let cid): found = books[Int(c.market)].order(owner: sender, clientID: cid)
            }
            guard let order = found else { throw .orderNotFound }
            try removeRestingOrder(c.market, order)
        }
    }

    mutating func cancelAll(_ sender: Address, market: MarketID?) throws(LedgerError) {
        if let market, config.market(market) == nil { throw .unknownMarket(market) }
        let targets = market.map { [$0] } ?? books.indices.map { MarketID($0) }
        for m in targets {
            for order in books[Int(m)].orders(owner: sender) { try removeRestingOrder(m, order) }
        }
    }

    /// Takes a resting order out of its book and releases its reserve.
    mutating func removeRestingOrder(_ market: MarketID, _ order: BookOrder) throws(LedgerError) {
        touch(.order(market, order.id))
        books[Int(market)].cancel(id: order.id)
        try releaseOrder(owner: order.owner, reserve: order.reservedMargin, count: 1)
    }

    mutating func releaseOrder(owner: Address, reserve: Int64, count: Int64) throws(LedgerError) {
        try modifyScalars(owner) { (a: inout AccountScalars) throws(LedgerError) in
            a.openOrders -= count
            a.reservedMargin = max(0, a.reservedMargin - reserve)
        }
    }

    // MARK: Placing

    /// Places each order in turn; each succeeds or fails on its own. The action fails (with the
    /// first error) only when every order failed.
    mutating func placeOrders(_ sender: Address, _ requests: [OrderRequest]) throws(LedgerError) -> [OrderOutcome] {
        var outcomes: [OrderOutcome] = []
        outcomes.reserveCapacity(requests.count)
        for request in requests {
            let sp = savepoint()
            do {
                outcomes.append(try placeOrder(sender, request))
                release(sp)
            } catch {
                rollback(to: sp)
                outcomes.append(OrderOutcome(orderID: nil, filled: 0, resting: 0, error: error))
            }
        }
        if let first = outcomes.first?.error, outcomes.allSatisfy({ $0.error != nil }) { throw first }
        return outcomes
    }

    static func ledgerError(_ e: BookError) -> LedgerError {
        switch e {
        case .priceNotPositive(let p): return .amountNotPositive(p)
        case .sizeNotPositive(let s): return .amountNotPositive(s)
        case .priceOffTick(let p, let t): return .badTick(price: p, tick: t)
        case .sizeOffLot(let s, let l): return .badLot(size: s, lot: l)
        case .belowMinimumNotional(_, let m): return .belowMinimumNotional(minimum: m)
        case .wouldCross: return .wouldCross
        case .duplicateClientID: return .duplicateClientID
        case .duplicateOrderID, .levelSizeOverflow, .stalePlan, .invalidRules: return .overflow
        }
    }

    /// The fill `size` of `side` at `price` as the margin engine sees it.
    func hypotheticalFill(market: MarketConfig, side: Side, size: Int64, price: Int64, feePpm: Int64) -> HypotheticalFill {
        let delta = side == .buy ? size : -size
        return HypotheticalFill(asset: market.base, spotDelta: market.kind == .spot ? delta : 0,
                                perpDelta: market.kind == .perp ? delta : 0, price: price, feePPM: feePpm,
                                mark: markPrice(market.base), oracle: oracles[Int(market.base)].price)
    }

    mutating func placeOrder(_ sender: Address, _ req: OrderRequest) throws(LedgerError) -> OrderOutcome {
        guard let market = config.market(req.market) else { throw .unknownMarket(req.market) }
        let m = Int(req.market)
        do { try config.orderRules[m].validate(price: req.price, size: req.size) } catch { throw Ledger.ledgerError(error) }
        let oracle = oracles[Int(market.base)].price
        let distance = Int128(req.price) - Int128(oracle)
        if distance.magnitude * UInt128(PPM.one) > UInt128(market.priceBandPpm) * UInt128(oracle) {
            throw .priceBand(price: req.price, oracle: oracle, bandPpm: market.priceBandPpm)
        }
        if !req.reduceOnly { try refuseNewRisk() }
        // The sender's account exists (its nonce was recorded); read it in place by slot.
        let traderSlot = accounts.slotCreating(sender)
        if req.timeInForce != .ioc && accounts.values[traderSlot].openOrders >= config.genesis.risk.maxOpenOrders {
            throw .openOrderLimit(limit: config.genesis.risk.maxOpenOrders)
        }
        var maxFill = Int64.max
        if req.reduceOnly {
            let held: Int64 = market.kind == .perp ? accounts.values[traderSlot].position(req.market).size
                : try netBalance(accounts.values[traderSlot], market.base)
            let reduces = req.side == .buy ? held < 0 : held > 0
            guard reduces else { throw .reduceOnlyWouldIncrease }
            maxFill = held.magnitude > UInt64(Int64.max) ? .max : Int64(held.magnitude)
        }
        let portfolioMode = accounts.values[traderSlot].mode == .portfolio

        touch(.global)
        let id = global.nextOrderID
        global.nextOrderID &+= 1
        let taker = BookOrder(id: id, owner: sender, side: req.side, price: req.price, size: req.size,
                              clientID: req.clientID, timeInForce: req.timeInForce, reduceOnly: req.reduceOnly)

        let plan = try matchPlan(taker, maxFill: maxFill, market: market, marketID: req.market)
        // The account before the order, evaluated only if the check after the effect fails (to
        // see whether the order only took risk off). Built now, before the plan is carried out,
        // and only when the plan changes the account: with no fill and no cancel, an order that
        // did not rest leaves the account as it was, and one that rested cannot pass as "only
        // reduced" anyway.
        let riskBefore = plan.fills.isEmpty && plan.cancelled.isEmpty ? nil : try accountRisk(accounts.values[traderSlot])

        // Settle the fills, then carry the plan out on the book.
        let oiBefore = markets[m].openInterest
        for fill in plan.fills {
            try settleFill(market: req.market, config: market, taker: taker, fill: fill)
        }
        for c in plan.cancelled {
            touch(.order(req.market, c.order.id))
            try releaseOrder(owner: c.order.owner, reserve: c.order.reservedMargin, count: 1)
        }
        for fill in plan.fills { touch(.order(req.market, fill.makerID)) }
        touch(.order(req.market, id))
        let rested: BookOrder?
        do { rested = try books[m].apply(plan) } catch { throw Ledger.ledgerError(error) }
        // Filled makers release their reserve: all of it when gone, pro rata when partly filled.
        for fill in plan.fills {
            let kept = fill.makerRemaining == 0 ? 0
                : Int64(Int128(fill.maker.reservedMargin) * Int128(fill.makerRemaining) / Int128(fill.maker.size))
            if fill.makerRemaining > 0 { books[m].setReservedMargin(id: fill.makerID, to: kept) }
            try releaseOrder(owner: fill.makerOwner, reserve: fill.maker.reservedMargin - kept,
                             count: fill.makerRemaining == 0 ? 1 : 0)
        }
        if market.kind == .perp && markets[m].openInterest > market.openInterestCap && markets[m].openInterest > oiBefore {
            throw .openInterestCap(cap: market.openInterestCap)
        }

        var risk = try accountRisk(accounts.values[traderSlot])
        var after = try evaluate(risk)
        if let rest = rested {
            let fill = hypotheticalFill(market: market, side: rest.side, size: rest.size, price: rest.price, feePpm: market.takerFeePpm)
            let reserve: Int64
            do {
                reserve = try config.engine.reserve(for: fill, account: risk, portfolioMode: portfolioMode,
                                                    currentSlack: after.requirement(portfolioMode: portfolioMode).slack)
            } catch { throw .overflow }
            books[m].setReservedMargin(id: rest.id, to: reserve)
            try modifyScalars(sender) { (a: inout AccountScalars) throws(LedgerError) in
                a.openOrders += 1
                a.reservedMargin = try ck { () throws(LedgerMathError) in try a.reservedMargin.checkedAdding(reserve) }
            }
            // Resting changed the open-order count (the 20 USDC floor): evaluate again if that
            // made the account have open orders (nothing else the engine reads changed).
            if !risk.hasOpenOrders {
                risk.hasOpenOrders = true
                after = try evaluate(risk)
            }
        }

        // The taker's check after the effect: slack covers every reserve and borrowing stays
        // within LTV, unless the order only took risk off (no resting part, requirement down).
        let reqAfter = after.requirement(portfolioMode: portfolioMode)
        let reserved = accounts.values[traderSlot].reservedMargin
        let passes = reqAfter.slack >= reserved && (!portfolioMode || after.withinBorrowCapacity)
        if !passes {
            let before = if let riskBefore { try evaluate(riskBefore) } else { after }
            let onlyReduced = rested == nil && reqAfter.initial < before.requirement(portfolioMode: portfolioMode).initial
                && after.borrowedValue <= before.borrowedValue
            if !onlyReduced {
                if reqAfter.slack < reserved { throw .insufficientMargin(slack: reqAfter.slack, required: reserved) }
                throw .overLTV(borrowed: after.borrowedValue, limit: after.borrowCapacity)
            }
        }
        return OrderOutcome(orderID: id, filled: plan.filledSize, resting: rested?.size ?? 0, error: nil)
    }

    /// The match of `taker` planned without changing the book, asking each maker's margin on
    /// the way.
    func matchPlan(_ taker: BookOrder, maxFill: Int64, market: MarketConfig,
                   marketID: MarketID) throws(LedgerError) -> OrderBook.MatchPlan {
        var makerRisk: [Address: AccountRisk] = [:]
        var plannedBorrow: [AssetID: Int64] = [:]
        do {
            return try books[Int(marketID)].plan(taker, maxFill: maxFill) { maker, size in
                makerDecision(maker: maker, size: size, market: market, marketID: marketID, risks: &makerRisk,
                              plannedBorrow: &plannedBorrow)
            }
        } catch {
            throw Ledger.ledgerError(error)
        }
    }

    /// The maker check: a fill goes through if afterwards the maker's slack covers its
    /// remaining reserves or the fill does not raise its requirement; a reduce-only maker may
    /// not grow its position; a standard-mode spot maker must hold what it delivers.
    func makerDecision(maker: BookOrder, size: Int64, market: MarketConfig, marketID: MarketID,
                       risks: inout [Address: AccountRisk], plannedBorrow: inout [AssetID: Int64]) -> OrderBook.MakerDecision {
        // The maker's fields are read by slot, not from a copy of its account (which would
        // retain its arrays). A resting order's owner has an account.
        guard let s = accounts.slot(maker.owner),
              var risk = risks[maker.owner] ?? (try? accountRisk(accounts.values[s])) else { return .cancel }
        let portfolioMode = accounts.values[s].mode == .portfolio
        let fill = hypotheticalFill(market: market, side: maker.side, size: size, price: maker.price, feePpm: market.makerFeePpm)
        let index = lowerBound(risk.exposures, market.base, \.asset)
        let exposure = index < risk.exposures.count && risk.exposures[index].asset == market.base ? risk.exposures[index] : nil
        if maker.reduceOnly {
            let held = market.kind == .perp ? exposure?.perpSize ?? 0 : exposure?.spot ?? 0
            let fits = maker.side == .buy ? held < 0 && size <= -held : held > 0 && size <= held
            if !fits { return .cancel }
        }
        if market.kind == .spot {
            // What the maker delivers: USDC (with the fee) for a buy, the asset for a sell.
            let notional = Int128(size) * Int128(maker.price) / Int128(config.unitScale[Int(market.base)]) + 1
            let have = maker.side == .buy ? Int128(risk.usdc) : Int128(exposure?.spot ?? 0)
            let need = maker.side == .buy ? notional + notional * Int128(market.makerFeePpm) / Int128(PPM.one) + 1 : Int128(size)
            if have < need && !portfolioMode { return .cancel }
            // Beyond the wallet, the pool pays (supply withdrawn, then auto-borrow): it must hold
            // the cash, counting what earlier makers of this match take, and a borrow must fit.
            let asset: AssetID = maker.side == .buy ? 0 : market.base
            let h = accounts.values[s].holding(asset)
            if need > Int128(h.wallet) {
                guard let fromPool = Int64(exactly: need - Int128(h.wallet)),
                      let supplied = try? amounts(h).supplied else { return .cancel }
                let planned = plannedBorrow[asset] ?? 0
                if Int128(pools[Int(asset)].cash) < Int128(fromPool) + Int128(planned) { return .cancel }
                let borrowPart = max(0, fromPool - supplied)
                if borrowPart > 0 && borrowRefusal(maker.owner, asset, borrowPart, alsoPlanned: planned) != nil { return .cancel }
                plannedBorrow[asset] = planned + fromPool
            }
        }
        guard let after = try? config.engine.evaluate(risk, with: fill) else { return .cancel }
        let remainingReserve = Int128(maker.reservedMargin) * Int128(maker.size - size) / Int128(maker.size)
        let reservesAfter = Int128(accounts.values[s].reservedMargin) - Int128(maker.reservedMargin) + remainingReserve
        let reqAfter = after.requirement(portfolioMode: portfolioMode)
        if Int128(reqAfter.slack) < reservesAfter {
            // Short of margin: the fill may still go through if it does not raise the requirement.
            guard let before = try? config.engine.evaluate(risk),
                  after.portfolioRequirement <= before.portfolioRequirement,
                  reqAfter.maintenance <= before.requirement(portfolioMode: portfolioMode).maintenance else { return .cancel }
        }
        Ledger.apply(fill, to: &risk, unitScale: config.unitScale[Int(market.base)])
        risks[maker.owner] = risk
        return .fill
    }

    /// Moves a hypothetical fill into an `AccountRisk`, so that a maker met twice in one match is
    /// checked with its first fill counted (USDC rounded against the account).
    static func apply(_ fill: HypotheticalFill, to risk: inout AccountRisk, unitScale: Int64) {
        let delta = fill.spotDelta + fill.perpDelta
        let notional = Int64(clamping: (Int128(delta.magnitude) * Int128(fill.price) + Int128(unitScale) - 1) / Int128(unitScale))
        let fee = Int64(clamping: (Int128(notional) * Int128(fill.feePPM) + Int128(PPM.one) - 1) / Int128(PPM.one))
        let index = lowerBound(risk.exposures, fill.asset, \.asset)
        if !(index < risk.exposures.count && risk.exposures[index].asset == fill.asset) {
            risk.exposures.insert(Exposure(asset: fill.asset, mark: fill.mark, oracle: fill.oracle), at: index)
        }
        risk.usdc = risk.usdc &- fee
        if fill.spotDelta != 0 {
            risk.exposures[index].spot = risk.exposures[index].spot &+ fill.spotDelta
            risk.usdc = fill.spotDelta > 0 ? risk.usdc &- notional : risk.usdc &+ notional
        } else {
            risk.exposures[index].perpSize = risk.exposures[index].perpSize &+ fill.perpDelta
            risk.exposures[index].perpCostBasis = fill.perpDelta > 0
                ? risk.exposures[index].perpCostBasis &+ notional : risk.exposures[index].perpCostBasis &- notional
        }
    }

    // MARK: Settlement of one trade

    /// Settles a trade of `fill.size` at the maker's price: spot moves balances, a perp moves
    /// positions and realizes PnL in USDC; both sides pay their fee to the insurance fund.
    /// Records a fill event for each side.
    mutating func settleFill(market: MarketID, config mc: MarketConfig, taker takerOrder: BookOrder,
                             fill: OrderBook.Fill) throws(LedgerError) {
        let taker = takerOrder.owner, takerSide = takerOrder.side
        let maker = fill.makerOwner
        let scale = config.unitScale[Int(mc.base)]
        let exact = Int128(fill.size) * Int128(fill.price)
        // The buyer pays the notional rounded up, the seller gets it rounded down; the
        // difference (under one base unit) is the insurance fund's.
        let down = try ck { () throws(LedgerMathError) in try Int64(checked: exact / Int128(scale)) }
        let up = try ck { () throws(LedgerMathError) in try Int64(checked: exact.divided(by: Int128(scale), rounding: .up)) }
        let takerFee = try ck { () throws(LedgerMathError) in try PPM.apply(mc.takerFeePpm, to: up, rounding: .up) }
        let makerFee = try ck { () throws(LedgerMathError) in try PPM.apply(mc.makerFeePpm, to: up, rounding: .up) }
        let buyer = takerSide == .buy ? taker : maker
        let seller = takerSide == .buy ? maker : taker
        // Both sides trade voluntarily: an auto-borrow must find pool cash and fit the caps
        // (the maker check made sure a maker's would).
        let buyerPolicy: BorrowPolicy = .voluntary
        let sellerPolicy: BorrowPolicy = .voluntary

        let buyerStart: Int64, sellerStart: Int64
        var buyerPnl: Int64 = 0, sellerPnl: Int64 = 0
        switch mc.kind {
        case .spot:
            buyerStart = try netBalance(account(buyer), mc.base)
            sellerStart = try netBalance(account(seller), mc.base)
            try debit(seller, mc.base, fill.size, policy: sellerPolicy)
            try debit(buyer, 0, up, policy: buyerPolicy)
            try credit(buyer, mc.base, fill.size)
            try credit(seller, 0, down)
            try payInsurance(0, up - down)
        case .perp:
            buyerStart = position(buyer, market).size
            sellerStart = position(seller, market).size
            buyerPnl = try changePosition(buyer, market: market, delta: fill.size, quote: down)
            sellerPnl = try changePosition(seller, market: market, delta: -fill.size, quote: down)
        }
        try debit(taker, 0, takerFee, policy: .forced)
        try debit(maker, 0, makerFee, policy: .forced)
        try payInsurance(0, takerFee + makerFee)
        for who in [taker, maker] {
            try modifyScalars(who) { (a: inout AccountScalars) throws(LedgerError) in
                a.weightedVolume = a.weightedVolume.addingReportingOverflow(down).overflow ? .max : a.weightedVolume + down
            }
        }

        let takerBuys = takerSide == .buy
        let spotQuote = mc.kind == .spot
        tradeCount &+= 1
        emit(taker, .fill(FillEvent(
            market: market, orderId: takerOrder.id, cloid: takerOrder.clientID, side: takerSide, price: fill.price,
            size: fill.size, quote: spotQuote && takerBuys ? up : down, fee: takerFee,
            closedPnl: takerBuys ? buyerPnl : sellerPnl, taker: true, counterparty: maker,
            startPosition: takerBuys ? buyerStart : sellerStart, tradeIndex: tradeCount)))
        emit(maker, .fill(FillEvent(
            market: market, orderId: fill.makerID, cloid: fill.maker.clientID, side: fill.maker.side, price: fill.price,
            size: fill.size, quote: spotQuote && !takerBuys ? up : down, fee: makerFee,
            closedPnl: takerBuys ? sellerPnl : buyerPnl, taker: false, counterparty: taker,
            startPosition: takerBuys ? sellerStart : buyerStart, tradeIndex: tradeCount)))
    }

    /// Changes a perp position by `delta` traded for `quote` USDC (the same quote for both
    /// sides, so that sum(USDC - cost basis) is conserved exactly). The closed part realizes
    /// PnL in USDC: profit is credited (repaying debt first), loss debited (as debt if need be).
    /// Returns the PnL realized.
    @discardableResult
    mutating func changePosition(_ address: Address, market: MarketID, delta: Int64, quote: Int64) throws(LedgerError) -> Int64 {
        guard delta != 0 else { return 0 }
        var p = position(address, market)
        let sign: Int64 = delta > 0 ? 1 : -1
        let closing = p.size != 0 && (p.size > 0) != (delta > 0)
        let closed = closing ? min(delta.magnitude, p.size.magnitude) : 0
        var realized: Int64 = 0
        var basisAfter = p.costBasis
        let oiBefore = max(0, p.size)
        if closed > 0 {
            // Basis of the closed part, and the share of the quote that pays for it.
            let removed = closed == p.size.magnitude ? p.costBasis
                : try ck { () throws(LedgerMathError) in
                    try Int64(checked: Int128(p.costBasis) * Int128(closed) / Int128(p.size.magnitude)) }
            let quoteClosed = closed == delta.magnitude ? quote
                : try ck { () throws(LedgerMathError) in try Int64(checked: Int128(quote) * Int128(closed) / Int128(delta.magnitude)) }
            realized = try ck { () throws(LedgerMathError) in try (-sign * quoteClosed).checkedSubtracting(removed) }
            basisAfter = try ck { () throws(LedgerMathError) in
                try p.costBasis.checkedSubtracting(removed).checkedAdding(sign * (quote - quoteClosed)) }
        } else {
            basisAfter = try ck { () throws(LedgerMathError) in try p.costBasis.checkedAdding(sign * quote) }
        }
        p.size = try ck { () throws(LedgerMathError) in try p.size.checkedAdding(delta) }
        p.costBasis = basisAfter
        let position = p
        setPosition(address, position)
        touch(.market(market))
        let oi = markets[Int(market)].openInterest
        markets[Int(market)].openInterest = try ck { () throws(LedgerMathError) in
            try oi.checkedAdding(try max(0, p.size).checkedSubtracting(oiBefore)) }
        if realized > 0 { try credit(address, 0, realized) }
        if realized < 0 { try debit(address, 0, -realized, policy: .forced) }
        return realized
    }
}

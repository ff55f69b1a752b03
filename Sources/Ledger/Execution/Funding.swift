import BallastCrypto

extension Ledger {
    static let msPerHour: Int128 = 3_600_000
    static let ppbToWad: Int128 = 1_000_000_000

    /// The premium of one perp now, wad: [max(0, impact bid - oracle) - max(0, oracle - impact ask)]
    /// / oracle; nil when a side lacks the impact notional.
    public func fundingPremium(market: MarketID) -> Int128? {
        guard let mc = config.market(market), mc.kind == .perp else { return nil }
        let book = books[Int(market)]
        let scale = config.unitScale[Int(mc.base)]
        let notional = config.genesis.funding.impactNotional
        guard let bid = book.impactPrice(.buy, notional: notional, unitScale: scale),
              let ask = book.impactPrice(.sell, notional: notional, unitScale: scale) else { return nil }
        let oracle = Int128(oracles[Int(mc.base)].price)
        let diff = max(0, Int128(bid) - oracle) - max(0, oracle - Int128(ask))
        // Beyond +-100% the capped rate cannot change; clamping keeps the sums in range.
        return min(Wad.one, max(-Wad.one, diff * Wad.one / oracle))
    }

    /// Adds each perp's premium, weighted by the time since the previous block.
    mutating func sampleFundingPremiums(elapsedMs: Int64) {
        guard elapsedMs > 0 else { return }
        for (i, mc) in config.genesis.markets.enumerated() where mc.kind == .perp {
            guard let premium = fundingPremium(market: MarketID(i)) else { continue }
            touch(.market(MarketID(i)))
            markets[i].premiumTimeSum += premium * Int128(elapsedMs)
            markets[i].premiumTimeMs += elapsedMs
        }
    }

    /// The rate for an interval, wad: hourly = avg premium + clamp(interest - avg premium, ±clamp),
    /// capped at ±max, scaled to the interval.
    func fundingRate(_ state: MarketState) -> Int128 {
        let f = config.genesis.funding
        let avg = state.premiumTimeMs > 0 ? state.premiumTimeSum / Int128(state.premiumTimeMs) : 0
        let interest = Int128(f.interestPpbPerHour) * Ledger.ppbToWad
        let clampW = Int128(f.premiumClampPpbPerHour) * Ledger.ppbToWad
        let maxW = Int128(f.maxRatePpbPerHour) * Ledger.ppbToWad
        let hourly = min(maxW, max(-maxW, avg + min(clampW, max(-clampW, interest - avg))))
        return hourly * Int128(f.intervalMs) / Ledger.msPerHour
    }

    /// At a funding boundary every position pays size x oracle x rate (longs pay shorts when
    /// positive). Payers round up, receivers down; the difference goes to the insurance fund.
    mutating func settleFundingIfDue(blockTimeMs now: Int64) -> Bool {
        let interval = config.genesis.funding.intervalMs
        let boundary = now - now % interval
        guard boundary > global.lastFundingMs else { return false }
        touch(.global)
        global.lastFundingMs = boundary
        let perps = config.genesis.markets.indices.filter { config.genesis.markets[$0].kind == .perp }
        var rates = [Int128](repeating: 0, count: markets.count)
        for i in perps {
            touch(.market(MarketID(i)))
            rates[i] = fundingRate(markets[i])
            markets[i].lastFundingRate = rates[i]
            markets[i].cumulativeFunding += rates[i]
            markets[i].premiumTimeSum = 0
            markets[i].premiumTimeMs = 0
        }
        // Every position holder is indexed under its market's base asset.
        var holders: [Address] = []
        for i in perps where rates[i] != 0 {
            holders.append(contentsOf: self.holders(of: config.genesis.markets[i].base))
        }
        holders.sort()
        var previous: Address?
        for address in holders where address != previous {
            previous = address
            for p in account(address).positions where rates[Int(p.market)] != 0 {
                let mc = config.genesis.markets[Int(p.market)]
                let oracle = Int128(oracles[Int(mc.base)].price)
                let scale = Int128(config.unitScale[Int(mc.base)])
                // Positive: the account pays. size x oracle fits Int128; mulDiv keeps the rest exact.
                let notional = Int128(p.size) * oracle
                let denominator = scale * Wad.one
                do {
                    let rate = rates[Int(p.market)]
                    let owedUp = try Int128.mulDiv(notional, rate, denominator, rounding: .up)
                    var amount: Int64 = 0
                    if owedUp > 0 {
                        let pay = try Int64(checked: owedUp)
                        try debit(address, 0, pay, policy: .forced)
                        try payInsurance(0, pay)
                        amount = -pay
                    } else if owedUp < 0 {
                        // A receiver gets |owed| rounded down: -ceil(owed) for a negative owed.
                        let get = try Int64(checked: -owedUp)
                        try payInsurance(0, -get)
                        try credit(address, 0, get)
                        amount = get
                    }
                    if amount != 0 {
                        emit(address, .funding(FundingEvent(market: p.market, amount: amount, positionSize: p.size,
                                                            oraclePrice: oracles[Int(mc.base)].price, rate: rate)))
                    }
                } catch {
                    // A payment beyond Int64 cannot happen for sizes the caps allow; skip it.
                    continue
                }
            }
        }
        return true
    }
}

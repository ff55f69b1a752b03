import BallastCrypto

/// One asset of an account, as amounts (rounded views of the shares).
public struct BalanceView: Codable, Sendable, Equatable {
    public var asset: AssetID
    public var symbol: String
    public var wallet: Int64
    /// Supplied to the pool, rounded down.
    public var supplied: Int64
    /// Owed to the pool, rounded up.
    public var borrowed: Int64
    /// wallet + supplied - borrowed.
    public var net: Int64
}

/// One perp position with its prices and PnL.
public struct PositionView: Codable, Sendable, Equatable {
    public var market: MarketID
    public var name: String
    public var size: Int64
    public var costBasis: Int64
    /// Cost basis / size, USDC base units per whole unit (rounded toward zero).
    public var entryPrice: Int64
    public var mark: Int64
    public var oracle: Int64
    /// size x mark - cost basis, rounded down.
    public var unrealizedPnl: Int64
    /// Marks (this underlying moving alone) where the account becomes liquidatable.
    public var liquidationPriceBelow: Int64?
    public var liquidationPriceAbove: Int64?
}

/// A resting order of an account.
public struct OpenOrderView: Codable, Sendable, Equatable {
    public var market: MarketID
    public var orderID: OrderID
    public var side: Side
    public var price: Int64
    public var size: Int64
    public var reservedMargin: Int64
    public var reduceOnly: Bool
}

/// One mode's numbers.
public struct RequirementView: Codable, Sendable, Equatable {
    public var maintenance: Int64
    public var initial: Int64
    public var liquidationValue: Int64
    public var initialValue: Int64
    public var slack: Int64
    /// MR / V_liq, ppm (Int64.max when infinite).
    public var ratioPpm: Int64
    public var liquidatable: Bool

    init(_ r: Requirement) {
        maintenance = r.maintenance; initial = r.initial; liquidationValue = r.liquidationValue
        initialValue = r.initialValue; slack = r.slack; ratioPpm = r.ratioPPM; liquidatable = r.isLiquidatable
    }
}

/// Everything the node shows about an account.
public struct AccountSummary: Codable, Sendable, Equatable {
    public var address: Address
    public var mode: MarginMode
    public var balances: [BalanceView]
    public var positions: [PositionView]
    public var openOrders: [OpenOrderView]
    /// PR before the 20 USDC floor.
    public var portfolioRequirement: Int64
    /// The portfolio numbers (PR/MR/IR, V_liq, V_init, PMR as `ratioPpm`).
    public var portfolio: RequirementView
    /// The same account under standard cross margin, beside it.
    public var standard: RequirementView
    /// Collateral x LTV - borrowed value.
    public var borrowLimitLeft: Int64
    public var reservedMargin: Int64
    public var weightedVolume: Int64
    /// "healthy", "liquidatable" (MR / V_liq > 0.95) or "backstop" (V_liq < 2/3 MR).
    public var health: String
}

/// A lending pool's state.
public struct PoolView: Codable, Sendable, Equatable {
    public var asset: AssetID
    public var symbol: String
    public var supplied: Int64
    public var borrowed: Int64
    public var cash: Int64
    /// Wads as decimal strings (18 decimals).
    public var utilization: String
    public var borrowRate: String
    public var supplyRate: String
    public var supplyIndex: String
    public var borrowIndex: String
    public var supplyCap: Int64
    public var borrowCap: Int64
}

/// A market's prices and counters.
public struct MarketView: Codable, Sendable, Equatable {
    public var market: MarketID
    public var name: String
    public var kind: MarketKind
    public var oracle: Int64
    public var mark: Int64
    public var bestBid: Int64?
    public var bestAsk: Int64?
    public var openInterest: Int64
    /// Wad per interval, decimal string.
    public var lastFundingRate: String
}

extension Ledger {
    /// The account summary the node serves.
    public func accountSummary(_ address: Address) throws(LedgerError) -> AccountSummary {
        let a = account(address)
        var balances: [BalanceView] = []
        for h in a.holdings {
            let (s, o) = try amounts(h)
            balances.append(BalanceView(asset: h.asset, symbol: config.genesis.assets[Int(h.asset)].symbol,
                                        wallet: h.wallet, supplied: s, borrowed: o,
                                        net: Int64(clamping: Int128(h.wallet) + Int128(s) - Int128(o))))
        }
        let risk = try accountRisk(a)
        let summary = try evaluate(risk)
        let portfolioMode = a.mode == .portfolio
        var positions: [PositionView] = []
        for p in a.positions {
            let mc = config.genesis.markets[Int(p.market)]
            let scale = Int128(config.unitScale[Int(mc.base)])
            let mark = markPrice(mc.base)
            let value = (Int128(p.size) * Int128(mark)).dividedRoundingDown(by: scale)
            let liq = (try? config.engine.liquidationPrices(risk, asset: mc.base, portfolioMode: portfolioMode)) ?? nil
            positions.append(PositionView(
                market: p.market, name: mc.name, size: p.size, costBasis: p.costBasis,
                entryPrice: p.size == 0 ? 0 : Int64(clamping: Int128(p.costBasis) * scale / Int128(p.size)),
                mark: mark, oracle: oracles[Int(mc.base)].price,
                unrealizedPnl: Int64(clamping: value - Int128(p.costBasis)),
                liquidationPriceBelow: liq?.below, liquidationPriceAbove: liq?.above))
        }
        var orders: [OpenOrderView] = []
        if a.openOrders > 0 {
            for (m, book) in books.enumerated() {
                for o in book.orders(owner: address) {
                    orders.append(OpenOrderView(market: MarketID(m), orderID: o.id, side: o.side, price: o.price,
                                                size: o.size, reservedMargin: o.reservedMargin, reduceOnly: o.reduceOnly))
                }
            }
        }
        let own = summary.requirement(portfolioMode: portfolioMode)
        let r = config.genesis.risk
        let health = own.liquidationValueBelow(numerator: r.takeoverNumerator, denominator: r.takeoverDenominator) && own.maintenance > 0
            ? "backstop" : own.isLiquidatable ? "liquidatable" : "healthy"
        return AccountSummary(address: address, mode: a.mode, balances: balances, positions: positions, openOrders: orders,
                              portfolioRequirement: summary.portfolioRequirement,
                              portfolio: RequirementView(summary.portfolio), standard: RequirementView(summary.standard),
                              borrowLimitLeft: Int64(clamping: Int128(summary.borrowCapacity) - Int128(summary.borrowedValue)),
                              reservedMargin: a.reservedMargin, weightedVolume: a.weightedVolume, health: health)
    }

    /// Every lending pool.
    public func poolViews() -> [PoolView] {
        pools.enumerated().map { i, p in
            let u = (try? p.utilization()) ?? 0
            let model = config.rateModels[i]
            let cfg = config.genesis.assets[i]
            return PoolView(asset: AssetID(i), symbol: cfg.symbol, supplied: (try? p.totalSupplied()) ?? 0,
                            borrowed: (try? p.totalBorrowed()) ?? 0, cash: p.cash, utilization: Ledger.wadString(u),
                            borrowRate: Ledger.wadString((try? LendingPool.borrowRate(model: model, utilization: u)) ?? 0),
                            supplyRate: Ledger.wadString((try? LendingPool.supplyRate(model: model, utilization: u)) ?? 0),
                            supplyIndex: Ledger.wadString(p.supplyIndex), borrowIndex: Ledger.wadString(p.borrowIndex),
                            supplyCap: cfg.supplyCap, borrowCap: cfg.borrowCap)
        }
    }

    /// Every market.
    public func marketViews() -> [MarketView] {
        config.genesis.markets.enumerated().map { i, mc in
            MarketView(market: MarketID(i), name: mc.name, kind: mc.kind, oracle: oracles[Int(mc.base)].price,
                       mark: markPrice(mc.base), bestBid: books[i].bestBid, bestAsk: books[i].bestAsk,
                       openInterest: markets[i].openInterest, lastFundingRate: Ledger.wadString(markets[i].lastFundingRate))
        }
    }

    /// Aggregated book levels of `market`, best first.
    public func depth(_ market: MarketID, levels: Int) -> OrderBook.Depth? {
        book(market)?.depth(maxLevels: levels)
    }

    /// The insurance fund per asset and the unsocialized deficit.
    public var insuranceView: (balances: [Int64], deficit: Int64) { (insurance, global.deficit) }

    /// A wad as a decimal string with 18 decimals.
    public static func wadString(_ v: Int128) -> String {
        let negative = v < 0
        let m = v.magnitude
        let whole = m / UInt128(Wad.one), frac = m % UInt128(Wad.one)
        var f = String(frac)
        f = String(repeating: "0", count: 18 - f.count) + f
        return (negative ? "-" : "") + String(whole) + "." + f
    }
}

extension Int128 {
    func dividedRoundingDown(by d: Int128) -> Int128 {
        let (q, r) = quotientAndRemainder(dividingBy: d)
        return r != 0 && (r < 0) != (d < 0) ? q - 1 : q
    }
}

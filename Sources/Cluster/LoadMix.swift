import BallastCrypto
import Ledger

/// What a load account does.
public enum LoadRole: String, Codable, Sendable, CaseIterable {
    /// Quotes both sides around the mark and cancels its old quotes.
    case marketMaker
    /// Crosses the spread with immediate-or-cancel orders.
    case taker
    /// Holds spot against a perp short, and unwinds it.
    case basisTrader
    /// Supplies, borrows and repays.
    case borrower
    /// Little collateral, perp longs bought up to the leverage limit: a crash makes it liquidatable.
    case leveraged

    /// Account i's role: of twenty, eight make markets, six take, two trade the basis, three
    /// borrow and one is leveraged.
    public static func of(_ i: Int) -> LoadRole {
        switch i % 20 {
        case 0...7: return .marketMaker
        case 8...13: return .taker
        case 14...15: return .basisTrader
        case 16...18: return .borrower
        default: return .leveraged
        }
    }

    /// USDC (base units) a faucet gives an account of this role, and whether it gets the other assets.
    public var funding: (usdc: Int64, otherAssets: Bool) {
        self == .leveraged ? (3_000_000_000, false) : (100_000_000_000, true)
    }
}

/// The load accounts: keys derived from a seed, so the keeper (and a second run) finds the
/// same accounts. Account i's Ed25519 seed is BLAKE2b-256("ballast-load-<seed>-<i>").
public struct LoadAccounts: Sendable {
    public let keys: [SigningKey]
    public let seed: UInt64

    public init(count: Int, seed: UInt64) throws {
        self.seed = seed
        keys = try (0..<count).map { try SigningKey(seed: Blake2b.hash256(Array("ballast-load-\(seed)-\($0)".utf8)).bytes) }
    }

    public var addresses: [Address] { keys.map(\.address) }

    /// Indices of the accounts with `role`.
    public func indices(of role: LoadRole) -> [Int] { keys.indices.filter { LoadRole.of($0) == role } }
}

/// The realistic transaction mix of `ballast cluster load`, as a seeded generator of
/// (account, action) pairs. Percent of the stream: quotes 35, cancels 20 (a maker's "cancel all"
/// in one market), taker orders 25,
/// basis trades 10, lending (margin mode, supply, borrow, repay) 5, leveraged perp buys 5.
/// Prices follow the marks the generator is told.
public struct LoadMix: Sendable {
    public let assets: [AssetConfig]
    public let markets: [MarketConfig]
    /// The current mark (else oracle) of each market, USDC base units per whole unit.
    public var marks: [Int64]
    /// Relative weights of the kinds of traffic (a manifest's `load.mix`).
    public var weights = Manifest.Mix()
    var rng: WorkloadRandom
    let makers: [Int], takers: [Int], basis: [Int], borrowers: [Int], leveraged: [Int]
    /// A maker's youngest quote pairs, which it does not cancel (see `cancelOldest`), and the
    /// most pairs it holds before it cancels instead of quoting.
    static let quotesYoung = 4, quotesKept = 48
    /// Each maker's live quotes, oldest first: the market and the client ids of its bid and ask.
    var quotes: [Int: [(MarketID, [ClientOrderID])]] = [:]
    var nextClientID: UInt64 = 1
    /// A basis trader's open pair (spot market, perp market, size), unwound next time.
    var basisPositions: [Int: (MarketID, MarketID, Int64)] = [:]
    /// A borrower's step in supply → borrow → repay → borrow …, and its open loan.
    var lendingStep: [Int: Int] = [:]
    /// Spot and perp market of each base asset that has both, for basis trades.
    let basisPairs: [(spot: MarketID, perp: MarketID)]

    /// `clientIDBase` starts the client order ids, so that a second run on the same accounts
    /// does not repeat the ids of orders still resting from the first.
    public init(assets: [AssetConfig], markets: [MarketConfig], accounts: Int, seed: UInt64, clientIDBase: UInt64 = 0) {
        nextClientID = clientIDBase
        self.assets = assets
        self.markets = markets
        marks = markets.map { assets[Int($0.base)].initialPrice }
        rng = WorkloadRandom(seed: seed)
        let all = Array(0..<accounts)
        makers = all.filter { LoadRole.of($0) == .marketMaker }
        takers = all.filter { LoadRole.of($0) == .taker }
        basis = all.filter { LoadRole.of($0) == .basisTrader }
        borrowers = all.filter { LoadRole.of($0) == .borrower }
        leveraged = all.filter { LoadRole.of($0) == .leveraged }
        var pairs: [(MarketID, MarketID)] = []
        for (s, spot) in markets.enumerated() where spot.kind == .spot {
            if let p = markets.firstIndex(where: { $0.kind == .perp && $0.base == spot.base }) { pairs.append((MarketID(s), MarketID(p))) }
        }
        basisPairs = pairs
    }

    /// The next transaction: which account sends what, each kind as often as its weight says
    /// (a kind whose accounts are missing falls through to the next).
    public mutating func next() -> (account: Int, action: Action) {
        let w = weights
        let roll = rng.below(max(w.total, 1))
        // Cumulative: a roll that picks a kind also counts for every kind after it, so a kind
        // without accounts hands its share on.
        if roll < w.maker, let i = pick(makers) { return (i, quote(i)) }
        if roll < w.maker + w.cancel, let i = pick(makers) { return (i, cancelOldest(i) ?? quote(i)) }
        if roll < w.maker + w.cancel + w.taker, let i = pick(takers) { return (i, take()) }
        if roll < w.maker + w.cancel + w.taker + w.basis, let i = pick(basis), let trade = basisTrade(i) { return (i, trade) }
        if roll < w.total - w.leveraged, let i = pick(borrowers) { return (i, lend(i)) }
        if let i = pick(leveraged) { return (i, leverUp()) }
        if let i = pick(borrowers) { return (i, lend(i)) }
        // Too few accounts for every role: makers carry the rest.
        let i = pick(makers) ?? 0
        return (i, quote(i))
    }

    mutating func pick(_ group: [Int]) -> Int? { group.isEmpty ? nil : group[rng.below(group.count)] }

    /// A price `ppm` away from the mark of market m (negative: below), on the tick, rounded away from the mark.
    func price(_ m: Int, offsetPpm: Int64) -> Int64 {
        let mc = markets[m]
        let raw = Int128(marks[m]) + Int128(marks[m]) * Int128(offsetPpm) / 1_000_000
        let ticks = offsetPpm < 0 ? raw / Int128(mc.tick) : (raw + Int128(mc.tick) - 1) / Int128(mc.tick)
        return Int64(max(1, ticks)) * mc.tick
    }

    /// The size worth about `usdc` whole USDC at `price`, on the lot and above the market's minimum notional.
    func size(_ m: Int, usdc: Int64, price: Int64) -> Int64 {
        let mc = markets[m]
        let scale = Int128(pow10(assets[Int(mc.base)].decimals))
        let notional = max(Int128(usdc) * 1_000_000, Int128(mc.minNotional) * 2)
        let lots = notional * scale / Int128(max(price, 1)) / Int128(mc.lot)
        return Int64(max(1, lots)) * mc.lot
    }

    func pow10(_ d: Int64) -> Int64 { (0..<d).reduce(1) { r, _ in r * 10 } }

    mutating func clientID(_ account: Int) -> ClientOrderID {
        nextClientID += 1
        return ClientOrderID(storage: (UInt64(account), nextClientID))
    }

    /// Maker i's "cancel all" in the market of its oldest quote, or nil while it holds
    /// `quotesYoung` pairs or fewer.
    ///
    /// Why not a cancel of the oldest pair by client id: a cancel is all or nothing, so once a
    /// taker has filled one side of the pair the cancel fails, and the other side rests for ever
    /// (at full load about 20,000 resting orders per 30 s, most of the cancels failing with
    /// `order_not_found`). A market maker cancels everything it has in a market and quotes
    /// again; each cancel clears the maker's oldest quote and its others in that market (one in
    /// fourteen), and quotes come at 35 against 20 for cancels, so a maker holds about a dozen
    /// pairs. The youngest `quotesYoung` pairs are never what a cancel is for (one sent a moment
    /// before could land in the same block, where cancels run before orders); a young quote the
    /// cancel does clear, or one that lands after it, goes with the next cancel in that market.
    mutating func cancelOldest(_ i: Int) -> Action? {
        guard let list = quotes[i], list.count > LoadMix.quotesYoung, let market = list.first?.0 else { return nil }
        quotes[i] = list.filter { $0.0 != market }
        return .cancelAll(market: market)
    }

    /// A bid and an ask 5 to 30 basis points from the mark, 200 to 2,000 USDC each; a maker that
    /// already holds `quotesKept` pairs cancels instead.
    mutating func quote(_ i: Int) -> Action {
        if (quotes[i]?.count ?? 0) >= LoadMix.quotesKept, let cancel = cancelOldest(i) { return cancel }
        let m = rng.below(markets.count)
        let half = Int64(500 + rng.below(2_500))
        let usdc = Int64(200 + rng.below(1_800))
        let bid = price(m, offsetPpm: -half), ask = price(m, offsetPpm: half)
        let ids = [clientID(i), clientID(i)]
        quotes[i, default: []].append((MarketID(m), ids))
        return .placeOrders([
            OrderRequest(market: MarketID(m), side: .buy, price: bid, size: size(m, usdc: usdc, price: bid), clientID: ids[0]),
            OrderRequest(market: MarketID(m), side: .sell, price: ask, size: size(m, usdc: usdc, price: ask), clientID: ids[1]),
        ])
    }

    /// An immediate-or-cancel order half a percent through the mark, 100 to 1,000 USDC.
    mutating func take() -> Action {
        let m = rng.below(markets.count)
        let side: Side = rng.chance(50) ? .buy : .sell
        let p = price(m, offsetPpm: side == .buy ? 5_000 : -5_000)
        return .placeOrders([OrderRequest(market: MarketID(m), side: side, price: p,
                                          size: size(m, usdc: Int64(100 + rng.below(900)), price: p), timeInForce: .ioc)])
    }

    /// Buys spot and sells the perp of the same asset in one transaction; the next trade unwinds it.
    mutating func basisTrade(_ i: Int) -> Action? {
        if let (spot, perp, size) = basisPositions.removeValue(forKey: i) {
            return .placeOrders([
                OrderRequest(market: spot, side: .sell, price: price(Int(spot), offsetPpm: -5_000), size: size, timeInForce: .ioc),
                OrderRequest(market: perp, side: .buy, price: price(Int(perp), offsetPpm: 5_000), size: size, timeInForce: .ioc, reduceOnly: true),
            ])
        }
        guard !basisPairs.isEmpty else { return nil }
        let (spot, perp) = basisPairs[rng.below(basisPairs.count)]
        let buy = price(Int(spot), offsetPpm: 5_000)
        let amount = size(Int(spot), usdc: Int64(500 + rng.below(1_500)), price: buy)
        basisPositions[i] = (spot, perp, amount)
        return .placeOrders([
            OrderRequest(market: spot, side: .buy, price: buy, size: amount, timeInForce: .ioc),
            OrderRequest(market: perp, side: .sell, price: price(Int(perp), offsetPpm: -5_000), size: amount, timeInForce: .ioc),
        ])
    }

    /// A 5,000 USDC perp buy half a percent through the mark: repeated, it takes the account to
    /// its leverage limit (the ledger refuses the orders beyond it).
    mutating func leverUp() -> Action {
        let perps = markets.indices.filter { markets[$0].kind == .perp }
        guard !perps.isEmpty else { return take() }
        let m = perps[rng.below(perps.count)]
        let p = price(m, offsetPpm: 5_000)
        return .placeOrders([OrderRequest(market: MarketID(m), side: .buy, price: p, size: size(m, usdc: 5_000, price: p), timeInForce: .ioc)])
    }

    /// Switch to portfolio margin (borrowing needs it) and supply 5,000 USDC once, then
    /// borrow and repay 1,000 USDC in turn.
    mutating func lend(_ i: Int) -> Action {
        let step = lendingStep[i] ?? 0
        lendingStep[i] = step < 2 ? step + 1 : 5 - step
        switch step {
        case 0: return .setMarginMode(.portfolio)
        case 1: return .supply(asset: 0, amount: 5_000_000_000)
        case 2: return .borrow(asset: 0, amount: 1_000_000_000)
        default: return .repay(asset: 0, amount: 1_000_000_000)
        }
    }
}

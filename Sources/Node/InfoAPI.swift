import BallastCrypto
import Foundation
import Hummingbird
import Ledger
import NIOCore

/// Why `POST /info` refused a request: a status (400 for anything the client sent), a stable
/// code and a message.
public struct InfoError: Error, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String

    public init(_ code: String, _ message: String, status: HTTPResponse.Status = .badRequest) {
        self.status = status
        self.code = code
        self.message = message
    }
}

/// The error body of `POST /info`: Ballast's `{"error": {"code", "message"}}`, plus `code` and
/// `msg` at the top, which is where Hyperliquid's SDKs look for them on a 4xx answer.
struct InfoErrorBody: Encodable {
    var error: ErrorBody.Inner
    var code: String
    var msg: String
}

/// The JSON body of `POST /info`: `type` says which query; the other fields are its arguments.
public struct InfoRequest: Decodable, Sendable, Equatable {
    public var type: String
    public var user: String?
    public var coin: String?
    public var dex: String?
    public var token: Int64?
    public var nSigFigs: Int?
    public var mantissa: Int?

    public init(type: String, user: String? = nil, coin: String? = nil, dex: String? = nil, token: Int64? = nil) {
        self.type = type
        self.user = user
        self.coin = coin
        self.dex = dex
        self.token = token
    }
}

/// Hyperliquid's read-only info endpoint over the ledger (docs/api.md, "Hyperliquid info API").
public enum InfoAPI {
    /// Every `type` the endpoint answers.
    public static let types = [
        "meta", "spotMeta", "metaAndAssetCtxs", "spotMetaAndAssetCtxs", "allMids", "l2Book",
        "clearinghouseState", "spotClearinghouseState", "openOrders", "frontendOpenOrders", "userFills",
        "borrowLendUserState", "borrowLendReserveState", "allBorrowLendReserveStates",
    ]

    /// Most levels per side `l2Book` shows, as Hyperliquid.
    public static let bookLevels = 20

    /// Adds `POST /info` to `router`.
    static func register(on router: Router<APIRequestContext>, runtime: ValidatorRuntime, maxBody: Int) {
        router.post("/info") { request, _ -> Response in
            let body = try await HTTPAPI.readBody(request, limit: maxBody)
            do {
                let query = try decode(body)
                let history = try await historyIfNeeded(query, runtime: runtime)
                let data = try await runtime.withLedger { ledger throws(InfoError) in
                    try answer(query, ledger: ledger, history: history)
                }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            } catch let error as InfoError {
                return jsonResponse(InfoErrorBody(error: .init(code: error.code, message: error.message),
                                                  code: error.code, msg: error.message), status: error.status)
            }
        }
    }

    /// The request in `body`, or why it is not one.
    public static func decode(_ body: [UInt8]) throws(InfoError) -> InfoRequest {
        if body.allSatisfy({ $0 == 32 || $0 == 9 || $0 == 10 || $0 == 13 }) {
            throw InfoError("empty_body", "send a JSON object such as {\"type\": \"meta\"}")
        }
        do {
            return try JSONDecoder().decode(InfoRequest.self, from: Data(body))
        } catch {
            if case .keyNotFound(let key, let context)? = error as? DecodingError, key.stringValue == "type", context.codingPath.isEmpty {
                throw InfoError("missing_type", "the body needs a \"type\": one of \(types.joined(separator: ", "))")
            }
            throw InfoError("bad_json", "info request: \(describeJSONError(error))")
        }
    }

    /// The JSON answer to `request` from `ledger`'s state. `history` is the user's, read from the
    /// node's store beforehand, for `userFills`, `cumFunding`, `entryNtl` and `origSz`.
    public static func answer(_ request: InfoRequest, ledger: Ledger, history: InfoHistory = InfoHistory()) throws(InfoError) -> Data {
        let view = InfoView(ledger: ledger)
        switch request.type {
        case "meta":
            try mainDexOnly(request)
            return try encode(view.meta())
        case "spotMeta": return try encode(view.spotMeta())
        case "metaAndAssetCtxs": return try encode(HLPair(view.meta(), view.perpContexts()))
        case "spotMetaAndAssetCtxs": return try encode(HLPair(view.spotMeta(), view.spotContexts()))
        case "allMids":
            try mainDexOnly(request)
            return try encode(view.allMids())
        case "l2Book":
            guard let coin = request.coin else { throw InfoError("missing_coin", "l2Book needs \"coin\", e.g. \"BTC\" or \"BTC/USDC\"") }
            if request.nSigFigs != nil || request.mantissa != nil {
                throw InfoError("unsupported_aggregation", "l2Book: nSigFigs and mantissa are not supported; the book is shown at full precision")
            }
            return try encode(view.l2Book(coin))
        case "clearinghouseState":
            try mainDexOnly(request)
            return try encode(view.clearinghouseState(try user(request), funding: history.funding))
        case "spotClearinghouseState":
            return try encode(view.spotClearinghouseState(try user(request), history: history))
        case "openOrders":
            try mainDexOnly(request)
            return try encode(view.openOrders(try user(request), frontend: false, filled: history.filled))
        case "frontendOpenOrders":
            try mainDexOnly(request)
            return try encode(view.openOrders(try user(request), frontend: true, filled: history.filled))
        case "userFills":
            _ = try user(request)
            return try encode(history.fills)
        case "borrowLendUserState":
            return try encode(view.borrowLendUserState(try user(request)))
        case "borrowLendReserveState":
            guard let token = request.token else { throw InfoError("missing_token", "borrowLendReserveState needs \"token\" (a token index from spotMeta)") }
            return try encode(view.reserveState(token))
        case "allBorrowLendReserveStates":
            return try encode(view.allReserveStates())
        default:
            throw InfoError("unknown_type", "unknown info type \"\(request.type)\": Ballast answers \(types.joined(separator: ", "))")
        }
    }

    /// The queries that show something of the account's history.
    static let historyTypes: Set<String> = ["userFills", "clearinghouseState", "spotClearinghouseState", "openOrders", "frontendOpenOrders"]

    /// The user's history digest for the queries that show history; empty for the others.
    static func historyIfNeeded(_ request: InfoRequest, runtime: ValidatorRuntime) async throws -> InfoHistory {
        guard historyTypes.contains(request.type) else { return InfoHistory() }
        let address = try user(request)
        return try await runtime.infoHistory(of: address)
    }

    static func user(_ request: InfoRequest) throws(InfoError) -> Address {
        guard let text = request.user else { throw InfoError("missing_user", "\(request.type) needs \"user\": an address, 0x + 40 hex digits") }
        do { return try Address(hex: text) } catch {
            throw InfoError("bad_user", "user must be 0x + 40 hex digits: \(error)")
        }
    }

    /// Ballast has one perp dex: Hyperliquid's `""`.
    static func mainDexOnly(_ request: InfoRequest) throws(InfoError) {
        if let dex = request.dex, !dex.isEmpty {
            throw InfoError("unknown_dex", "no perp dex \"\(dex)\": Ballast has only the main dex (\"\")")
        }
    }

    static func encode<T: Encodable>(_ value: T) throws(InfoError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return try encoder.encode(value) } catch {
            throw InfoError("internal", "could not encode the answer: \(error)", status: .internalServerError)
        }
    }
}

/// Hyperliquid's names and numbering of Ballast's assets and markets: perps by their position
/// among the genesis perp markets (`meta.universe`), spot pairs by theirs among the spot markets
/// (asset 10000 + index), tokens by asset id.
struct HLCatalog {
    let genesis: Genesis
    /// Perp markets in `meta.universe` order.
    let perps: [MarketID]
    /// Spot markets in `spotMeta.universe` order.
    let spots: [MarketID]

    init(_ genesis: Genesis) {
        self.genesis = genesis
        perps = genesis.markets.indices.filter { genesis.markets[$0].kind == .perp }.map { MarketID($0) }
        spots = genesis.markets.indices.filter { genesis.markets[$0].kind == .spot }.map { MarketID($0) }
    }

    var usdcDecimals: Int { Int(genesis.assets[0].decimals) }
    func decimals(_ asset: AssetID) -> Int { Int(genesis.assets[Int(asset)].decimals) }
    func market(_ id: MarketID) -> MarketConfig { genesis.markets[Int(id)] }

    /// "BTC" for a perp, "BTC/USDC" for a spot pair.
    func coin(_ id: MarketID) -> String {
        let m = market(id)
        let base = genesis.assets[Int(m.base)].symbol
        return m.kind == .perp ? base : base + "/" + genesis.assets[0].symbol
    }

    /// The market a Hyperliquid coin names: a perp's name, a pair's name, or `@i` for spot pair i.
    func market(coin: String) -> MarketID? {
        if coin.hasPrefix("@"), let i = Int(coin.dropFirst()), spots.indices.contains(i) { return spots[i] }
        return (perps + spots).first { self.coin($0) == coin }
    }

    /// Decimals a size needs in this market: the base's decimals less the lot's trailing zeros.
    func sizeDecimals(_ id: MarketID) -> Int {
        let m = market(id)
        var lot = m.lot, zeros = 0
        while lot > 0 && lot % 10 == 0 { lot /= 10; zeros += 1 }
        return max(0, decimals(m.base) - zeros)
    }

    func price(_ value: Int64) -> String { HLNumber.string(value, scale: usdcDecimals) }
    func price(_ value: Int128) -> String { HLNumber.string(value, scale: usdcDecimals) }
    func usd(_ value: Int64) -> String { HLNumber.string(value, scale: usdcDecimals) }
    func amount(_ value: Int64, of asset: AssetID) -> String { HLNumber.string(value, scale: decimals(asset)) }
    func ppm(_ value: Int64) -> String { HLNumber.string(value, scale: 6) }
    func wad(_ value: Int128) -> String { HLNumber.string(value, scale: 18) }

    /// The midpoint of a bid and an ask, exact: (bid + ask) / 2 has at most one more decimal.
    func mid(bid: Int64, ask: Int64) -> String {
        HLNumber.string((Int128(bid) + Int128(ask)) * 5, scale: usdcDecimals + 1)
    }
}

/// The info queries over one ledger state.
struct InfoView {
    let ledger: Ledger
    let catalog: HLCatalog

    init(ledger: Ledger) {
        self.ledger = ledger
        catalog = HLCatalog(ledger.config.genesis)
    }

    var genesis: Genesis { ledger.config.genesis }

    // MARK: Markets

    func meta() -> HLMeta {
        HLMeta(universe: catalog.perps.map { id in
            HLPerpAsset(name: catalog.coin(id), szDecimals: catalog.sizeDecimals(id),
                        maxLeverage: catalog.market(id).maxLeverage, onlyIsolated: false)
        })
    }

    func spotMeta() -> HLSpotMeta {
        let tokens = genesis.assets.enumerated().map { i, a in
            // A token traded as a spot base has that market's size decimals; USDC its own.
            let spot = catalog.spots.first { catalog.market($0).base == AssetID(i) }
            return HLSpotToken(name: a.symbol, szDecimals: spot.map(catalog.sizeDecimals) ?? Int(a.decimals),
                               weiDecimals: Int(a.decimals), index: i, tokenId: "0x" + String(repeating: "0", count: 32 - String(i, radix: 16).count) + String(i, radix: 16),
                               isCanonical: true)
        }
        let pairs = catalog.spots.enumerated().map { i, id in
            HLSpotPair(name: catalog.coin(id), tokens: [Int(catalog.market(id).base), 0], index: i, isCanonical: true)
        }
        return HLSpotMeta(tokens: tokens, universe: pairs)
    }

    func midString(_ market: MarketID) -> String? {
        guard let book = ledger.book(market), let bid = book.bestBid, let ask = book.bestAsk else { return nil }
        return catalog.mid(bid: bid, ask: ask)
    }

    func perpContexts() -> [HLPerpAssetContext] {
        catalog.perps.map { id in
            let m = catalog.market(id)
            let state = ledger.marketState(id)
            let book = ledger.book(id)
            let scale = ledger.config.unitScale[Int(m.base)]
            let notional = genesis.funding.impactNotional
            var impact: [String]?
            if let bid = book?.impactPrice(.buy, notional: notional, unitScale: scale),
               let ask = book?.impactPrice(.sell, notional: notional, unitScale: scale) {
                impact = [catalog.price(bid), catalog.price(ask)]
            }
            // The ledger keeps the rate per funding interval; Hyperliquid shows it per hour.
            let perInterval = state?.lastFundingRate ?? 0
            let hourly = (try? Int128.mulDiv(perInterval, 3_600_000, Int128(genesis.funding.intervalMs), rounding: .down)) ?? 0
            return HLPerpAssetContext(
                funding: catalog.wad(hourly), openInterest: catalog.amount(state?.openInterest ?? 0, of: m.base),
                oraclePx: catalog.price(ledger.oracle(m.base)?.price ?? 0), markPx: catalog.price(ledger.markPrice(m.base)),
                midPx: OrNull(midString(id)), impactPxs: OrNull(impact))
        }
    }

    func spotContexts() -> [HLSpotAssetContext] {
        catalog.spots.map { id in
            let base = catalog.market(id).base
            // Balances are conserved (spec: conservation), so genesis says the supply.
            let supply = genesis.balances.filter { $0.asset == base }.reduce(Int128(0)) { $0 + Int128($1.amount) }
                + genesis.insuranceFund.filter { $0.asset == base }.reduce(Int128(0)) { $0 + Int128($1.amount) }
            let supplyText = HLNumber.string(supply, scale: catalog.decimals(base))
            return HLSpotAssetContext(coin: catalog.coin(id), markPx: catalog.price(ledger.markPrice(base)),
                                      midPx: OrNull(midString(id)), circulatingSupply: supplyText, totalSupply: supplyText)
        }
    }

    /// Every perp and spot pair: the mid of best bid and ask, or the mark while a side is empty.
    func allMids() -> [String: String] {
        var mids: [String: String] = [:]
        for id in catalog.perps + catalog.spots {
            mids[catalog.coin(id)] = midString(id) ?? catalog.price(ledger.markPrice(catalog.market(id).base))
        }
        return mids
    }

    func l2Book(_ coin: String) throws(InfoError) -> HLL2Book {
        guard let id = catalog.market(coin: coin), let depth = ledger.depth(id, levels: InfoAPI.bookLevels) else {
            throw InfoError("unknown_coin", "no coin \"\(coin)\": perps are named like \"BTC\", spot pairs like \"BTC/USDC\" or \"@0\"")
        }
        let base = catalog.market(id).base
        func levels(_ side: [OrderBook.DepthLevel]) -> [HLLevel] {
            side.map { HLLevel(px: catalog.price($0.price), sz: catalog.amount($0.size, of: base), n: $0.orders) }
        }
        return HLL2Book(coin: catalog.coin(id), time: ledger.global.timeMs, levels: [levels(depth.bids), levels(depth.asks)])
    }

    // MARK: Accounts

    func summary(_ user: Address) throws(InfoError) -> AccountSummary {
        do { return try ledger.accountSummary(user) } catch {
            throw InfoError(error.code, error.description, status: .internalServerError)
        }
    }

    /// `a x b / c` exactly, rounded once; a number beyond `Int128` is a 500, never a trap.
    func mulDiv(_ a: Int128, _ b: Int128, _ c: Int128, _ rounding: Rounding) throws(InfoError) -> Int128 {
        do { return try Int128.mulDiv(a, b, c, rounding: rounding) } catch {
            throw InfoError("overflow", "a number of this account is beyond 128 bits", status: .internalServerError)
        }
    }

    /// r_u in ppm, the maintenance rate of a lone position in `asset`.
    func maintenanceRatePPM(_ asset: AssetID) -> Int64 {
        let risk = ledger.config.underlyings.first { $0.asset == asset }
        return (try? risk?.ratePPM(marketShockPPM: genesis.risk.marketShockPpm)) ?? 0
    }

    func clearinghouseState(_ user: Address, funding: [MarketID: InfoHistory.FundingTotals] = [:]) throws(InfoError) -> HLClearinghouseState {
        let s = try summary(user)
        let own = s.mode == .portfolio ? s.portfolio : s.standard
        var positions: [HLAssetPosition] = []
        var totalNotional: Int128 = 0, signedNotional: Int128 = 0
        for p in s.positions {
            let m = catalog.market(p.market)
            let scale = Int128(ledger.config.unitScale[Int(m.base)])
            let exact = Int128(p.size) * Int128(p.mark)   // both Int64: cannot overflow
            let value = try mulDiv(Int128(exact.magnitude), 1, scale, .down)
            totalNotional += value
            signedNotional += try mulDiv(exact, 1, scale, .down)
            // This position alone under cross margin: |size| x mark x 2 r_u, rounded up.
            let rate = Int128(maintenanceRatePPM(m.base))
            let initial = try mulDiv(Int128(exact.magnitude), 2 * rate, scale * 1_000_000, .up)
            let liquidation = p.size > 0 ? p.liquidationPriceBelow : p.liquidationPriceAbove
            let paid = funding[p.market] ?? InfoHistory.FundingTotals()
            let cumulative = HLCumulativeFunding(allTime: catalog.usd(paid.allTime), sinceOpen: catalog.usd(paid.sinceOpen),
                                                 sinceChange: catalog.usd(paid.sinceChange))
            positions.append(HLAssetPosition(type: "oneWay", position: HLPosition(
                coin: catalog.coin(p.market), szi: catalog.amount(p.size, of: m.base), entryPx: catalog.price(p.entryPrice),
                positionValue: catalog.price(value), unrealizedPnl: catalog.usd(p.unrealizedPnl),
                returnOnEquity: HLNumber.ratio(Int128(p.unrealizedPnl), initial, scale: 6) ?? "0.0",
                leverage: HLLeverage(type: "cross", value: m.maxLeverage), liquidationPx: OrNull(liquidation.map { catalog.price($0) }),
                marginUsed: catalog.price(initial), maxLeverage: m.maxLeverage, cumFunding: cumulative)))
        }
        let summary = HLMarginSummary(
            accountValue: catalog.usd(own.liquidationValue), totalNtlPos: catalog.price(totalNotional),
            totalRawUsd: catalog.price(Int128(own.liquidationValue) - signedNotional), totalMarginUsed: catalog.usd(own.initial))
        return HLClearinghouseState(
            assetPositions: positions, marginSummary: summary, crossMarginSummary: summary,
            crossMaintenanceMarginUsed: catalog.usd(own.maintenance), withdrawable: catalog.usd(withdrawable(s, own: own)),
            time: ledger.global.timeMs)
    }

    /// USDC that may leave the account: what it owns net, within the slack its orders leave.
    func withdrawable(_ s: AccountSummary, own: RequirementView) -> Int64 {
        let usdc = s.balances.first { $0.asset == 0 }?.net ?? 0
        return max(0, min(usdc, own.slack - s.reservedMargin))
    }

    func spotClearinghouseState(_ user: Address, history: InfoHistory = InfoHistory()) throws(InfoError) -> HLSpotClearinghouseState {
        let s = try summary(user)
        let balances = s.balances.map { b in
            HLSpotBalance(coin: b.symbol, token: Int(b.asset), total: catalog.amount(b.net, of: b.asset),
                          // Ballast reserves margin for orders, in USDC, not amounts of a token.
                          hold: b.asset == 0 ? catalog.usd(s.reservedMargin) : catalog.amount(0, of: b.asset),
                          entryNtl: catalog.price(history.spotCost[b.asset]?.entryNotional(held: b.net) ?? 0), supplied: catalog.amount(b.supplied, of: b.asset),
                          borrowed: catalog.amount(b.borrowed, of: b.asset),
                          ltv: catalog.ppm(genesis.assets[Int(b.asset)].ltvPpm))
        }
        let p = s.portfolio
        return HLSpotClearinghouseState(
            balances: balances, portfolioMarginEnabled: s.mode == .portfolio,
            portfolioMarginRatio: OrNull(p.ratioPpm == Int64.max ? nil : catalog.ppm(p.ratioPpm)),
            tokenToAvailableAfterMaintenance: [HLPair(0, catalog.usd(max(0, p.liquidationValue - p.maintenance)))])
    }

    /// `filled` is how much of each order has filled (from the history), for `origSz`.
    func openOrders(_ user: Address, frontend: Bool, filled: [OrderID: Int64] = [:]) throws(InfoError) -> [HLOpenOrder] {
        var out: [HLOpenOrder] = []
        for (m, book) in ledger.config.genesis.markets.indices.compactMap({ i in ledger.book(MarketID(i)).map { (MarketID(i), $0) } }) {
            let base = catalog.market(m).base
            for o in book.orders(owner: user).sorted(by: { $0.id > $1.id }) {
                let original = o.size.addingReportingOverflow(filled[o.id] ?? 0).partialValue
                var order = HLOpenOrder(coin: catalog.coin(m), side: o.side == .buy ? "B" : "A", limitPx: catalog.price(o.price),
                                        sz: catalog.amount(o.size, of: base), oid: o.id, timestamp: 0,
                                        origSz: catalog.amount(original, of: base), cloid: o.clientID.map { "0x" + $0.hex })
                if frontend {
                    order.orderType = "Limit"
                    order.tif = o.timeInForce == .gtc ? "Gtc" : o.timeInForce == .ioc ? "Ioc" : "Alo"
                    order.reduceOnly = o.reduceOnly
                    order.isTrigger = false
                    order.isPositionTpsl = false
                    order.triggerCondition = "N/A"
                    order.triggerPx = "0.0"
                    order.children = []
                }
                out.append(order)
            }
        }
        return out.sorted { $0.oid > $1.oid }
    }

    // MARK: Lending

    func borrowLendUserState(_ user: Address) throws(InfoError) -> HLBorrowLendUserState {
        let s = try summary(user)
        let account = ledger.account(user)
        var states: [HLPair<Int, HLTokenLendState>] = []
        for h in account.holdings where h.supplyShares > 0 || h.debtShares > 0 {
            let view = s.balances.first { $0.asset == h.asset }
            // Shares are amounts at index 1: the principal before interest.
            states.append(HLPair(Int(h.asset), HLTokenLendState(
                borrow: HLBasisValue(basis: catalog.amount(h.debtShares, of: h.asset), value: catalog.amount(view?.borrowed ?? 0, of: h.asset)),
                supply: HLBasisValue(basis: catalog.amount(h.supplyShares, of: h.asset), value: catalog.amount(view?.supplied ?? 0, of: h.asset)))))
        }
        let own = s.mode == .portfolio ? s.portfolio : s.standard
        let health: String
        switch s.health {
        case "healthy": health = own.ratioPpm > genesis.risk.liquidationTargetPpm ? "atRisk" : "healthy"
        default: health = "liquidatable"
        }
        // V_liq / MR: above 1 / 0.95 the account is safe.
        let factor = own.maintenance == 0 ? nil : HLNumber.ratio(Int128(own.liquidationValue), Int128(own.maintenance), scale: 6)
        return HLBorrowLendUserState(tokenToState: states, health: health, healthFactor: OrNull(factor))
    }

    func reserveState(_ token: Int64) throws(InfoError) -> HLReserveState {
        guard token >= 0, token < Int64(genesis.assets.count), genesis.assets[Int(token)].borrowable,
              let view = ledger.poolViews().first(where: { $0.asset == AssetID(token) }) else {
            let tokens = genesis.assets.indices.filter { genesis.assets[$0].borrowable }.map(String.init).joined(separator: ", ")
            throw InfoError("unknown_token", "no lending reserve for token \(token): reserves are tokens \(tokens)")
        }
        return reserve(view)
    }

    func allReserveStates() -> [HLPair<Int, HLReserveState>] {
        ledger.poolViews().filter { genesis.assets[Int($0.asset)].borrowable }.map { HLPair(Int($0.asset), reserve($0)) }
    }

    func reserve(_ p: PoolView) -> HLReserveState {
        let model = ledger.config.rateModels[Int(p.asset)]
        let u = (try? ledger.pool(p.asset)?.utilization()) ?? 0
        let borrow = (try? LendingPool.borrowRate(model: model, utilization: u)) ?? 0
        let supply = (try? LendingPool.supplyRate(model: model, utilization: u)) ?? 0
        return HLReserveState(
            borrowYearlyRate: catalog.wad(borrow), supplyYearlyRate: catalog.wad(supply),
            balance: catalog.amount(p.cash, of: p.asset), utilization: catalog.wad(u),
            oraclePx: catalog.price(ledger.oracle(p.asset)?.price ?? 0), ltv: catalog.ppm(genesis.assets[Int(p.asset)].ltvPpm),
            totalSupplied: catalog.amount(p.supplied, of: p.asset), totalBorrowed: catalog.amount(p.borrowed, of: p.asset))
    }
}

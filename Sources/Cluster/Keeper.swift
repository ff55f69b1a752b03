import BallastCrypto
import Foundation
import Ledger
import Node

/// What one unwind did: a transaction of reduce-only IOC orders, one per perp position and per
/// non-USDC balance the keeper held, each a set distance through the mark.
public struct KeeperUnwind: Codable, Sendable, Equatable {
    /// The unwind transaction; nil when there was nothing to unwind or it was refused.
    public var txId: String?
    public var height: UInt64?
    /// The orders sent, e.g. "sell BTC-PERP 0.0342 at 58,000.00".
    public var orders: [String]
    /// Realized PnL of the unwind's fills, USDC base units, fees included: perps the ledger's
    /// `closedPnl` minus fee; spot the USDC of the sale (or paid for the buy-back of a debt)
    /// against its takeover value (the liquidation event's `value`), minus fee.
    public var realizedPnl: Int64
    /// Fees the unwind paid (already inside `realizedPnl`).
    public var fees: Int64
    /// What the keeper still held afterwards (the book had not enough depth within the limit):
    /// e.g. "BTC-PERP 0.0100"; empty when flat.
    public var left: [String]
    /// Why the unwind could not be sent or failed, if it did.
    public var error: String?

    public init(txId: String? = nil, height: UInt64? = nil, orders: [String] = [], realizedPnl: Int64 = 0, fees: Int64 = 0,
                left: [String] = [], error: String? = nil) {
        self.txId = txId
        self.height = height
        self.orders = orders
        self.realizedPnl = realizedPnl
        self.fees = fees
        self.left = left
        self.error = error
    }
}

/// One liquidation the keeper made, and the unwind that followed it.
public struct KeeperLiquidation: Codable, Sendable, Equatable {
    public var target: String
    public var txId: String
    public var height: UInt64
    /// The target's health and MR / V_liq (ppm) when the keeper saw it.
    public var health: String
    public var ratioPpm: Int64
    /// Everything at once (V_liq below 2/3 MR) rather than 20% steps.
    public var whole: Bool
    /// What the keeper took over at mark, e.g. "BTC-PERP 0.1600 at 60,500.00".
    public var takenOver: [String]
    /// The bonus the ledger paid the keeper, USDC base units: `liquidatorBonus` of the
    /// liquidation event in the keeper's history (40% of the maintenance released, capped at
    /// what the target had left).
    public var bonus: Int64
    /// The unwind sent right after it.
    public var unwind: KeeperUnwind
    /// bonus + unwind.realizedPnl: what this liquidation earned once unwound (takeovers are at
    /// mark, so nothing else is gained or lost while the keeper is flat).
    public var net: Int64 { bonus + unwind.realizedPnl }

    enum CodingKeys: String, CodingKey { case target, txId, height, health, ratioPpm, whole, takenOver, bonus, unwind, net }

    public init(target: String, txId: String, height: UInt64, health: String, ratioPpm: Int64, whole: Bool,
                takenOver: [String], bonus: Int64, unwind: KeeperUnwind) {
        self.target = target
        self.txId = txId
        self.height = height
        self.health = health
        self.ratioPpm = ratioPpm
        self.whole = whole
        self.takenOver = takenOver
        self.bonus = bonus
        self.unwind = unwind
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(target: try c.decode(String.self, forKey: .target), txId: try c.decode(String.self, forKey: .txId),
                  height: try c.decode(UInt64.self, forKey: .height), health: try c.decode(String.self, forKey: .health),
                  ratioPpm: try c.decode(Int64.self, forKey: .ratioPpm), whole: try c.decode(Bool.self, forKey: .whole),
                  takenOver: try c.decode([String].self, forKey: .takenOver), bonus: try c.decode(Int64.self, forKey: .bonus),
                  unwind: try c.decode(KeeperUnwind.self, forKey: .unwind))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(target, forKey: .target)
        try c.encode(txId, forKey: .txId)
        try c.encode(height, forKey: .height)
        try c.encode(health, forKey: .health)
        try c.encode(ratioPpm, forKey: .ratioPpm)
        try c.encode(whole, forKey: .whole)
        try c.encode(takenOver, forKey: .takenOver)
        try c.encode(bonus, forKey: .bonus)
        try c.encode(unwind, forKey: .unwind)
        try c.encode(net, forKey: .net)
    }
}

/// What a keeper run did (the JSON of `--report`).
public struct KeeperReport: Codable, Sendable {
    public var keeper: String
    public var watched: Int
    public var scans: Int
    public var liquidations: [KeeperLiquidation]
    /// Unwinds retried at the start of a later scan, for what an earlier unwind left.
    public var laterUnwinds: [KeeperUnwind]
    /// Liquidations that failed, by code (another keeper or the backstop came first, …).
    public var failed: [String: Int]
    /// Times an unhealthy account was left alone for its exposure below the keeper's minimum
    /// (counted once per scan that saw it).
    public var skippedDust: Int
    /// Times an unhealthy account was left alone because the keeper still held what an earlier
    /// takeover left unsold (counted once per scan that saw it; the ledger's backstop is there).
    public var skippedWhileHolding: Int
    /// What the keeper still held after its last unwind (empty: flat).
    public var held: [String]

    public var totalBonus: Int64 { liquidations.reduce(0) { $0 + $1.bonus } }
    /// Every unwind's realized PnL, fees included (the later retries too).
    public var totalUnwindPnl: Int64 { unwinds.reduce(0) { $0 + $1.realizedPnl } }
    public var totalFees: Int64 { unwinds.reduce(0) { $0 + $1.fees } }
    /// totalBonus + totalUnwindPnl: what the run earned, if `held` is empty.
    public var totalNet: Int64 { totalBonus + totalUnwindPnl }
    var unwinds: [KeeperUnwind] { liquidations.map(\.unwind) + laterUnwinds }

    enum CodingKeys: String, CodingKey {
        case keeper, watched, scans, liquidations, laterUnwinds, failed, skippedDust, skippedWhileHolding, held, totalBonus, totalUnwindPnl, totalFees, totalNet
    }
    public init(keeper: String, watched: Int, scans: Int, liquidations: [KeeperLiquidation], laterUnwinds: [KeeperUnwind] = [],
                failed: [String: Int], skippedDust: Int = 0, skippedWhileHolding: Int = 0, held: [String] = []) {
        self.keeper = keeper
        self.watched = watched
        self.scans = scans
        self.liquidations = liquidations
        self.laterUnwinds = laterUnwinds
        self.failed = failed
        self.skippedDust = skippedDust
        self.skippedWhileHolding = skippedWhileHolding
        self.held = held
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keeper = try c.decode(String.self, forKey: .keeper)
        watched = try c.decode(Int.self, forKey: .watched)
        scans = try c.decode(Int.self, forKey: .scans)
        liquidations = try c.decode([KeeperLiquidation].self, forKey: .liquidations)
        laterUnwinds = try c.decode([KeeperUnwind].self, forKey: .laterUnwinds)
        failed = try c.decode([String: Int].self, forKey: .failed)
        skippedDust = try c.decode(Int.self, forKey: .skippedDust)
        skippedWhileHolding = try c.decodeIfPresent(Int.self, forKey: .skippedWhileHolding) ?? 0
        held = try c.decode([String].self, forKey: .held)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(keeper, forKey: .keeper)
        try c.encode(watched, forKey: .watched)
        try c.encode(scans, forKey: .scans)
        try c.encode(liquidations, forKey: .liquidations)
        try c.encode(laterUnwinds, forKey: .laterUnwinds)
        try c.encode(failed, forKey: .failed)
        try c.encode(skippedDust, forKey: .skippedDust)
        try c.encode(skippedWhileHolding, forKey: .skippedWhileHolding)
        try c.encode(held, forKey: .held)
        try c.encode(totalBonus, forKey: .totalBonus)
        try c.encode(totalUnwindPnl, forKey: .totalUnwindPnl)
        try c.encode(totalFees, forKey: .totalFees)
        try c.encode(totalNet, forKey: .totalNet)
    }
}

/// The orders that unwind what the keeper holds: for each perp position, and for each non-USDC
/// balance that has a spot market, a reduce-only IOC order on the other side, its limit
/// `throughPpm` through the mark, inside the market's price band around the oracle, on the tick,
/// and its size the holding rounded up to the lot and to the minimum notional (a reduce-only
/// order never fills beyond the holding).
public struct UnwindPlanner: Sendable {
    public let assets: [AssetConfig]
    public let markets: [MarketConfig]
    /// How far through the mark the limit goes, ppm (20_000 = 2%), below 1,000,000.
    public let throughPpm: Int64

    public init(assets: [AssetConfig], markets: [MarketConfig], throughPpm: Int64) {
        self.assets = assets
        self.markets = markets
        self.throughPpm = min(max(throughPpm, 0), 999_999)
    }

    /// The unwind orders for `positions` (perp market, signed size) and `balances` (asset, signed
    /// net amount; USDC is skipped), at the marks and oracles of `views`; and the assets held
    /// that have no spot market (left as they are).
    public func orders(positions: [(market: MarketID, size: Int64)], balances: [(asset: AssetID, net: Int64)],
                       views: [MarketView]) -> (orders: [OrderRequest], unsellable: [AssetID]) {
        var out: [OrderRequest] = []
        var unsellable: [AssetID] = []
        for p in positions where p.size != 0 {
            if let order = order(market: p.market, held: p.size, views: views) { out.append(order) }
        }
        for b in balances where b.asset != 0 && b.net != 0 {
            guard let m = markets.firstIndex(where: { $0.kind == .spot && $0.base == b.asset }),
                  let order = order(market: MarketID(m), held: b.net, views: views) else {
                unsellable.append(b.asset)
                continue
            }
            out.append(order)
        }
        return (out, unsellable)
    }

    /// Whether the book, as `views` shows it, has a bid (for a sell) or an ask (for a buy) at or
    /// through the order's limit: an unwind sent without one would fill nothing.
    public func bookCanFill(_ order: OrderRequest, views: [MarketView]) -> Bool {
        guard let view = views.first(where: { $0.market == order.market }) else { return false }
        return order.side == .sell ? (view.bestBid ?? 0) >= order.price : (view.bestAsk ?? .max) <= order.price
    }

    /// The order that closes `held` (signed) on `market`; nil for an unknown market or one with no price.
    func order(market: MarketID, held: Int64, views: [MarketView]) -> OrderRequest? {
        guard Int(market) < markets.count, let view = views.first(where: { $0.market == market }), view.oracle > 0 else { return nil }
        let side: Side = held > 0 ? .sell : .buy
        let price = limit(side: side, market: Int(market), mark: view.mark > 0 ? view.mark : view.oracle, oracle: view.oracle)
        return OrderRequest(market: market, side: side, price: price, size: size(market: Int(market), held: held, price: price),
                            timeInForce: .ioc, reduceOnly: true)
    }

    /// `throughPpm` below the mark for a sell, above it for a buy, rounded to the tick toward the
    /// mark, and no further from the oracle than the price band allows.
    public func limit(side: Side, market m: Int, mark: Int64, oracle: Int64) -> Int64 {
        let mc = markets[m]
        let tick = Int128(mc.tick), one = Int128(1_000_000), band = Int128(mc.priceBandPpm)
        func down(_ x: Int128) -> Int128 { x / tick * tick }
        func up(_ x: Int128) -> Int128 { (x + tick - 1) / tick * tick }
        let price: Int128
        if side == .sell {
            let through = up(Int128(mark) * (one - Int128(throughPpm)) / one)
            let lowest = up((Int128(oracle) * (one - band) + one - 1) / one)
            price = max(through, lowest, tick)
        } else {
            let through = down(Int128(mark) * (one + Int128(throughPpm)) / one)
            let highest = down(Int128(oracle) * (one + band) / one)
            price = max(min(through, highest), tick)
        }
        return Int64(clamping: price)
    }

    /// |held| rounded up to the lot, and up to the market's minimum notional at `price`.
    public func size(market m: Int, held: Int64, price: Int64) -> Int64 {
        let mc = markets[m]
        let lot = Int128(mc.lot)
        let scale = (0..<assets[Int(mc.base)].decimals).reduce(Int128(1)) { r, _ in r * 10 }
        let minimum = (Int128(mc.minNotional) * scale + Int128(price) - 1) / Int128(max(price, 1))
        let wanted = max(Int128(held.magnitude), minimum)
        return Int64(clamping: (wanted + lot - 1) / lot * lot)
    }
}

/// A liquidation bot (`ballast cluster keeper`): scans the watched accounts' health on the nodes
/// and sends `liquidate` from its own funded account for every one that is not healthy; right
/// after each it unwinds what it took over with reduce-only IOC orders (`UnwindPlanner`), and
/// reads from its history what the ledger paid it and what the unwind realized.
public final class Keeper: Sendable {
    public let connection: ClusterConnection
    public let key: SigningKey
    public let watched: [Address]
    /// How far through the mark the unwind orders' limits go, ppm.
    public let unwindThroughPpm: Int64
    /// Targets whose exposure (perp notional plus non-USDC balances and debts, at mark) is below
    /// this many USDC base units are left alone: what a step releases of them, and so the bonus,
    /// rounds to nothing, and their 20% steps never end (each leaves 80%).
    public let minExposure: Int64
    let state = KeeperState()

    /// A keeper signing with `key`, watching `watched`, unwinding `unwindThroughPpm` through the
    /// mark (default 2%), skipping targets exposed to less than `minExposure` (default 10 USDC,
    /// the testnet's smallest order).
    public init(connection: ClusterConnection, key: SigningKey, watched: [Address], unwindThroughPpm: Int64 = 20_000,
                minExposure: Int64 = 10_000_000) {
        self.connection = connection
        self.key = key
        self.watched = watched
        self.unwindThroughPpm = unwindThroughPpm
        self.minExposure = minExposure
    }

    /// The USDC value at mark of `summary`'s perp positions and non-USDC balances (absolute),
    /// base units; a balance of an asset without a market counts at 0.
    static func exposure(_ summary: AccountSummary, params: ChainParameters, views: [MarketView]) -> Int64 {
        func scale(_ asset: AssetID) -> Int128 { (0..<params.assets[Int(asset)].decimals).reduce(Int128(1)) { r, _ in r * 10 } }
        var total: Int128 = 0
        for p in summary.positions {
            total += Int128(p.size.magnitude) * Int128(p.mark) / scale(params.markets[Int(p.market)].base)
        }
        for b in summary.balances where b.asset != 0 {
            let view = views.first { params.markets[Int($0.market)].base == b.asset }
            let price = view.map { $0.mark > 0 ? $0.mark : $0.oracle } ?? 0
            total += Int128(b.net.magnitude) * Int128(price) / scale(b.asset)
        }
        return Int64(clamping: total)
    }

    /// Moves `usdc` base units from the faucet to the keeper (it must pass its own margin
    /// checks after taking over a position).
    public func fund(usdc: Int64) async throws {
        let faucet = try connection.walletKey(ClusterLayout.faucetKeyName)
        let params = try await connection.parameters()
        var nonce = NonceClock()
        try await connection.submitAndWait(Transaction(chainID: params.chainId, signer: faucet.publicKey, nonce: nonce.next(),
                                                       action: .transfer(to: key.address, asset: 0, amount: usdc)).signed(with: faucet))
    }

    /// One pass over the watched accounts; returns the liquidations it made. `log` gets a line
    /// for each. What an earlier unwind left is unwound first.
    @discardableResult
    public func scan(log: @Sendable (String) -> Void = { _ in }) async throws -> [KeeperLiquidation] {
        let params = try await connection.parameters()
        state.scanned()
        if state.holdsSomething {
            // Recorded only when it sent something: while the book has nothing within the
            // limits, each scan just looks again.
            let retry = await unwind(params: params, after: 0)
            if retry.txId != nil || retry.error != nil {
                state.recordLater(retry)
                log("unwind of what was left: " + Self.describe(retry))
            }
        }
        var made: [KeeperLiquidation] = []
        // The marks, read once a scan finds an unhealthy account.
        var views: [MarketView]?
        // Up to 64 summaries in flight at once, pipelined over the nodes' connections.
        for first in stride(from: 0, to: watched.count, by: 64) {
            let chunk = Array(watched[first..<min(first + 64, watched.count)])
            let futures = chunk.enumerated().map { k, address in
                connection.clients[(first + k) % connection.clients.count].request(.GET, "/v1/accounts/\(address)")
            }
            for (address, future) in zip(chunk, futures) {
                let summary: AccountSummary
                do {
                    let answer = try await future.get()
                    guard answer.status == 200 else { throw ClusterError("HTTP \(answer.status) \(answer.errorCode)") }
                    summary = try answer.decode(AccountSummary.self)
                } catch {
                    log("cannot read account \(address): \(error)")
                    continue
                }
                guard summary.health != "healthy" else { continue }
                if views == nil { views = try await connection.get("/v1/markets", as: [MarketView].self) }
                switch Self.verdict(exposure: Self.exposure(summary, params: params, views: views ?? []), minExposure: minExposure,
                                    holding: state.holdsSomething) {
                case .skipDust:
                    state.skippedDust()
                    continue
                case .skipWhileHolding:
                    state.skippedWhileHolding()
                    continue
                case .liquidate:
                    break
                }
                let own = summary.mode == .portfolio ? summary.portfolio : summary.standard
                let tx = Transaction(chainID: params.chainId, signer: key.publicKey, nonce: state.nextNonce(),
                                     action: .liquidate(target: address)).signed(with: key)
                let receipt: ReceiptRecord
                do {
                    receipt = try await connection.submitAndWait(tx)
                } catch {
                    state.failed((error as? SubmitFailure)?.code ?? "error")
                    log("liquidation of \(address) failed: \(error)")
                    continue
                }
                // The takeover as the ledger recorded it in the keeper's history.
                var event: LiquidationEvent?
                do {
                    let node = try await readyNode(height: receipt.height)
                    for e in try await events(of: receipt.txId, from: receipt.height, node: node) {
                        if case .liquidation(let l) = e.detail { event = l }
                    }
                } catch {
                    log("cannot read the history of liquidation \(receipt.txId): \(error)")
                }
                if let event { state.tookOver(event.balances) }
                let unwind = await unwind(params: params, after: receipt.height)
                let done = KeeperLiquidation(
                    target: address.description, txId: receipt.txId, height: receipt.height, health: summary.health,
                    ratioPpm: own.ratioPpm, whole: event?.whole ?? false,
                    takenOver: event.map { Self.describe(takenOver: $0, params: params) } ?? ["(history not read)"],
                    bonus: event?.liquidatorBonus ?? 0, unwind: unwind)
                state.record(done)
                made.append(done)
                log("liquidated \(address) at height \(receipt.height) (\(summary.health), MR/V_liq \(Self.percent(own.ratioPpm))): "
                    + "took \(done.takenOver.joined(separator: ", ")); bonus \(Self.usdc(done.bonus)) USDC; "
                    + "unwind \(Self.describe(unwind)); net \(Self.usdc(done.net)) USDC")
            }
        }
        return made
    }

    /// What the keeper does with an unhealthy account.
    enum Verdict: Equatable {
        case liquidate
        /// Exposed to less than the minimum: a bonus of crumbs.
        case skipDust
        /// One takeover at a time: while an earlier one is not sold, another would add to a
        /// position the book could not take (in a crash the bids are thin and the price keeps
        /// falling: a keeper that kept taking over lost 22,000 USDC in the crash scenario). The
        /// ledger's end-of-block backstop takes what the keeper leaves.
        case skipWhileHolding
    }

    static func verdict(exposure: Int64, minExposure: Int64, holding: Bool) -> Verdict {
        if exposure < minExposure { return .skipDust }
        return holding ? .skipWhileHolding : .liquidate
    }

    /// Sends one transaction of reduce-only IOC orders that closes every perp position and sells
    /// (or buys back) every non-USDC balance the keeper holds, once a node has executed `after`
    /// (only the orders the book has depth for within their limits); then reads its fills and
    /// what is left. Never throws: a failure is in `error`.
    func unwind(params: ChainParameters, after height: UInt64) async -> KeeperUnwind {
        var result = KeeperUnwind()
        let planner = UnwindPlanner(assets: params.assets, markets: params.markets, throughPpm: unwindThroughPpm)
        // Whether what is held still has something to sell: then the next scan tries again.
        var sellable = true
        func plan(_ summary: AccountSummary, _ views: [MarketView]) -> [OrderRequest] {
            planner.orders(positions: summary.positions.map { ($0.market, $0.size) },
                           balances: summary.balances.map { ($0.asset, $0.net) }, views: views).orders
        }
        do {
            let node = try await readyNode(height: height)
            let summary = try await connection.clients[node].get("/v1/accounts/\(key.address)", as: AccountSummary.self)
            let views = try await connection.clients[node].get("/v1/markets", as: [MarketView].self)
            let planned = plan(summary, views)
            // Only the orders the book can fill now are sent; the rest wait for a later scan.
            let orders = planned.filter { planner.bookCanFill($0, views: views) }
            result.orders = orders.map { Self.describe($0, params: params) }
            result.left = Self.holdings(summary, params: params)
            sellable = !planned.isEmpty
            if !orders.isEmpty {
                let tx = Transaction(chainID: params.chainId, signer: key.publicKey, nonce: state.nextNonce(),
                                     action: .placeOrders(orders)).signed(with: key)
                let receipt = try await connection.submitAndWait(tx)
                result.txId = receipt.txId
                result.height = receipt.height
                let after = try await readyNode(height: receipt.height)
                for e in try await events(of: receipt.txId, from: receipt.height, node: after) {
                    guard case .fill(let f) = e.detail else { continue }
                    let mc = params.markets[Int(f.market)]
                    let pnl = mc.kind == .perp ? f.closedPnl : state.spotPnl(asset: mc.base, side: f.side, size: f.size, quote: f.quote)
                    result.realizedPnl += pnl - f.fee
                    result.fees += f.fee
                }
                let left = try await connection.clients[after].get("/v1/accounts/\(key.address)", as: AccountSummary.self)
                result.left = Self.holdings(left, params: params)
                sellable = !plan(left, views).isEmpty
            }
        } catch {
            result.error = "\(error)"
        }
        state.setHolds(sellable && (!result.left.isEmpty || result.error != nil))
        return result
    }

    /// The first node (from node 0 on) that has executed `height`.
    func readyNode(height: UInt64) async throws -> Int {
        var last: Error = ClusterError("no node reached height \(height)")
        for node in connection.clients.indices {
            do {
                try await connection.waitUntil(height: height, node: node, timeout: .seconds(5))
                return node
            } catch { last = error }
        }
        throw last
    }

    /// The keeper's history events of transaction `txId` (committed at `height`), in execution order.
    func events(of txId: String, from height: UInt64, node: Int) async throws -> [AccountEvent] {
        var found: [AccountEvent] = []
        var cursor: String?
        while true {
            let path = "/v1/accounts/\(key.address)/history?limit=200" + (cursor.map { "&before=\($0)" } ?? "")
            let page = try await connection.clients[node].get(path, as: HistoryPage.self)
            for (e, id) in zip(page.events, page.txIds) where id == txId { found.append(e) }
            // Newest first: stop below the transaction's block.
            guard let next = page.next, let oldest = page.events.last, oldest.height >= height else { break }
            cursor = next
        }
        return found.reversed()
    }

    /// Scans every `interval` until `until` passes or the task is cancelled.
    public func run(interval: Duration, until deadline: ContinuousClock.Instant?, log: @escaping @Sendable (String) -> Void) async {
        while !Task.isCancelled, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            do { try await scan(log: log) } catch { log("scan failed: \(error)") }
            try? await Task.sleep(for: interval)
        }
    }

    public var report: KeeperReport {
        state.report(keeper: key.address.description, watched: watched.count)
    }

    /// "BTC-PERP 0.16000000" per perp position, "ETH 1.00000000" per non-USDC balance.
    static func holdings(_ summary: AccountSummary, params: ChainParameters) -> [String] {
        summary.positions.filter { $0.size != 0 }.map { "\(params.markets[Int($0.market)].name) \(amount($0.size, params.assets[Int(params.markets[Int($0.market)].base)].decimals))" }
            + summary.balances.filter { $0.asset != 0 && $0.net != 0 }.map { "\(params.assets[Int($0.asset)].symbol) \(amount($0.net, params.assets[Int($0.asset)].decimals))" }
    }

    static func describe(takenOver e: LiquidationEvent, params: ChainParameters) -> [String] {
        e.positions.map { p in
            let mc = params.markets[Int(p.market)]
            return "\(mc.name) \(amount(p.size, params.assets[Int(mc.base)].decimals)) at \(usdc(p.price))"
        } + e.balances.map { b in "\(params.assets[Int(b.asset)].symbol) \(amount(b.amount, params.assets[Int(b.asset)].decimals)) for \(usdc(b.value)) USDC" }
    }

    static func describe(_ o: OrderRequest, params: ChainParameters) -> String {
        let mc = params.markets[Int(o.market)]
        return "\(o.side.name) \(mc.name) \(amount(o.size, params.assets[Int(mc.base)].decimals)) at \(usdc(o.price))"
    }

    static func describe(_ u: KeeperUnwind) -> String {
        if let error = u.error { return "failed (\(error))" + (u.left.isEmpty ? "" : ", holding \(u.left.joined(separator: ", "))") }
        if u.orders.isEmpty {
            return u.left.isEmpty ? "nothing to unwind" : "nothing sent (no market, or no depth within the limit yet): holding \(u.left.joined(separator: ", "))"
        }
        return u.orders.joined(separator: ", ") + " at height \(u.height.map(String.init) ?? "?"): realized \(usdc(u.realizedPnl)) USDC "
            + "(fees \(usdc(u.fees)))" + (u.left.isEmpty ? ", flat" : ", still holding \(u.left.joined(separator: ", "))")
    }

    static func amount(_ units: Int64, _ decimals: Int64) -> String {
        let scale = (0..<decimals).reduce(Int64(1)) { r, _ in r * 10 }
        let sign = units < 0 ? "-" : ""
        let m = units.magnitude
        let frac = String(m % UInt64(scale))
        return "\(sign)\(m / UInt64(scale)).\(String(repeating: "0", count: Int(decimals) - frac.count))\(frac)"
    }

    static func usdc(_ amount: Int64) -> String { String(format: "%.2f", Double(amount) / 1e6) }
    static func percent(_ ppm: Int64) -> String { ppm == Int64.max ? "∞" : String(format: "%.1f%%", Double(ppm) / 1e4) }
}

/// The keeper's tallies, shared by its scans.
final class KeeperState: @unchecked Sendable {
    private let lock = NSLock()
    private var liquidations: [KeeperLiquidation] = []
    private var laterUnwinds: [KeeperUnwind] = []
    private var failures: [String: Int] = [:]
    private var dust = 0
    private var whileHolding = 0
    private var scans = 0
    private var nonce = NonceClock()
    /// Whether the last unwind left something (or failed): the next scan unwinds first.
    private var holds = false
    private var held: [String] = []
    /// Per non-USDC asset, what the keeper took over and has not sold yet: amount and the USDC
    /// value at the takeover's mark, signed alike (negative: debt, for which it was paid).
    private var spotCost: [AssetID: (amount: Int64, value: Int64)] = [:]

    func scanned() { lock.withLock { scans += 1 } }
    func record(_ l: KeeperLiquidation) { lock.withLock { liquidations.append(l); held = l.unwind.left } }
    func recordLater(_ u: KeeperUnwind) { lock.withLock { laterUnwinds.append(u); held = u.left } }
    func failed(_ code: String) { lock.withLock { failures[code, default: 0] += 1 } }
    func skippedDust() { lock.withLock { dust += 1 } }
    func skippedWhileHolding() { lock.withLock { whileHolding += 1 } }
    func nextNonce() -> UInt64 { lock.withLock { nonce.next() } }
    var holdsSomething: Bool { lock.withLock { holds } }
    func setHolds(_ value: Bool) { lock.withLock { holds = value } }

    /// Adds the balances a liquidation handed over (the event's, as the liquidated account gave them up).
    func tookOver(_ balances: [LiquidationEvent.Balance]) {
        lock.withLock {
            for b in balances {
                let c = spotCost[b.asset] ?? (0, 0)
                spotCost[b.asset] = (c.amount &+ b.amount, c.value &+ b.value)
            }
        }
    }

    /// USDC realized by a spot fill of the unwind against the takeover value, fee apart: a sale
    /// gets `quote` for what cost size x value / amount; a buy-back of debt pays `quote` for what
    /// the keeper was paid size x value / amount. An asset with no takeover on record counts at
    /// the fill's own price (0).
    func spotPnl(asset: AssetID, side: Side, size: Int64, quote: Int64) -> Int64 {
        lock.withLock {
            guard let c = spotCost[asset], c.amount != 0 else { return 0 }
            let cost = Int64(clamping: Int128(size) * Int128(c.value) / Int128(c.amount))
            let left = side == .sell ? c.amount - size : c.amount + size
            spotCost[asset] = (left, Int64(clamping: Int128(c.value) * Int128(left) / Int128(c.amount)))
            return side == .sell ? quote - cost : cost - quote
        }
    }

    func report(keeper: String, watched: Int) -> KeeperReport {
        lock.withLock {
            KeeperReport(keeper: keeper, watched: watched, scans: scans, liquidations: liquidations, laterUnwinds: laterUnwinds,
                         failed: failures, skippedDust: dust, skippedWhileHolding: whileHolding, held: held)
        }
    }
}

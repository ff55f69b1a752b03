import BallastCrypto
import Ledger

/// What `POST /info` takes from an account's stored history (not from the ledger's state):
/// its fills (`userFills`), the funding each perp position paid (`cumFunding`), how much of each
/// order has filled (`origSz`) and what its spot holdings cost (`entryNtl`).
public struct InfoHistory: Sendable {
    /// Newest first, at most `InfoHistory.maxFills`.
    public var fills: [HLFill] = []
    /// Funding paid (positive) or received, USDC base units, per perp market.
    public var funding: [MarketID: FundingTotals] = [:]
    /// Base units filled per order id (ids are unique chain-wide).
    public var filled: [OrderID: Int64] = [:]
    /// Per spot base asset: the amount bought through fills still held, and the USDC it cost.
    public var spotCost: [AssetID: SpotCost] = [:]

    /// Most fills `userFills` answers, as Hyperliquid.
    public static let maxFills = 2_000
    /// Most history events read for one request (newest first): funding older than this is not
    /// counted in `cumFunding`.
    public static let maxEvents = 10_000

    public struct FundingTotals: Sendable, Equatable {
        public var allTime: Int64 = 0
        /// Since the fill that opened the current position.
        public var sinceOpen: Int64 = 0
        /// Since the last fill in the market.
        public var sinceChange: Int64 = 0

        public init(allTime: Int64 = 0, sinceOpen: Int64 = 0, sinceChange: Int64 = 0) {
            self.allTime = allTime
            self.sinceOpen = sinceOpen
            self.sinceChange = sinceChange
        }
    }

    /// Average cost of a spot holding: `amount` base units that cost `cost` USDC base units.
    /// Units that came in other than by a fill (a transfer, a borrow) cost nothing; units that
    /// leave (a sale, a transfer) take their average share of the cost with them.
    public struct SpotCost: Sendable, Equatable {
        public var amount: Int64 = 0
        public var cost: Int128 = 0

        public init(amount: Int64 = 0, cost: Int128 = 0) {
            self.amount = amount
            self.cost = cost
        }

        /// The holding is now `held` units: fewer keep their share of the cost (the average), more
        /// came in at no cost.
        mutating func resync(to held: Int64) {
            let now = max(0, held)
            if now < amount {
                cost = (try? Int128.mulDiv(cost, Int128(now), Int128(amount), rounding: .down)) ?? 0
            }
            amount = now
        }

        /// The cost of the `held` units the account has now.
        public func entryNotional(held: Int64) -> Int128 {
            var now = self
            now.resync(to: held)
            return now.cost
        }
    }

    public init() {}

    /// The digest of `events` (newest first, as the history API gives them). `transactionID`
    /// gives the id of the transaction at (height, index) for a fill's `hash`.
    public init(events: [AccountEvent], genesis: Genesis, transactionID: (UInt64, UInt32) -> String?) {
        let catalog = HLCatalog(genesis)
        var changed = Set<MarketID>(), opened = Set<MarketID>()
        // Funding, fills and order totals: newest first.
        for event in events {
            switch event.detail {
            case .fill(let f):
                if fills.count < InfoHistory.maxFills {
                    fills.append(InfoHistory.fill(f, event: event, catalog: catalog, transactionID: transactionID))
                }
                filled[f.orderId] = (filled[f.orderId] ?? 0).addingReportingOverflow(f.size).partialValue
                guard catalog.market(f.market).kind == .perp else { break }
                changed.insert(f.market)
                // Scanning newest first, the first fill that started from flat or flipped the
                // side opened the current position.
                let delta = f.side == .buy ? Int128(f.size) : -Int128(f.size)
                let after = Int128(f.startPosition) + delta
                if f.startPosition == 0 || (f.startPosition > 0) != (after > 0) { opened.insert(f.market) }
            case .liquidation(let l):
                for p in l.positions { changed.insert(p.market) }
            case .funding(let f):
                var totals = funding[f.market] ?? FundingTotals()
                let paid = f.amount == Int64.min ? Int64.max : -f.amount
                totals.allTime = totals.allTime.addingReportingOverflow(paid).partialValue
                if !changed.contains(f.market) { totals.sinceChange = totals.sinceChange.addingReportingOverflow(paid).partialValue }
                if !opened.contains(f.market) { totals.sinceOpen = totals.sinceOpen.addingReportingOverflow(paid).partialValue }
                funding[f.market] = totals
            case .transfer, .supply, .withdraw, .borrow, .repay:
                break
            }
        }
        // Spot cost, oldest first: buys add what they paid, sales and outflows keep the average.
        for event in events.reversed() {
            guard case .fill(let f) = event.detail, catalog.market(f.market).kind == .spot else { continue }
            let base = catalog.market(f.market).base
            var c = spotCost[base] ?? SpotCost()
            c.resync(to: f.startPosition)
            if f.side == .buy {
                c.amount = c.amount.addingReportingOverflow(f.size).partialValue
                c.cost += Int128(f.quote)
            } else {
                c.resync(to: c.amount - min(c.amount, f.size))
            }
            spotCost[base] = c
        }
    }

    /// A fill as Hyperliquid shows it.
    static func fill(_ f: FillEvent, event: AccountEvent, catalog: HLCatalog,
                     transactionID: (UInt64, UInt32) -> String?) -> HLFill {
        let m = catalog.market(f.market)
        let buy = f.side == .buy
        let direction: String
        if m.kind == .spot {
            direction = buy ? "Buy" : "Sell"
        } else if buy {
            direction = f.startPosition >= 0 ? "Open Long" : (Int128(f.size) <= -Int128(f.startPosition) ? "Close Short" : "Short > Long")
        } else {
            direction = f.startPosition <= 0 ? "Open Short" : (Int128(f.size) <= Int128(f.startPosition) ? "Close Long" : "Long > Short")
        }
        let hash = event.txIndex.flatMap { transactionID(event.height, $0) } ?? "0x" + String(repeating: "0", count: 64)
        return HLFill(coin: catalog.coin(f.market), px: catalog.price(f.price), sz: catalog.amount(f.size, of: m.base),
                      side: buy ? "B" : "A", time: event.timeMs, startPosition: catalog.amount(f.startPosition, of: m.base),
                      dir: direction, closedPnl: catalog.usd(f.closedPnl), hash: hash, oid: f.orderId, crossed: f.taker,
                      fee: catalog.usd(f.fee), tid: event.height << 32 | UInt64(f.tradeIndex), feeToken: catalog.genesis.assets[0].symbol,
                      cloid: f.cloid.map { "0x" + $0.hex })
    }
}

extension ValidatorRuntime {
    /// The history digest of `address` for `POST /info`: its newest `InfoHistory.maxEvents` events.
    func infoHistory(of address: Address) throws -> InfoHistory {
        var events: [AccountEvent] = []
        var cursor: HistoryCursor?
        repeat {
            let page = try history(of: address, before: cursor, limit: HTTPAPI.maxHistoryLimit)
            events += page.events
            cursor = page.next.flatMap(HistoryCursor.init)
        } while cursor != nil && events.count < InfoHistory.maxEvents
        var blocks: [UInt64: [String]] = [:]
        for event in events where blocks[event.height] == nil {
            if case .fill = event.detail, event.txIndex != nil {
                blocks[event.height] = (try? blockView(at: event.height))?.transactions ?? []
            }
        }
        return InfoHistory(events: events, genesis: genesis) { height, index in
            guard let ids = blocks[height], Int(index) < ids.count else { return nil }
            return ids[Int(index)]
        }
    }
}

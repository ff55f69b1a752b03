import BallastCrypto
import Ledger

/// What `POST /info` takes from an account's stored history (not from the ledger's state):
/// its fills (`userFills`) and the funding each perp position paid (`cumFunding`).
public struct InfoHistory: Sendable {
    /// Newest first, at most `InfoHistory.maxFills`.
    public var fills: [HLFill] = []
    /// Funding paid (positive) or received, USDC base units, per perp market.
    public var funding: [MarketID: FundingTotals] = [:]

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

    public init() {}

    /// The digest of `events` (newest first, as the history API gives them). `transactionID`
    /// gives the id of the transaction at (height, index) for a fill's `hash`.
    public init(events: [AccountEvent], genesis: Genesis, transactionID: (UInt64, UInt32) -> String?) {
        let catalog = HLCatalog(genesis)
        var changed = Set<MarketID>(), opened = Set<MarketID>()
        for event in events {
            switch event.detail {
            case .fill(let f):
                if fills.count < InfoHistory.maxFills {
                    fills.append(InfoHistory.fill(f, event: event, catalog: catalog, transactionID: transactionID))
                }
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

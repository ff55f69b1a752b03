import BallastCrypto
import Ledger
import Node

/// Decimals and names from the chain's parameters, for showing base units as amounts.
public struct Units: Sendable {
    public let parameters: ChainParameters

    public init(_ parameters: ChainParameters) { self.parameters = parameters }

    /// Decimals of `asset` (0 when the id is unknown: the raw base units are shown).
    public func decimals(_ asset: AssetID) -> Int {
        Int(asset) < parameters.assets.count ? Int(parameters.assets[Int(asset)].decimals) : 0
    }

    /// USDC's decimals: prices, values and margin numbers are USDC base units.
    public var quoteDecimals: Int { decimals(0) }

    /// The decimals of `market`'s sizes (its base asset's).
    public func sizeDecimals(_ market: MarketID) -> Int {
        Int(market) < parameters.markets.count ? decimals(parameters.markets[Int(market)].base) : 0
    }

    public func assetSymbol(_ asset: AssetID) -> String {
        Int(asset) < parameters.assets.count ? parameters.assets[Int(asset)].symbol : "asset \(asset)"
    }

    public func marketName(_ market: MarketID) -> String {
        Int(market) < parameters.markets.count ? parameters.markets[Int(market)].name : "market \(market)"
    }

    public func usdc(_ value: Int64) -> String { Amount.format(value, decimals: quoteDecimals) }
    public func price(_ value: Int64) -> String { Amount.formatTrimmed(value, decimals: quoteDecimals) }
    public func size(_ value: Int64, market: MarketID) -> String { Amount.formatTrimmed(value, decimals: sizeDecimals(market)) }
    /// An amount of `asset` with all its decimals, so a column of one asset lines up on the point.
    public func amount(_ value: Int64, asset: AssetID) -> String { Amount.format(value, decimals: decimals(asset)) }
}

/// The text `ballast query ...` prints for each answer of the API.
public enum Report {
    /// `/v1/status`.
    public static func status(_ s: NodeStatus) -> String {
        """
        chain:       \(s.chainId)
        node:        \(s.moniker) (validator \(s.validatorIndex))
        height:      \(s.height)
        round:       \(s.round) (leader \(s.leader))
        state root:  \(s.stateRoot)
        last block:  \(s.lastBlockTimeMs == 0 ? "none" : Amount.timestamp(ms: s.lastBlockTimeMs))
        peers:       \(s.peers.count) connected\(s.peers.isEmpty ? "" : "\n" + s.peers.map { "             \($0)" }.joined(separator: "\n"))
        mempool:     \(s.mempoolSize) transactions
        """
    }

    /// `/v1/accounts/{address}`: balances, positions, open orders, and the margin of both modes side by side.
    public static func account(_ a: AccountSummary, units u: Units) -> String {
        var out = ["account:  \(a.address)", "mode:     \(a.mode.name)", "health:   \(a.health)", ""]

        out.append("Balances")
        if a.balances.isEmpty {
            out.append("  none")
        } else {
            var t = TextTable(["ASSET", "WALLET", "SUPPLIED", "BORROWED", "NET"])
            for b in a.balances {
                t.add([b.symbol] + [b.wallet, b.supplied, b.borrowed, b.net].map { u.amount($0, asset: b.asset) })
            }
            out.append(t.render())
        }

        out.append("")
        out.append("Positions")
        if a.positions.isEmpty {
            out.append("  none")
        } else {
            var t = TextTable(["MARKET", "SIZE", "ENTRY", "MARK", "ORACLE", "UNREALIZED PNL", "LIQ BELOW", "LIQ ABOVE"])
            for p in a.positions {
                t.add([p.name, u.size(p.size, market: p.market), u.price(p.entryPrice), u.price(p.mark), u.price(p.oracle),
                       u.usdc(p.unrealizedPnl), p.liquidationPriceBelow.map(u.price) ?? "-", p.liquidationPriceAbove.map(u.price) ?? "-"])
            }
            out.append(t.render())
        }

        out.append("")
        out.append("Open orders")
        if a.openOrders.isEmpty {
            out.append("  none")
        } else {
            var t = TextTable(["MARKET", "ORDER", "SIDE", "PRICE", "SIZE", "RESERVED", "REDUCE-ONLY"])
            for o in a.openOrders {
                t.add([u.marketName(o.market), String(o.orderID), o.side.name, u.price(o.price), u.size(o.size, market: o.market),
                       u.usdc(o.reservedMargin), o.reduceOnly ? "yes" : "no"])
            }
            out.append(t.render())
        }

        out.append("")
        out.append("Margin (USDC)")
        let mark = { (mode: MarginMode) in a.mode == mode ? " *" : "" }
        var t = TextTable(["", "PORTFOLIO" + mark(.portfolio), "STANDARD" + mark(.standard)])
        let p = a.portfolio, s = a.standard
        t.add(["maintenance requirement", u.usdc(p.maintenance), u.usdc(s.maintenance)])
        t.add(["initial requirement", u.usdc(p.initial), u.usdc(s.initial)])
        t.add(["liquidation value", u.usdc(p.liquidationValue), u.usdc(s.liquidationValue)])
        t.add(["initial value", u.usdc(p.initialValue), u.usdc(s.initialValue)])
        t.add(["slack", u.usdc(p.slack), u.usdc(s.slack)])
        t.add(["maintenance / liq. value", Amount.percent(ppm: p.ratioPpm), Amount.percent(ppm: s.ratioPpm)])
        t.add(["liquidatable", p.liquidatable ? "YES" : "no", s.liquidatable ? "YES" : "no"])
        out.append(t.render())
        out.append("* the account's mode")
        out.append("portfolio requirement before the floor: \(u.usdc(a.portfolioRequirement))")
        out.append("borrow limit left: \(u.usdc(a.borrowLimitLeft))   reserved margin: \(u.usdc(a.reservedMargin))   weighted volume: \(u.usdc(a.weightedVolume))")
        return out.joined(separator: "\n")
    }

    /// `/v1/markets`.
    public static func markets(_ markets: [MarketView], units u: Units) -> String {
        var t = TextTable(["ID", "MARKET", "KIND", "ORACLE", "MARK", "BID", "ASK", "OPEN INTEREST", "FUNDING/INTERVAL"])
        for m in markets {
            t.add([String(m.market), m.name, m.kind.rawValue, u.price(m.oracle), u.price(m.mark),
                   m.bestBid.map(u.price) ?? "-", m.bestAsk.map(u.price) ?? "-",
                   m.kind == .perp ? u.size(m.openInterest, market: m.market) : "-",
                   m.kind == .perp ? Amount.percent(wad: m.lastFundingRate) : "-"])
        }
        return t.render()
    }

    /// `/v1/markets/{id}/book`: asks from the highest shown down to the best, then bids from the best down.
    public static func book(_ b: BookView, units u: Units) -> String {
        var t = TextTable(["SIDE", "PRICE", "SIZE", "ORDERS"])
        for level in b.asks.reversed() { t.add(["ask", u.price(level.price), u.size(level.size, market: b.market), String(level.orders)]) }
        for level in b.bids { t.add(["bid", u.price(level.price), u.size(level.size, market: b.market), String(level.orders)]) }
        var out = ["\(u.marketName(b.market)) (market \(b.market))"]
        if let ask = b.asks.first?.price, let bid = b.bids.first?.price {
            out[0] += "   spread \(u.price(ask - bid))"
        }
        out.append(b.asks.isEmpty && b.bids.isEmpty ? "  empty book" : t.render())
        return out.joined(separator: "\n")
    }

    /// `/v1/pools`.
    public static func pools(_ pools: [PoolView], units u: Units) -> String {
        var t = TextTable(["ASSET", "SUPPLIED", "BORROWED", "CASH", "UTILIZATION", "BORROW RATE", "SUPPLY RATE", "SUPPLY CAP", "BORROW CAP"])
        for p in pools {
            let a = { (v: Int64) in u.amount(v, asset: p.asset) }
            t.add([p.symbol, a(p.supplied), a(p.borrowed), a(p.cash), Amount.percent(wad: p.utilization, decimals: 2),
                   Amount.percent(wad: p.borrowRate), Amount.percent(wad: p.supplyRate), a(p.supplyCap), a(p.borrowCap)])
        }
        return t.render() + "\nrates are per year"
    }

    /// `/v1/accounts/{address}/history`: one row per event, newest first. AMOUNT is what the
    /// event moved for this account (size for a fill, USDC for funding, the asset for transfers
    /// and lending), signed from the account's point of view.
    public static func history(_ page: HistoryPage, units u: Units) -> String {
        var out = ["account:  \(page.address)"]
        if page.events.isEmpty {
            out.append("  no events")
        } else {
            var t = TextTable(["HEIGHT", "TIME", "TYPE", "MARKET/ASSET", "AMOUNT", "PRICE", "FEE", "PNL", "DETAIL"])
            for e in page.events { t.add(historyRow(e, account: page.address, units: u)) }
            out.append(t.render())
        }
        if let next = page.next { out.append("older events: --before \(next)") }
        return out.joined(separator: "\n")
    }

    static func historyRow(_ e: AccountEvent, account: Address, units u: Units) -> [String] {
        let head = [String(e.height), Amount.timestamp(ms: UInt64(clamping: e.timeMs)), e.kind.name]
        let symbol = { (asset: AssetID) in u.assetSymbol(asset) }
        let signed = { (text: String) in text.hasPrefix("-") ? text : "+" + text }
        switch e.detail {
        case .fill(let f):
            let size = (f.side == .buy ? "+" : "-") + u.size(f.size, market: f.market)
            return head + [u.marketName(f.market), size, u.price(f.price), u.usdc(f.fee), u.usdc(f.closedPnl),
                           "\(f.taker ? "taker" : "maker") order \(f.orderId) vs \(f.counterparty)"]
        case .funding(let f):
            return head + [u.marketName(f.market), signed(u.usdc(f.amount)), u.price(f.oraclePrice), "", "",
                           "position \(u.size(f.positionSize, market: f.market)), rate \(Amount.percent(wad: Ledger.wadString(f.rate), decimals: 6))"]
        case .liquidation(let l):
            let role = l.liquidated == account ? "liquidated by" : "took over"
            let other = l.liquidated == account ? (l.byBackstop ? "the backstop" : l.liquidator.description) : l.liquidated.description
            let positions = l.positions.map { "\(u.marketName($0.market)) \(u.size($0.size, market: $0.market)) at \(u.price($0.price))" }
            let balances = l.balances.map { "\(symbol($0.asset)) \(u.amount($0.amount, asset: $0.asset))" }
            var detail = "\(role) \(other)" + (l.whole ? " (whole)" : "")
            if !(positions + balances).isEmpty { detail += ": " + (positions + balances).joined(separator: ", ") }
            let paid = [("bonus", l.liquidatorBonus), ("insurance fee", l.insuranceFee), ("fund paid", l.insurancePaid),
                        ("socialized", l.socialized), ("deficit", l.deficit)].filter { $0.1 != 0 }
            if !paid.isEmpty { detail += "; " + paid.map { "\($0.0) \(u.usdc($0.1))" }.joined(separator: ", ") }
            return head + ["", "", "", "", u.usdc(l.realizedPnl), detail]
        case .transfer(let t):
            let outgoing = t.from == account
            let amount = u.amount(outgoing ? -t.amount : t.amount, asset: t.asset)
            return head + [symbol(t.asset), signed(amount), "", "", "", outgoing ? "to \(t.to)" : "from \(t.from)"]
        case .supply(let l), .withdraw(let l), .borrow(let l), .repay(let l):
            return head + [symbol(l.asset), u.amount(l.amount, asset: l.asset), "", "", "",
                           "supplied \(u.amount(l.suppliedAfter, asset: l.asset)), owed \(u.amount(l.owedAfter, asset: l.asset)) after"]
        }
    }

    /// `/v1/blocks/{height}`.
    public static func block(_ b: BlockView) -> String {
        var out = [
            "height:      \(b.height)",
            "round:       \(b.round)",
            "hash:        \(b.hash)",
            "parent:      \(b.parent)",
            "time:        \(Amount.timestamp(ms: b.timestampMs))",
            "proposer:    validator \(b.proposer)",
            "state root:  \(b.stateRoot)",
            "transactions: \(b.transactions.count)",
        ]
        out += b.transactions.map { "  \($0)" }
        return out.joined(separator: "\n")
    }

    /// A transaction's state: pending, or committed with its receipt. Order results show
    /// their sizes in whole units when `units` and the market of each order (`orderMarkets`,
    /// in the transaction's order) are known, else in base units.
    public static func transaction(_ t: TransactionAnswer, units: Units? = nil, orderMarkets: [MarketID] = []) -> String {
        guard let r = t.receipt else { return "\(t.txId): pending (in the mempool, not yet committed)" }
        var out = ["\(t.txId): committed at height \(r.height), index \(r.index): " + (r.ok ? "ok" : "REJECTED \(r.code ?? "")")]
        if !r.ok, let message = r.message { out.append("  \(message)") }
        if !r.orders.isEmpty {
            let sized = units != nil && orderMarkets.count == r.orders.count
            var table = TextTable(["ORDER", sized ? "FILLED" : "FILLED (base units)", sized ? "RESTING" : "RESTING (base units)", "RESULT"])
            for (i, o) in r.orders.enumerated() {
                let size = { (v: Int64) in sized ? units?.size(v, market: orderMarkets[i]) ?? String(v) : String(v) }
                table.add([o.orderId.map(String.init) ?? "-", size(o.filled), size(o.resting),
                           o.code.map { "\($0): \(o.message ?? "")" } ?? "ok"])
            }
            out.append(table.render())
        }
        if let notice = r.notice { out.append("note: \(notice)") }
        return out.joined(separator: "\n")
    }
}

import BallastCrypto
@testable import Cluster
import Foundation
import Histogram
import Ledger
@testable import Node
import Testing

/// The pieces of `cluster load`, `keeper` and `verify` that need no cluster.
@Suite struct LoadToolsTests {
    static func testnet() throws -> Genesis {
        let bytes = try #require(FileManager.default.contents(atPath: ClusterGenesisTests.templatePath))
        return try NodeHome.parseGenesis([UInt8](bytes), source: "testnet")
    }

    @Test func theMixHasItsSharesAndEveryOrderIsOnTickLotAndAboveTheMinimum() throws {
        let genesis = try Self.testnet()
        var mix = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 100, seed: 7)
        var kinds: [String: Int] = [:]
        var roles: [LoadRole: Int] = [:]
        var quotes = 0
        let draws = 20_000
        for _ in 0..<draws {
            let (account, action) = mix.next()
            #expect((0..<100).contains(account))
            kinds[action.kind.name, default: 0] += 1
            roles[LoadRole.of(account), default: 0] += 1
            guard case .placeOrders(let orders) = action else { continue }
            if orders.count == 2, orders[0].timeInForce == .gtc, orders[0].market == orders[1].market {
                // A quote: a bid below the mark and an ask above it.
                quotes += 1
                let mark = mix.marks[Int(orders[0].market)]
                #expect(orders[0].side == .buy && orders[0].price < mark && orders[1].side == .sell && orders[1].price > mark)
            }
            for o in orders {
                let mc = genesis.markets[Int(o.market)]
                #expect(o.price % mc.tick == 0 && o.size % mc.lot == 0 && o.size > 0)
                let scale = Int128((0..<genesis.assets[Int(mc.base)].decimals).reduce(Int64(1)) { r, _ in r * 10 })
                #expect(Int128(o.size) * Int128(o.price) / scale >= Int128(mc.minNotional))
                // Within 0.5% of the mark: inside every market's 5% price band.
                let mark = mix.marks[Int(o.market)]
                #expect(abs(o.price - mark) * 200 <= mark + mc.tick * 200)
            }
        }
        // 35% quotes + 20% cancels (a quote when nothing is left to cancel) + 25% taker + 10% basis
        // + 5% leveraged buys = 95% orders or cancels.
        let orders = kinds["order", default: 0], cancels = kinds["cancelAll", default: 0]
        #expect(abs(orders + cancels - draws * 95 / 100) < draws / 50)
        #expect(cancels > draws * 15 / 100 && cancels <= draws * 20 / 100 + draws / 50)
        let lending = ["setMarginMode", "supply", "borrow", "repay"].map { kinds[$0, default: 0] }.reduce(0, +)
        #expect(abs(lending - draws / 20) < draws / 50)
        #expect(abs(roles[.taker, default: 0] - draws / 4) < draws / 50)
        #expect(abs(roles[.leveraged, default: 0] - draws / 20) < draws / 50)
        #expect(quotes > draws * 33 / 100)
        // The same seed gives the same stream.
        var a = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 100, seed: 7)
        var b = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 100, seed: 7)
        for _ in 0..<500 {
            let (i, x) = a.next(), (j, y) = b.next()
            #expect(i == j && x == y)
        }
    }

    /// Makers cancel what they quoted, so the orders they leave resting stay bounded however
    /// long the load runs, and a cancel is never for a market whose oldest quote is one of the
    /// maker's `quotesYoung` youngest (one that young could still be on its way to the book).
    @Test func makersKeepTheirRestingQuotesBounded() throws {
        let genesis = try Self.testnet()
        var mix = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 100, seed: 13)
        // Each maker's orders on the book: client id -> market, and their order of placing.
        var live: [Int: [ClientOrderID: MarketID]] = [:]
        var placedIDs: [Int: [ClientOrderID]] = [:]
        var peak = 0, placed = 0, cancels = 0
        for draw in 0..<40_000 {
            let (i, action) = mix.next()
            switch action {
            case .placeOrders(let orders) where LoadRole.of(i) == .marketMaker:
                for o in orders {
                    guard let id = o.clientID else { continue }
                    live[i, default: [:]][id] = o.market
                    placedIDs[i, default: []].append(id)
                    placed += 1
                }
            case .cancelAll(let market?):
                cancels += 1
                let mine = live[i] ?? [:]
                let oldest = (placedIDs[i] ?? []).first { mine[$0] != nil }
                // The market of the maker's oldest live quote, placed before its youngest pairs.
                #expect(oldest.flatMap { mine[$0] } == market)
                let placedAfter = (placedIDs[i] ?? []).count - 1 - (oldest.flatMap { placedIDs[i]?.firstIndex(of: $0) } ?? 0)
                #expect(placedAfter >= 2 * LoadMix.quotesYoung)
                live[i] = mine.filter { $0.value != market }
            default: break
            }
            if draw > 20_000 { peak = max(peak, live.values.map(\.count).max() ?? 0) }
        }
        let resting = live.values.map(\.count).reduce(0, +)
        // At most `quotesKept` pairs per maker (40 makers).
        #expect(cancels > 6_000 && placed > 20_000)
        #expect(peak <= 2 * LoadMix.quotesKept && resting <= 40 * 2 * LoadMix.quotesKept)
    }

    /// At a fixed rate the generator sends whole batches, each when its last transaction is due,
    /// and sleeps until the next one is.
    @Test func aFixedRateSendsWholeBatchesWhenTheyAreDue() {
        // 2,600/s in batches of 50: one every 19.2 ms.
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.010, sent: 0, batch: 50) == 0)
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.0193, sent: 0, batch: 50) == 50)
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.030, sent: 50, batch: 50) == 0)
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.100, sent: 50, batch: 50) == 200)
        // One per request: everything due.
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.010, sent: 20, batch: 1) == 6)
        #expect(LoadGenerator.dueAtFixedRate(2_600, elapsed: 0.010, sent: 30, batch: 1) == 0)
        // Sleep until the next batch: 50 sent at 10 ms, the second batch is due at 38.5 ms.
        #expect(abs(LoadGenerator.waitAtFixedRate(2_600, elapsed: 0.010, sent: 50, batch: 50) - 0.02846) < 0.0001)
        #expect(LoadGenerator.waitAtFixedRate(2_600, elapsed: 0.050, sent: 50, batch: 50) == 0.001)
        #expect(LoadGenerator.waitAtFixedRate(10, elapsed: 0, sent: 0, batch: 50) == 0.1)
    }

    /// The keeper takes over an unhealthy account only when it is exposed to at least the minimum
    /// and the keeper has sold what its earlier takeovers gave it.
    @Test func theKeeperTakesOverOneAccountAtATime() {
        #expect(Keeper.verdict(exposure: 10_000_000, minExposure: 10_000_000, holding: false) == .liquidate)
        #expect(Keeper.verdict(exposure: 10_000_000, minExposure: 10_000_000, holding: true) == .skipWhileHolding)
        #expect(Keeper.verdict(exposure: 9_999_999, minExposure: 10_000_000, holding: false) == .skipDust)
        #expect(Keeper.verdict(exposure: 9_999_999, minExposure: 10_000_000, holding: true) == .skipDust)
    }

    /// B takes the mean of the raw rates measured before and after the load, and says so.
    @Test func theBoundIsTheMeanOfItsMeasurements() {
        let both = ThroughputBound(cores: 2, rawVerifiesPerSecond: [20_000, 19_000], validators: 4)
        #expect(both.rawVerifiesPerSecond == 19_500 && both.perSecond == 9_750 && both.measurements == [20_000, 19_000])
        #expect(both.rawRateText == "19500 raw verifies/s (mean of 20000 before the load and 19000 after)")
        let before = ThroughputBound(cores: 2, rawVerifiesPerSecond: [20_001], validators: 4)
        #expect(before.perSecond == 10_001 && before.rawRateText == "20001 raw verifies/s")
    }

    /// A manifest's `load.mix` weights set the shares: here half takers, a quarter basis
    /// trades, a quarter lending, and no quotes, cancels or leveraged buys at all.
    @Test func theManifestsMixWeightsSetTheShares() throws {
        let genesis = try Self.testnet()
        var mix = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 100, seed: 11)
        mix.weights = Manifest.Mix(maker: 0, taker: 2, basis: 1, borrower: 1, cancel: 0, leveraged: 0)
        var roles: [LoadRole: Int] = [:]
        let draws = 8_000
        for _ in 0..<draws { roles[LoadRole.of(mix.next().account), default: 0] += 1 }
        #expect(roles[.marketMaker] == nil && roles[.leveraged] == nil)
        #expect(abs(roles[.taker, default: 0] - draws / 2) < draws / 40)
        // A basis trader with nothing to unwind or open this time hands its turn to a borrower.
        #expect(abs(roles[.basisTrader, default: 0] + roles[.borrower, default: 0] - draws / 2) < draws / 40)
        #expect(roles[.basisTrader, default: 0] > draws / 8)
        let soak = try JSONDecoder().decode(Manifest.Mix.self, from: Data(#"{"maker": 35, "taker": 20, "basis": 20, "borrower": 15, "cancel": 10}"#.utf8))
        #expect(soak == Manifest.Mix(maker: 35, taker: 20, basis: 20, borrower: 15, cancel: 10, leveraged: 5))
    }

    @Test func borrowersTakePortfolioMarginSupplyOnceThenBorrowAndRepayInTurn() throws {
        let genesis = try Self.testnet()
        var mix = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 20, seed: 3)
        var byAccount: [Int: [Action]] = [:]
        for _ in 0..<2_000 {
            let (i, action) = mix.next()
            if LoadRole.of(i) == .borrower { byAccount[i, default: []].append(action) }
        }
        for (_, actions) in byAccount {
            #expect(Array(actions.prefix(2)) == [.setMarginMode(.portfolio), .supply(asset: 0, amount: 5_000_000_000)])
            for (k, action) in actions.dropFirst(2).enumerated() {
                #expect(action == (k % 2 == 0 ? .borrow(asset: 0, amount: 1_000_000_000) : .repay(asset: 0, amount: 1_000_000_000)))
            }
        }
        #expect(byAccount.count == 3)
    }

    @Test func leveragedAccountsBuyPerpsThroughTheMark() throws {
        let genesis = try Self.testnet()
        var mix = LoadMix(assets: genesis.assets, markets: genesis.markets, accounts: 20, seed: 5)
        var buys = 0
        for _ in 0..<4_000 {
            let (i, action) = mix.next()
            guard LoadRole.of(i) == .leveraged else { continue }
            guard case .placeOrders(let orders) = action, orders.count == 1 else { Issue.record("\(action)"); continue }
            let o = orders[0], mc = genesis.markets[Int(o.market)]
            #expect(mc.kind == .perp && o.side == .buy && o.timeInForce == .ioc && o.price > mix.marks[Int(o.market)])
            buys += 1
        }
        #expect(buys > 100)
        // One account in twenty, funded with 3,000 USDC and nothing else.
        #expect(LoadRole.of(19) == .leveraged && LoadRole.of(39) == .leveraged && LoadRole.of(18) == .borrower)
        #expect(LoadRole.leveraged.funding.usdc == 3_000_000_000 && !LoadRole.leveraged.funding.otherAssets)
    }

    @Test func fundingGivesEachAccountAtMostHalfTheFaucetsShare() throws {
        let genesis = try Self.testnet()
        let faucet = try JSONDecoder().decode([BalanceView].self, from: Data("""
            [{"asset": 0, "symbol": "USDC", "wallet": 100000000000000, "supplied": 0, "borrowed": 0, "net": 0},
             {"asset": 1, "symbol": "BTC", "wallet": 100000000000, "supplied": 0, "borrowed": 0, "net": 0},
             {"asset": 3, "symbol": "HYPE", "wallet": 1000000000, "supplied": 0, "borrowed": 0, "net": 0}]
            """.utf8))
        // 100,000 USDC; 20,000 USDC of BTC at 62,000 = 0.32258064 BTC; no ETH at the faucet; HYPE capped at 10 / (2 x 50) of its 10 HYPE.
        #expect(LoadGenerator.fundingAmounts(assets: genesis.assets, faucet: faucet, accounts: 50)
                == [100_000_000_000, 32_258_064, 0, 10_000_000])
    }

    @Test func theTrackerTimesCommitsAndCountsRefusalsAndFailures() throws {
        let tracker = CommitTracker()
        let ids = (0..<4).map { Blake2b.hash256([UInt8($0)]) }
        for id in ids { tracker.submitted(id, bytes: Array(id.bytes.prefix(4))) }
        tracker.accepted(ids[0..<2], by: 1)
        tracker.accepted([ids[2]], by: 3)
        // What node 3 admitted and has not committed, with its bytes, handed out once (for another node).
        let stranded = tracker.takeAdmitted(by: 3)
        #expect(stranded.map(\.id) == [ids[2]] && stranded.map(\.bytes) == [Array(ids[2].bytes.prefix(4))])
        #expect(tracker.takeAdmitted(by: 3).isEmpty && tracker.takeAdmitted(by: 2).isEmpty)
        #expect(tracker.takeAdmitted(by: 1).map(\.id) == ids[0..<2].sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) })
        tracker.rejected(ids[3], code: "nonce_rejected")
        func receipt(_ id: Hash256, ok: Bool, code: String? = nil, orderCode: String? = nil) -> BlockReceipts.Entry {
            let orders = orderCode.map { [ReceiptRecord.OrderRecord(orderId: nil, filled: 0, resting: 0, code: $0, message: nil)] } ?? []
            return .init(id: id, index: 0, outcome: StoredReceipt(ok: ok, code: code, message: nil, orders: orders, notice: nil))
        }
        let seen = DispatchTime.now().uptimeNanoseconds + 20_000_000
        // A receipt of a transaction this tracker never sent is ignored.
        tracker.committed(BlockReceipts(height: 5, entries: [
            receipt(ids[0], ok: true), receipt(ids[1], ok: false, code: "insufficient_margin"),
            receipt(Blake2b.hash256([9]), ok: true), receipt(ids[2], ok: true, orderCode: "would_cross"),
        ]), seenAt: seen)
        let counts = tracker.counts
        #expect(counts.submitted == 4 && counts.accepted == 3 && counts.committed == 3 && counts.committedOk == 2 && counts.pending == 0)
        #expect(counts.rejected == ["nonce_rejected": 1] && counts.failed == ["insufficient_margin": 1] && counts.orderErrors == ["would_cross": 1])
        let latency = tracker.latency
        #expect(latency.count == 3 && latency.p50Ms >= 20 && latency.p99Ms < 10_000)
        // A transaction that never commits is given up on.
        tracker.submitted(Blake2b.hash256([7]))
        #expect(tracker.expire(olderThan: 0) == 1 && tracker.counts.rejected["not_committed"] == 1 && tracker.pendingCount == 0)
    }

    @Test(.timeLimit(.minutes(1))) func theSenderWaitsForCommitsInsteadOfPolling() async throws {
        let tracker = CommitTracker()
        tracker.signalChange()
        await tracker.waitForChange()   // a change before the wait: returns at once
        let id = Blake2b.hash256([1])
        tracker.submitted(id)
        // Waits while nothing happens, and wakes with the commit.
        let waiter = Task { () -> Int in
            await tracker.waitForChange()
            return tracker.pendingCount
        }
        try await Task.sleep(for: .milliseconds(100))
        tracker.committed(BlockReceipts(height: 1, entries: [
            .init(id: id, index: 0, outcome: StoredReceipt(ok: true, code: nil, message: nil, orders: [], notice: nil)),
        ]), seenAt: DispatchTime.now().uptimeNanoseconds)
        #expect(await waiter.value == 0)
        #expect(tracker.counts.committed == 1)
    }

    @Test func latencyPercentilesComeFromTheHistogram() {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        for us in 1...1_000 { _ = h.record(UInt64(us) * 1_000) }   // 1 ms … 1,000 ms
        let s = LatencySummary(h)
        #expect(s.count == 1_000)
        // Three significant digits: each percentile within 0.1% of the exact value.
        #expect(abs(s.p50Ms - 500) <= 0.5 && abs(s.p90Ms - 900) <= 0.9 && abs(s.p99Ms - 990) <= 1)
        #expect(abs(s.maxMs - 1_000) <= 1 && abs(s.meanMs - 500.5) <= 0.6)
        #expect(LatencySummary(Histogram<UInt64>(highestTrackableValue: 1_000)).p99Ms == 0)
    }

    @Test func theFirstDivergenceNamesTheHeightFieldAndOddNode() {
        typealias B = ClusterVerifier.BlockIdentity
        let same = (1...5).map { B(hash: "h\($0)", stateRoot: "r\($0)") }
        #expect(ClusterVerifier.firstDivergence([same, same, same, same]) == nil)
        var badRoot = same
        badRoot[3] = B(hash: "h4", stateRoot: "bad")
        var badHash = same
        badHash[4] = B(hash: "other", stateRoot: "r5")
        let d = ClusterVerifier.firstDivergence([same, same, badRoot, badHash])
        #expect(d == ClusterVerifier.Divergence(height: 4, field: "stateRoot", values: ["r4", "r4", "bad", "r4"], nodes: [2]))
        #expect(d?.description == "height 4: stateRoot of node 2 is bad, the others have r4")
        #expect(ClusterVerifier.firstDivergence([same, badHash])?.height == 5)
        #expect(ClusterVerifier.firstDivergence([same, badHash])?.field == "hash")
        // Heights past the shortest list are not compared.
        #expect(ClusterVerifier.firstDivergence([same, Array(badRoot.prefix(3))]) == nil)
    }

    /// A market view as `/v1/markets` serves it (the type has no public initializer).
    static func view(_ market: MarketID, mark: Int64, oracle: Int64, bid: Int64? = nil, ask: Int64? = nil) throws -> MarketView {
        let book = (bid.map { #","bestBid":\#($0)"# } ?? "") + (ask.map { #","bestAsk":\#($0)"# } ?? "")
        let json = #"{"market":\#(market),"name":"m","kind":"perp","oracle":\#(oracle),"mark":\#(mark),"openInterest":0,"lastFundingRate":"0"\#(book)}"#
        return try JSONDecoder().decode(MarketView.self, from: Data(json.utf8))
    }

    /// The keeper's unwind: a reduce-only IOC order per perp position and per non-USDC balance,
    /// 2% through the mark on the tick (toward the mark), never past the 5% band around the
    /// oracle, the size up to the lot and the 10 USDC minimum; USDC and assets without a spot
    /// market are left.
    @Test func theKeepersUnwindOrdersCloseEveryHoldingThroughTheMarkInsideTheBand() throws {
        let genesis = try Self.testnet()
        // Markets: 0 BTC/USDC, 1 ETH/USDC, 2 HYPE/USDC, 3 BTC-PERP, 4 ETH-PERP, 5 HYPE-PERP.
        let views = try [Self.view(0, mark: 60_500_000_000, oracle: 60_400_000_000), Self.view(1, mark: 3_001_234_567, oracle: 3_000_000_000),
                         Self.view(3, mark: 60_500_000_000, oracle: 60_400_000_000), Self.view(4, mark: 3_001_234_567, oracle: 3_000_000_000)]
        let planner = UnwindPlanner(assets: genesis.assets, markets: genesis.markets, throughPpm: 20_000)
        let (orders, unsellable) = planner.orders(
            positions: [(3, 16_001_234), (4, -50_000_000), (3, 0)],
            balances: [(0, 5_000_000), (1, 2_500_000), (2, -1_000_000_000), (9, 7)], views: views)
        #expect(orders == [
            // 60,500 x 0.98 = 59,290 exactly; 0.16001234 BTC up to the lot of 0.00001.
            OrderRequest(market: 3, side: .sell, price: 59_290_000_000, size: 16_002_000, timeInForce: .ioc, reduceOnly: true),
            // 3,001.234567 x 1.02 = 3,061.25925834, down to the 0.01 tick.
            OrderRequest(market: 4, side: .buy, price: 3_061_250_000, size: 50_000_000, timeInForce: .ioc, reduceOnly: true),
            // 0.025 BTC is 1,482 USDC at 59,290: above the minimum as it is.
            OrderRequest(market: 0, side: .sell, price: 59_290_000_000, size: 2_500_000, timeInForce: .ioc, reduceOnly: true),
            // A debt of 10 ETH is bought back.
            OrderRequest(market: 1, side: .buy, price: 3_061_250_000, size: 1_000_000_000, timeInForce: .ioc, reduceOnly: true),
        ])
        #expect(unsellable == [9])
        // 8% through the mark would be 55,660, below the band's 60,400 x 0.95 = 57,380: clamped.
        let deep = UnwindPlanner(assets: genesis.assets, markets: genesis.markets, throughPpm: 80_000)
        #expect(deep.limit(side: .sell, market: 3, mark: 60_500_000_000, oracle: 60_400_000_000) == 57_380_000_000)
        #expect(deep.limit(side: .buy, market: 3, mark: 60_500_000_000, oracle: 60_400_000_000) == 63_420_000_000)
        // 0.00001 BTC at 59,290 is 0.59 USDC: raised to 10 USDC / 59,290 = 0.00016866.., up to the lot: 0.00017.
        #expect(planner.size(market: 3, held: 1_000, price: 59_290_000_000) == 17_000)
        #expect(planner.size(market: 3, held: -16_001_234, price: 59_290_000_000) == 16_002_000)
        // Sent only when the book has depth within the limit: a bid at or above a sell's limit.
        let sell = orders[0], buy = orders[1]
        #expect(!planner.bookCanFill(sell, views: views) && !planner.bookCanFill(buy, views: views))
        let book = try [Self.view(3, mark: 60_500_000_000, oracle: 60_400_000_000, bid: 59_290_000_000),
                        Self.view(4, mark: 3_001_234_567, oracle: 3_000_000_000, bid: 2_990_000_000, ask: 3_061_260_000)]
        #expect(planner.bookCanFill(sell, views: book) && !planner.bookCanFill(buy, views: book))
        let deeper = try [Self.view(4, mark: 3_001_234_567, oracle: 3_000_000_000, ask: 3_061_250_000)]
        #expect(planner.bookCanFill(buy, views: deeper) && !planner.bookCanFill(sell, views: deeper))
    }

    /// A spot unwind's PnL is counted against the takeover value: a sale against what the
    /// keeper paid, a buy-back of debt against what it was paid; each fill uses up its share.
    @Test func theKeepersSpotUnwindCountsAgainstTheTakeoverValue() throws {
        let state = KeeperState()
        let balances = try JSONDecoder().decode([LiquidationEvent.Balance].self, from: Data("""
            [{"asset": 1, "amount": 2500000, "value": 1500000000}, {"asset": 2, "amount": -1000000000, "value": -30000000000}]
            """.utf8))
        // 0.025 BTC taken over for 1,500 USDC (60,000 each); 10 ETH of debt for which it was paid 30,000 USDC.
        state.tookOver(balances)
        // 0.01 BTC sold for 610 USDC: it cost 600.
        #expect(state.spotPnl(asset: 1, side: .sell, size: 1_000_000, quote: 610_000_000) == 10_000_000)
        // The other 0.015 BTC cost 900: sold for 885, a 15 USDC loss.
        #expect(state.spotPnl(asset: 1, side: .sell, size: 1_500_000, quote: 885_000_000) == -15_000_000)
        // 4 ETH of the debt bought back for 11,800: the keeper was paid 12,000 for them.
        #expect(state.spotPnl(asset: 2, side: .buy, size: 400_000_000, quote: 11_800_000_000) == 200_000_000)
        #expect(state.spotPnl(asset: 2, side: .buy, size: 600_000_000, quote: 18_000_000_000) == 0)
        // Nothing on record (HYPE): counted at the fill's own price.
        #expect(state.spotPnl(asset: 3, side: .sell, size: 100_000_000, quote: 40_000_000) == 0)
    }

    @Test func ratesParse() {
        #expect(LoadRate("max") == .max && LoadRate("250") == .fixed(250))
        #expect(LoadRate("0") == nil && LoadRate("-3") == nil && LoadRate("fast") == nil)
    }
}

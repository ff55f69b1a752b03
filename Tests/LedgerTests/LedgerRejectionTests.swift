import Testing
import BallastCrypto
@testable import Ledger

/// Every refusal names its error; the nonce is consumed and nothing else changes
/// (`TestChain.expectRejected` compares the whole state).
@Suite struct LedgerRejectionTests {
    typealias C = TestChain
    static func order(_ market: MarketID = C.btcPerp, _ side: Side = .buy, price: Int64 = C.usd(62_000),
                      size: Int64 = C.oneBTC, tif: TimeInForce = .gtc, reduceOnly: Bool = false) -> Action {
        .placeOrders([OrderRequest(market: market, side: side, price: price, size: size, timeInForce: tif, reduceOnly: reduceOnly)])
    }

    @Test func nonces() throws {
        var chain = try TestChain()
        let a = chain.trader("nonce-user", usdc: 10_000)
        let r = chain.run(a, .cancelAll(market: nil))
        #expect(r.succeeded)
        let used = chain.nonce
        chain.expectRejected(a, .cancelAll(market: nil), "nonce_reused", nonce: used)
        chain.expectRejected(a, .cancelAll(market: nil), "nonce_out_of_window", nonce: UInt64(chain.timeMs + 86_400_000))
        chain.expectRejected(a, .cancelAll(market: nil), "nonce_out_of_window", nonce: UInt64(chain.timeMs - 2 * 86_400_000))
        // Fill the set with 100 nonces; one below the smallest is then too low.
        let base = UInt64(chain.timeMs)
        chain.block((1...100).map { chain.tx(a, .cancelAll(market: nil), nonce: base + 10 * UInt64($0)) })
        #expect(chain.ledger.account(a.address).nonces.nonces.count == 100)
        chain.expectRejected(a, .cancelAll(market: nil), "nonce_too_low", nonce: base + 5)
        // A rejected action still consumed its nonce: the same nonce cannot be replayed.
        chain.expectRejected(a, .transfer(to: a.address, asset: 0, amount: 1), "transfer_to_self", nonce: base + 2_001)
        chain.expectRejected(a, .cancelAll(market: nil), "nonce_reused", nonce: base + 2_001)
        chain.checkInvariants()
    }

    @Test func orderShape() throws {
        var chain = try TestChain()
        let a = chain.trader("shape", usdc: 100_000)
        chain.expectRejected(a, Self.order(99), "unknown_market")
        chain.expectRejected(a, Self.order(price: C.usd(62_000) + 500_000), "bad_tick")
        chain.expectRejected(a, Self.order(size: C.oneBTC + 1), "bad_lot")
        chain.expectRejected(a, Self.order(size: 1_000), "below_minimum_notional")
        chain.expectRejected(a, Self.order(price: C.usd(65_101)), "price_band")
        chain.expectRejected(a, Self.order(price: C.usd(58_899)), "price_band")
        chain.expectRejected(a, Self.order(reduceOnly: true), "reduce_only_would_increase")
        chain.expectRejected(a, .cancel([.order(market: C.btcPerp, orderID: 12345)]), "order_not_found")
        chain.expectRejected(a, .cancelAll(market: 42), "unknown_market")
        // Post-only that would cross.
        let maker = chain.trader("shape-maker", usdc: 100_000)
        #expect(chain.run(maker, Self.order(.btcPerpSell, .sell)).succeeded)
        chain.expectRejected(a, Self.order(tif: .alo), "would_cross")
        // The same client id twice.
        let cid = ClientOrderID(storage: (7, 7))
        let first = OrderRequest(market: C.btcPerp, side: .buy, price: C.usd(61_000), size: C.oneBTC / 10, clientID: cid)
        #expect(chain.run(a, .placeOrders([first])).succeeded)
        chain.expectRejected(a, .placeOrders([first]), "duplicate_client_id")
        chain.checkInvariants()
    }

    @Test func margin() throws {
        var chain = try TestChain()
        let poor = chain.trader("poor", usdc: 1_000)
        // 1 BTC perp needs 1,550 USDC of initial margin.
        chain.expectRejected(poor, Self.order(), "insufficient_margin")
        // A standard account's resting spot buy reserves the USDC it would spend.
        chain.expectRejected(poor, Self.order(C.btcSpot), "insufficient_margin")
        chain.expectRejected(poor, .transfer(to: C.key("x").address, asset: 0, amount: C.usd(1_001)), "insufficient_balance")
        chain.expectRejected(poor, .transfer(to: C.key("x").address, asset: 0, amount: 0), "amount_not_positive")
        chain.expectRejected(poor, .transfer(to: C.key("x").address, asset: 9, amount: 1), "unknown_asset")
        chain.expectRejected(poor, .borrow(asset: 0, amount: 1), "borrowing_needs_portfolio_mode")
        chain.expectRejected(poor, .setMarginMode(.standard), "mode_unchanged")
        chain.expectRejected(C.key("empty"), .setMarginMode(.portfolio), "not_eligible")
        // An absurd order overflows the margin arithmetic instead of trapping.
        let rich = chain.trader("rich", usdc: 1_000_000)
        chain.expectRejected(rich, Self.order(size: 100_000_000_000_000_000), "overflow")
        // With a resting order the mode cannot change.
        #expect(chain.run(rich, Self.order(price: C.usd(61_000))).succeeded)
        chain.expectRejected(rich, .setMarginMode(.portfolio), "has_open_orders")
        chain.checkInvariants()
    }

    @Test func lending() throws {
        var chain = try TestChain { $0.assets[1].userSupplyCap = 10 * C.oneBTC }
        let a = chain.trader("lender-btc", usdc: 10_000, btc: 11 * C.oneBTC)
        #expect(chain.run(a, .setMarginMode(.portfolio)).succeeded)
        // Portfolio mode supplied what the cap allowed; the rest stays in the wallet.
        #expect(chain.ledger.account(a.address).holding(C.btc).wallet == C.oneBTC)
        chain.expectRejected(a, .supply(asset: C.btc, amount: C.oneBTC), "cap_reached")
        chain.expectRejected(a, .borrow(asset: C.eth, amount: C.oneBTC), "insufficient_liquidity")
        chain.checkInvariants()
    }

    @Test func overLTV() throws {
        var chain = try TestChain()
        let lender = chain.trader("usdc-lender", usdc: 1_000_000)
        #expect(chain.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        let whale = chain.trader("whale", usdc: 1_000_000)
        let hedger = chain.trader("hedger", usdc: 1_000, btc: C.oneBTC)
        #expect(chain.run(hedger, .setMarginMode(.portfolio)).succeeded)
        chain.trade(maker: whale, taker: hedger, market: C.btcPerp, takerSide: .sell, price: C.usd(62_000), size: C.oneBTC)
        // Hedged spot counts in full for margin, but borrowing stays within 0.5 x 62,000.
        #expect(chain.run(hedger, .borrow(asset: 0, amount: C.usd(35_000))).succeeded)
        chain.expectRejected(hedger, .transfer(to: C.key("sink").address, asset: 0, amount: C.usd(35_000)), "over_ltv")
        chain.checkInvariants()
    }

    @Test func openInterestAndOrderLimits() throws {
        var chain = try TestChain {
            $0.markets[3].openInterestCap = C.oneBTC
            $0.risk.maxOpenOrders = 2
        }
        let maker = chain.trader("oi-maker", usdc: 1_000_000)
        let taker = chain.trader("oi-taker", usdc: 1_000_000)
        #expect(chain.run(maker, Self.order(C.btcPerp, .sell, size: 2 * C.oneBTC)).succeeded)
        chain.expectRejected(taker, Self.order(size: C.oneBTC * 3 / 2, tif: .ioc), "open_interest_cap")
        #expect(chain.run(taker, Self.order(size: C.oneBTC / 2, tif: .ioc)).succeeded)
        #expect(chain.run(maker, Self.order(C.btcPerp, .sell, price: C.usd(62_100), size: C.oneBTC / 10)).succeeded)
        chain.expectRejected(maker, Self.order(C.btcPerp, .sell, price: C.usd(62_200), size: C.oneBTC / 10), "open_order_limit")
        chain.checkInvariants()
    }

    @Test func oracleAndLiquidation() throws {
        var chain = try TestChain()
        let a = chain.trader("not-a-validator", usdc: 1_000)
        chain.expectRejected(a, .oraclePrices([OraclePrice(asset: 1, price: 1)]), "not_validator")
        chain.expectRejected(C.validator(0), .oraclePrices([OraclePrice(asset: 0, price: 2)]), "unknown_asset")
        chain.expectRejected(a, .liquidate(target: C.faucet.address), "target_healthy")
        chain.expectRejected(a, .liquidate(target: a.address), "self_liquidation")
    }

    @Test func refusedRiskWhileInDeficit() throws {
        var chain = try TestChain()
        let a = chain.trader("deficit-user", usdc: 10_000)
        chain.ledger.global.deficit = 5
        chain.expectRejected(a, Self.order(), "risk_refused")
        chain.expectRejected(a, .withdraw(asset: 0, amount: 1), "risk_refused")
        let r = chain.run(a, .cancelAll(market: nil))
        #expect(r.succeeded && r.notice != nil)
    }
}

extension MarketID {
    static let btcPerpSell: MarketID = TestChain.btcPerp
}

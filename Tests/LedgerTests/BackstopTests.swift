import Testing
import BallastCrypto
@testable import Ledger

/// The end-of-block backstop cancels a candidate's resting orders first and takes the account
/// over only if it is still below 2/3 MR without them; `liquidate` likewise decides between steps
/// and a whole takeover on the account without its orders.
@Suite struct BackstopTests {
    typealias C = TestChain

    /// A standard account short 10 BTC-PERP from 62,000 on 16,000 USDC (15,721 after the fee),
    /// with its own bid of 1 BTC resting at 63,200 and the whale's ask at 63,300 above it: while
    /// the bid rests, the mark is median(oracle, 63,200, 63,300).
    static func shortWithBid(_ chain: inout TestChain) -> (target: SigningKey, whale: SigningKey) {
        let whale = chain.trader("whale", usdc: 1_000_000)
        let target = chain.trader("short-target", usdc: 16_000)
        chain.trade(maker: whale, taker: target, market: C.btcPerp, takerSide: .sell, price: C.usd(62_000), size: 10 * C.oneBTC)
        #expect(chain.run(target, .placeOrders([OrderRequest(market: C.btcPerp, side: .buy, price: C.usd(63_200), size: C.oneBTC)])).succeeded)
        #expect(chain.run(whale, .placeOrders([OrderRequest(market: C.btcPerp, side: .sell, price: C.usd(63_300), size: C.oneBTC / 10)])).succeeded)
        return (target, whale)
    }

    /// One block moving every validator's BTC price to `price`.
    static func oracleBlock(_ chain: inout TestChain, _ price: Int64) -> BlockResult {
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: price)])) }
        return chain.block(txs)
    }

    @Test func anAccountHealedByCancellingItsOwnOrdersIsNotTakenOver() throws {
        var chain = try TestChain()
        let (target, _) = Self.shortWithBid(&chain)
        // Oracle 63,000: with its bid the mark is 63,200 and V_liq = 15,721 - 12,000 = 3,721 <
        // 2/3 x 7,900. Without it the book has no bid, the mark is the oracle and V_liq =
        // 15,721 - 10,000 = 5,721 >= 2/3 x 7,875 = 5,250: liquidatable, not the backstop's.
        let result = Self.oracleBlock(&chain, C.usd(63_000))
        #expect(result.backstopTakeovers.isEmpty)
        #expect(result.events.isEmpty)
        let a = chain.ledger.account(target.address)
        #expect(a.position(C.btcPerp).size == -10 * C.oneBTC)
        #expect(a.openOrders == 0 && a.reservedMargin == 0)
        #expect(chain.ledger.book(C.btcPerp)?.bestBid == nil)
        #expect(chain.ledger.markPrice(C.btc) == C.usd(63_000))
        let s = try chain.summary(target)
        #expect(s.standard.liquidationValue == C.usd(5_721) && s.standard.maintenance == C.usd(7_875))
        #expect(s.health == "liquidatable")
        chain.checkInvariants()
    }

    @Test func liquidateDecidesStepsOrWholeAfterCancellingTheTargetsOrders() throws {
        var chain = try TestChain()
        let (target, _) = Self.shortWithBid(&chain)
        let liquidator = chain.trader("liquidator", usdc: 100_000)
        // Oracle 63,000 and the liquidation in one block: with its bid the target is below 2/3 MR
        // (everything at once), without it only liquidatable (20% steps).
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(63_000))])) }
            + [chain.tx(liquidator, .liquidate(target: target.address))]
        let result = chain.block(txs)
        #expect(result.receipts[4].succeeded)
        guard case .liquidation(let l) = try #require(result.events.first).detail else { Issue.record("no liquidation event"); return }
        #expect(!l.whole && l.positions.count == 1)
        let left = chain.ledger.account(target.address).position(C.btcPerp).size
        #expect(left < 0 && left > -10 * C.oneBTC && l.positions[0].size == -10 * C.oneBTC - left)
        #expect(l.positions[0].price == C.usd(63_000))
        #expect(chain.ledger.account(target.address).openOrders == 0)
        let s = try chain.summary(target)
        #expect(s.standard.ratioPpm <= 800_000)
        chain.checkInvariants()
    }

    @Test func anAccountStillBelowTwoThirdsIsTakenOverWithoutItsOrders() throws {
        var chain = try TestChain()
        let (target, _) = Self.shortWithBid(&chain)
        // Oracle 63,100: without the bid, V_liq = 15,721 - 11,000 = 4,721 < 2/3 x 7,887.5.
        let result = Self.oracleBlock(&chain, C.usd(63_100))
        #expect(result.backstopTakeovers == [target.address])
        let backstop = chain.genesis.risk.backstopAddress
        #expect(chain.ledger.account(backstop).position(C.btcPerp).size == -10 * C.oneBTC)
        // The bid left with the account: the backstop took the position at the oracle, not at 63,200.
        #expect(chain.ledger.book(C.btcPerp)?.bestBid == nil && chain.ledger.account(target.address).openOrders == 0)
        // Half of the 7,887.5 USDC of maintenance released goes to the fund; 777.25 USDC is left.
        #expect(try chain.ledger.netBalance(chain.ledger.account(target.address), 0) == 777_250_000)
        let events = result.events.filter { $0.address == target.address }
        #expect(events.map(\.detail) == [.liquidation(LiquidationEvent(
            liquidated: target.address, liquidator: backstop, byBackstop: true, whole: true,
            positions: [.init(market: C.btcPerp, size: -10 * C.oneBTC, price: C.usd(63_100))],
            realizedPnl: -C.usd(11_000), insuranceFee: 3_943_750_000))])
        chain.checkInvariants()
    }
}

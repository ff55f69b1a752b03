import Foundation
import Testing
import BallastCrypto
import Codec
@testable import Ledger

/// The history events a block emits (`BlockResult.events`), with exact numbers, and their
/// canonical and JSON encodings.
@Suite struct AccountEventTests {
    typealias C = TestChain

    static func cloid(_ n: UInt64) -> ClientOrderID { ClientOrderID(storage: (n, 0)) }

    /// The fill of an event (nil for another kind).
    static func fill(_ e: AccountEvent) -> FillEvent? {
        if case .fill(let f) = e.detail { return f }
        return nil
    }

    @Test func crossingOrderProducesTwoFillEventsAndClosingRealizesPnl() throws {
        var chain = try TestChain()
        let maker = chain.trader("event-maker", usdc: 10_000), taker = chain.trader("event-taker", usdc: 10_000)
        // The maker rests a sell of 0.1 BTC at 62,000: resting emits nothing.
        let rest = chain.block([chain.tx(maker, .placeOrders([OrderRequest(market: C.btcPerp, side: .sell, price: C.usd(62_000),
                                                                               size: C.oneBTC / 10, clientID: Self.cloid(7))]))])
        #expect(rest.events.isEmpty)
        let makerOrder = try #require(rest.receipts[0].orders[0].orderID)

        // The taker buys it (GTC, crossing): one fill event per side, taker first.
        let buy = chain.block([chain.tx(taker, .placeOrders([OrderRequest(market: C.btcPerp, side: .buy, price: C.usd(62_000),
                                                                              size: C.oneBTC / 10, clientID: Self.cloid(9))]))])
        let takerOrder = try #require(buy.receipts[0].orders[0].orderID)
        #expect(buy.events.count == 2)
        #expect(buy.events.map(\.address) == [taker.address, maker.address])
        #expect(buy.events.allSatisfy { $0.height == buy.height && $0.timeMs == chain.timeMs && $0.txIndex == 0 })
        // Notional 6,200 USDC: taker fee 450 ppm = 2.79, maker fee 150 ppm = 0.93.
        #expect(Self.fill(buy.events[0]) == FillEvent(
            market: C.btcPerp, orderId: takerOrder, cloid: Self.cloid(9), side: .buy, price: C.usd(62_000), size: 10_000_000,
            quote: C.usd(6_200), fee: 2_790_000, closedPnl: 0, taker: true, counterparty: maker.address,
            startPosition: 0, tradeIndex: 1))
        #expect(Self.fill(buy.events[1]) == FillEvent(
            market: C.btcPerp, orderId: makerOrder, cloid: Self.cloid(7), side: .sell, price: C.usd(62_000), size: 10_000_000,
            quote: C.usd(6_200), fee: 930_000, closedPnl: 0, taker: false, counterparty: taker.address,
            startPosition: 0, tradeIndex: 1))

        // Half of it back at 63,000, the taker selling into the maker's bid: the taker closes
        // 0.05 of its long for +50 USDC, the maker 0.05 of its short for -50 USDC.
        chain.setPrice(C.btc, C.usd(63_000))
        let bid = chain.run(maker, .placeOrders([OrderRequest(market: C.btcPerp, side: .buy, price: C.usd(63_000), size: C.oneBTC / 20)]))
        let sell = chain.block([chain.tx(taker, .placeOrders([OrderRequest(market: C.btcPerp, side: .sell, price: C.usd(63_000),
                                                                               size: C.oneBTC / 20, timeInForce: .ioc)]))])
        #expect(sell.events.count == 2)
        // Notional 3,150 USDC: fees 1.4175 and 0.4725.
        #expect(Self.fill(sell.events[0]) == FillEvent(
            market: C.btcPerp, orderId: try #require(sell.receipts[0].orders[0].orderID), cloid: nil, side: .sell,
            price: C.usd(63_000), size: 5_000_000, quote: C.usd(3_150), fee: 1_417_500, closedPnl: C.usd(50), taker: true,
            counterparty: maker.address, startPosition: 10_000_000, tradeIndex: 1))
        #expect(Self.fill(sell.events[1]) == FillEvent(
            market: C.btcPerp, orderId: try #require(bid.orders[0].orderID), cloid: nil, side: .buy,
            price: C.usd(63_000), size: 5_000_000, quote: C.usd(3_150), fee: 472_500, closedPnl: -C.usd(50), taker: false,
            counterparty: taker.address, startPosition: -10_000_000, tradeIndex: 1))
        chain.checkInvariants()
    }

    @Test func spotFillReportsTheNetBalanceBeforeAndTheQuote() throws {
        var chain = try TestChain()
        let seller = chain.trader("spot-seller", btc: C.oneBTC), buyer = chain.trader("spot-buyer", usdc: 40_000)
        let result = { () -> BlockResult in
            chain.run(seller, .placeOrders([OrderRequest(market: C.btcSpot, side: .sell, price: C.usd(62_000), size: C.oneBTC / 2)]))
            return chain.block([chain.tx(buyer, .placeOrders([OrderRequest(market: C.btcSpot, side: .buy, price: C.usd(62_000),
                                                                               size: C.oneBTC / 2, timeInForce: .ioc)]))])
        }()
        let fills = result.events.compactMap(Self.fill)
        #expect(fills.map(\.taker) == [true, false])
        #expect(fills.map(\.startPosition) == [0, C.oneBTC])
        #expect(fills.map(\.quote) == [C.usd(31_000), C.usd(31_000)])
        #expect(fills.map(\.fee) == [13_950_000, 4_650_000])
        #expect(fills.map(\.closedPnl) == [0, 0])
    }

    @Test func anOrderRolledBackLeavesNoEvents() throws {
        var chain = try TestChain()
        let maker = chain.trader("rb-maker", usdc: 100_000), poor = chain.trader("rb-poor", usdc: 100)
        chain.run(maker, .placeOrders([OrderRequest(market: C.btcPerp, side: .sell, price: C.usd(62_000), size: C.oneBTC)]))
        // 1 BTC needs 1,550 USDC of initial margin: the fill is settled, then the order is refused.
        let result = chain.block([chain.tx(poor, .placeOrders([OrderRequest(market: C.btcPerp, side: .buy, price: C.usd(62_000),
                                                                                size: C.oneBTC, timeInForce: .ioc)]))])
        #expect(result.receipts[0].error?.code == "insufficient_margin")
        #expect(result.events.isEmpty)
        #expect(chain.ledger.book(C.btcPerp)?.bestAsk == C.usd(62_000))
    }

    @Test func fundingPaymentsNetToZeroWithTheFundsRounding() throws {
        var chain = try TestChain()
        chain.setPrice(C.btc, C.usd(62_001))
        let long = chain.trader("long", usdc: 10_000), short = chain.trader("short", usdc: 10_000)
        chain.trade(maker: short, taker: long, market: C.btcPerp, takerSide: .buy, price: C.usd(62_001), size: C.oneBTC)
        let fund = chain.ledger.insuranceFund[0]
        let result = chain.block([], advanceMs: 3_600_000)
        #expect(result.fundingSettled)
        let payments = result.events.compactMap { e -> (Address, FundingEvent)? in
            if case .funding(let f) = e.detail { return (e.address, f) }
            return nil
        }
        #expect(payments.count == 2 && result.events.count == 2)
        #expect(result.events.allSatisfy { $0.txIndex == nil && $0.height == result.height })
        // Accounts in address order; the long pays 0.7750125 USDC rounded up, the short gets it rounded down.
        #expect(payments.map(\.0) == [long.address, short.address].sorted())
        let byAccount = Dictionary(uniqueKeysWithValues: payments.map { ($0.0, $0.1) })
        let rate: Int128 = 12_500_000_000_000
        #expect(byAccount[long.address] == FundingEvent(market: C.btcPerp, amount: -775_013, positionSize: C.oneBTC,
                                                        oraclePrice: C.usd(62_001), rate: rate))
        #expect(byAccount[short.address] == FundingEvent(market: C.btcPerp, amount: 775_012, positionSize: -C.oneBTC,
                                                         oraclePrice: C.usd(62_001), rate: rate))
        // Payments plus what the fund kept net to zero.
        #expect(payments.reduce(0) { $0 + $1.1.amount } + (chain.ledger.insuranceFund[0] - fund) == 0)
    }

    @Test func transferAndLendingActions() throws {
        var chain = try TestChain()
        let alice = chain.trader("ev-alice", usdc: 1_000)
        let bob = TestChain.key("ev-bob")
        let t = chain.block([chain.tx(alice, .transfer(to: bob.address, asset: 0, amount: C.usd(250)))])
        let transfer = AccountEvent.Detail.transfer(TransferEvent(from: alice.address, to: bob.address, asset: 0, amount: C.usd(250)))
        #expect(t.events == [
            AccountEvent(address: alice.address, height: t.height, timeMs: chain.timeMs, txIndex: 0, detail: transfer),
            AccountEvent(address: bob.address, height: t.height, timeMs: chain.timeMs, txIndex: 0, detail: transfer)])
        // A refused transfer emits nothing.
        #expect(chain.block([chain.tx(bob, .transfer(to: alice.address, asset: 0, amount: C.usd(251)))]).events.isEmpty)

        // Two transactions in one block: each event carries its transaction's index.
        let s = chain.block([chain.tx(alice, .supply(asset: 0, amount: C.usd(500))),
                             chain.tx(alice, .withdraw(asset: 0, amount: C.usd(200)))])
        #expect(s.events.map(\.detail) == [
            .supply(LendingEvent(asset: 0, amount: C.usd(500), suppliedAfter: C.usd(500), owedAfter: 0)),
            .withdraw(LendingEvent(asset: 0, amount: C.usd(200), suppliedAfter: C.usd(300), owedAfter: 0))])
        #expect(s.events.map(\.txIndex) == [0, 1])

        // Borrow and repay (portfolio mode, against BTC).
        let borrower = chain.trader("ev-borrower", btc: C.oneBTC)
        #expect(chain.run(borrower, .setMarginMode(.portfolio)).succeeded)
        let b = chain.block([chain.tx(borrower, .borrow(asset: 0, amount: C.usd(100)))])
        #expect(b.events.map(\.detail) == [.borrow(LendingEvent(asset: 0, amount: C.usd(100), suppliedAfter: 0, owedAfter: C.usd(100)))])
        // Repaying more than is owed repays what is owed (the borrowed 100 sits in the wallet).
        let r = chain.block([chain.tx(borrower, .repay(asset: 0, amount: C.usd(150)))], advanceMs: 0)
        #expect(r.events.map(\.detail) == [.repay(LendingEvent(asset: 0, amount: C.usd(100), suppliedAfter: 0, owedAfter: 0))])
    }

    @Test func partialLiquidationEventInBothHistories() throws {
        var chain = try TestChain()
        let (target, liquidator) = LedgerWorkedExampleTests.leveragedLong(&chain)
        chain.setPrice(C.btc, C.usd(61_000))
        let result = chain.block([chain.tx(liquidator, .liquidate(target: target.address))])
        #expect(result.receipts[0].succeeded)
        #expect(result.events.map(\.address) == [target.address, liquidator.address])
        #expect(result.events[0].detail == result.events[1].detail)
        guard case .liquidation(let l) = result.events[0].detail else { Issue.record("not a liquidation"); return }
        // Five 20% steps at mark 61,000: 10 -> 3.2768 BTC; the closed part realizes 61,000 - 62,000 per BTC.
        let (_, bonus, fee) = LedgerWorkedExampleTests.partialLiquidationSteps()
        #expect(l == LiquidationEvent(
            liquidated: target.address, liquidator: liquidator.address, byBackstop: false, whole: false,
            positions: [.init(market: C.btcPerp, size: 672_320_000, price: C.usd(61_000))], balances: [],
            realizedPnl: -6_723_200_000, liquidatorBonus: bonus, insuranceFee: fee))
        #expect(result.events[0].txIndex == 0)
    }

    /// The crash to 59,000 of the worked examples, in one block: the backstop's events of it.
    static func crash(_ chain: inout TestChain) -> [AccountEvent] {
        let txs = (0..<4).map { chain.tx(C.validator($0), .oraclePrices([OraclePrice(asset: C.btc, price: C.usd(59_000))])) }
        return chain.block(txs).events.filter {
            if case .liquidation(let l) = $0.detail { return l.byBackstop }
            return false
        }
    }

    @Test func backstopEventsNameTheInsuranceAndTheDeficit() throws {
        // Paid by the fund: V_liq = 15,721 - 30,000 = -14,279 USDC after the crash to 59,000.
        var paid = try TestChain()
        let lender = paid.trader("usdc-lender", usdc: 1_000_000)
        #expect(paid.run(lender, .supply(asset: 0, amount: C.usd(1_000_000))).succeeded)
        let (target, _) = LedgerWorkedExampleTests.leveragedLong(&paid)
        let backstop = paid.genesis.risk.backstopAddress
        let events = Self.crash(&paid)
        let expected = LiquidationEvent(
            liquidated: target.address, liquidator: backstop, byBackstop: true, whole: true,
            positions: [.init(market: C.btcPerp, size: 10 * C.oneBTC, price: C.usd(59_000))],
            realizedPnl: -C.usd(30_000), insurancePaid: C.usd(14_279))
        #expect(events.map(\.address) == [target.address, backstop])
        #expect(events.allSatisfy { $0.detail == .liquidation(expected) && $0.txIndex == nil })

        // Nobody supplies USDC and the fund is small: the rest becomes the chain's deficit.
        var short = try TestChain { $0.insuranceFund = [AssetAmount(asset: 0, amount: C.usd(1_000))] }
        let (poor, _) = LedgerWorkedExampleTests.leveragedLong(&short)
        let fund = short.ledger.insuranceFund[0]
        guard case .liquidation(let l) = try #require(Self.crash(&short).first).detail else {
            Issue.record("no backstop event"); return
        }
        #expect(l.liquidated == poor.address && l.insurancePaid == fund && l.socialized == 0)
        #expect(l.deficit == C.usd(14_279) - fund && l.deficit == short.ledger.global.deficit)
    }

    // MARK: Encoding

    static let sample: [AccountEvent] = {
        let a = try! Address(hex: "0x00112233445566778899aabbccddeeff00112233")
        let b = try! Address(hex: "0xffeeddccbbaa99887766554433221100ffeeddcc")
        let fill = FillEvent(market: 3, orderId: 42, cloid: cloid(5), side: .sell, price: 62_000_000_000, size: 1_000,
                             quote: 620_000, fee: 279, closedPnl: -12, taker: true, counterparty: b,
                             startPosition: -7, tradeIndex: 2)
        let liquidation = LiquidationEvent(liquidated: a, liquidator: b, byBackstop: false, whole: true,
                                           positions: [.init(market: 3, size: -5, price: 1)],
                                           balances: [.init(asset: 1, amount: -3, value: -2)], realizedPnl: -1,
                                           liquidatorBonus: 2, insuranceFee: 3, insurancePaid: 4, socialized: 5, deficit: 6)
        let lending = LendingEvent(asset: 2, amount: 9, suppliedAfter: 8, owedAfter: 0)
        return [
            .init(address: a, height: 7, timeMs: 1_764_000_000_000, txIndex: 3, detail: .fill(fill)),
            .init(address: a, height: 7, timeMs: 1, txIndex: nil,
                  detail: .funding(FundingEvent(market: 4, amount: -3, positionSize: 2, oraclePrice: 1, rate: -12_500_000_000_001))),
            .init(address: b, height: 8, timeMs: 2, txIndex: 0, detail: .liquidation(liquidation)),
            .init(address: b, height: 8, timeMs: 2, txIndex: 1, detail: .transfer(TransferEvent(from: a, to: b, asset: 0, amount: 1))),
            .init(address: a, height: 9, timeMs: 3, txIndex: 2, detail: .supply(lending)),
            .init(address: a, height: 9, timeMs: 3, txIndex: 2, detail: .withdraw(lending)),
            .init(address: a, height: 9, timeMs: 3, txIndex: 2, detail: .borrow(lending)),
            .init(address: a, height: 9, timeMs: 3, txIndex: 2, detail: .repay(lending)),
        ]
    }()

    @Test func everyKindRoundTripsThroughBothEncodings() throws {
        for event in Self.sample {
            let bytes = event.canonicalBytes
            #expect(try AccountEvent(canonicalBytes: bytes) == event)
            let json = try JSONEncoder().encode(event)
            #expect(try JSONDecoder().decode(AccountEvent.self, from: json) == event)
            // Every strict prefix is refused, never trapped.
            for n in [0, 1, bytes.count / 2, bytes.count - 1] {
                #expect(throws: CodecError.self) { try AccountEvent(canonicalBytes: Array(bytes.prefix(n))) }
            }
        }
        #expect(Set(Self.sample.map(\.kind)) == Set(AccountEvent.Kind.allCases))
    }

    @Test func transferGoldenBytesAndRefusedTags() throws {
        let event = Self.sample[3]
        // version 01 | address (20) | height u64 | time i64 | txIndex 01 + u32 | kind 04 | from | to | asset u32 | amount i64
        #expect(Hex.encode(event.canonicalBytes) == "01" + "ffeeddccbbaa99887766554433221100ffeeddcc" + "0800000000000000"
                + "0200000000000000" + "0101000000" + "04" + "00112233445566778899aabbccddeeff00112233"
                + "ffeeddccbbaa99887766554433221100ffeeddcc" + "00000000" + "0100000000000000")
        var badVersion = event.canonicalBytes
        badVersion[0] = 2
        #expect(throws: CodecError.unsupportedVersion(type: "AccountEvent", version: 2)) { try AccountEvent(canonicalBytes: badVersion) }
        var badKind = event.canonicalBytes
        badKind[42] = 9
        #expect(throws: CodecError.unknownTag(type: "Kind", tag: 9)) { try AccountEvent(canonicalBytes: badKind) }
        let json = String(decoding: try JSONEncoder().encode(Self.sample[1]), as: UTF8.self)
        #expect(json.contains(#""rate":"-0.000012500000000001""#))
        #expect(Ledger.parseWad("1.5") == 1_500_000_000_000_000_000 && Ledger.parseWad("-0.000012500000000001") == -12_500_000_000_001)
        #expect(Ledger.parseWad("1.") == nil && Ledger.parseWad("+1") == nil && Ledger.parseWad("0.1234567890123456789") == nil)
    }
}

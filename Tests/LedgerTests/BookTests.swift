import Codec
import BallastCrypto
import Testing
@testable import Ledger

/// Test fixtures shared by the book's test files.
enum BookFixture {
    /// A distinct address per small number.
    static func owner(_ n: UInt8) -> Address { Address(bytes: [UInt8](repeating: 0, count: 19) + [n])! }
    static func cloid(_ n: UInt64) -> ClientOrderID { ClientOrderID(storage: (n, 0)) }

    static func order(_ id: OrderID, _ owner: UInt8, _ side: Side, _ price: Int64, _ size: Int64,
                      tif: TimeInForce = .gtc, cloid: UInt64? = nil, reserved: Int64 = 0) -> BookOrder {
        BookOrder(id: id, owner: Self.owner(owner), side: side, price: price, size: size,
                  clientID: cloid.map(Self.cloid), timeInForce: tif, reservedMargin: reserved)
    }

    /// A book holding `orders` (inserted in the given order).
    static func book(_ orders: [BookOrder], market: MarketID = 7) throws -> OrderBook {
        var book = OrderBook(market: market)
        for o in orders { try book.insert(o) }
        return book
    }
}

private typealias F = BookFixture

@Suite struct BookTests {
    @Test func emptyBook() {
        let book = OrderBook(market: 3)
        #expect(book.isEmpty && book.count == 0)
        #expect(book.bestBid == nil && book.bestAsk == nil)
        #expect(book.depth(maxLevels: 5) == OrderBook.Depth(bids: [], asks: []))
        #expect(book.impactPrice(.buy, notional: 1, unitScale: 1) == nil)
        #expect(book.orders.isEmpty)
    }

    @Test func priceTimePriority() throws {
        var book = try F.book([
            F.order(1, 1, .sell, 101, 5),
            F.order(2, 2, .sell, 100, 5),
            F.order(3, 3, .sell, 100, 5),
            F.order(4, 4, .sell, 102, 5),
            F.order(5, 5, .buy, 98, 5),
            F.order(6, 6, .buy, 99, 5),
        ])
        #expect(book.bestBid == 99 && book.bestAsk == 100)
        #expect(book.orders.map(\.id) == [6, 5, 2, 3, 1, 4])
        // 12 at up to 101: id 2 (earliest at 100), id 3, then 2 of id 1.
        let plan = try book.match(F.order(10, 9, .buy, 101, 12, tif: .ioc))
        #expect(plan.fills.map(\.makerID) == [2, 3, 1])
        #expect(plan.fills.map(\.size) == [5, 5, 2])
        #expect(plan.fills.map(\.price) == [100, 100, 101])
        #expect(plan.fills.map(\.makerRemaining) == [0, 0, 3])
        #expect(plan.fills.map(\.makerOwner) == [F.owner(2), F.owner(3), F.owner(1)])
        #expect(plan.filledSize == 12 && plan.unfilledSize == 0 && plan.remainder == nil)
        #expect(plan.filledValue == 100 * 5 + 100 * 5 + 101 * 2)
        #expect(book.order(id: 1)?.size == 3)
        #expect(book.bestAsk == 101)
        #expect(book.orders.map(\.id) == [6, 5, 1, 4])
    }

    @Test func lowerIDRanksFirstEvenIfInsertedLater() throws {
        // Priority is the id (the ledger's time), whatever order inserts arrive in.
        let book = try F.book([F.order(9, 1, .buy, 50, 1), F.order(4, 2, .buy, 50, 1), F.order(7, 3, .buy, 50, 1)])
        #expect(book.orders.map(\.id) == [4, 7, 9])
        #expect(book.orders(owner: F.owner(2)).map(\.id) == [4])
    }

    @Test func partialFillsAcrossLevelsThenRest() throws {
        var book = try F.book([F.order(1, 1, .buy, 100, 3), F.order(2, 2, .buy, 99, 4), F.order(3, 3, .buy, 97, 10)])
        let plan = try book.match(F.order(4, 4, .sell, 98, 10))
        #expect(plan.fills.map(\.makerID) == [1, 2])
        #expect(plan.fills.map(\.size) == [3, 4])
        #expect(plan.unfilledSize == 3)
        #expect(plan.remainder == F.order(4, 4, .sell, 98, 3))
        #expect(book.bestBid == 97 && book.bestAsk == 98)
        #expect(book.order(id: 4)?.size == 3)
        #expect(book.orders.map(\.id) == [3, 4])
    }

    @Test func aloRejectedIfItWouldCrossAndRestsOtherwise() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5)])
        #expect(throws: BookError.wouldCross(opposite: 100)) { try book.match(F.order(2, 2, .buy, 100, 1, tif: .alo)) }
        #expect(book.count == 1)
        let plan = try book.match(F.order(3, 2, .buy, 99, 1, tif: .alo))
        #expect(plan.fills.isEmpty)
        #expect(book.bestBid == 99 && book.order(id: 3)?.timeInForce == .alo)
    }

    @Test func iocNeverRests() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5)])
        let plan = try book.match(F.order(2, 2, .buy, 100, 8, tif: .ioc))
        #expect(plan.filledSize == 5 && plan.unfilledSize == 3 && plan.remainder == nil)
        #expect(book.isEmpty)
        let none = try book.match(F.order(3, 2, .buy, 100, 8, tif: .ioc))
        #expect(none.fills.isEmpty && book.isEmpty)
    }

    @Test func selfTradeCancelsRestingAndContinues() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5), F.order(2, 2, .sell, 100, 5), F.order(3, 1, .sell, 101, 5)])
        let plan = try book.match(F.order(4, 1, .buy, 101, 4))
        #expect(plan.cancelled == [.init(order: F.order(1, 1, .sell, 100, 5), reason: .selfTrade)])
        #expect(plan.fills.map(\.makerID) == [2] && plan.fills[0].size == 4)
        // Filled before reaching order 3, so 3 stays.
        #expect(book.orders.map(\.id) == [2, 3])
        #expect(book.order(id: 2)?.size == 1)
        #expect(book.openOrderCount(owner: F.owner(1)) == 1)
    }

    @Test func vetoCancelsMakerInsteadOfFilling() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5), F.order(2, 2, .sell, 100, 5), F.order(3, 3, .sell, 102, 5)])
        var asked: [OrderID: Int64] = [:]
        let plan = try book.match(F.order(4, 4, .buy, 102, 7)) { maker, size in
            asked[maker.id] = size
            return maker.owner == F.owner(2) ? .cancel : .fill
        }
        // 7 wanted: 5 from order 1, then 2 offered to order 2 (vetoed), then 2 to order 3.
        #expect(asked == [1: 5, 2: 2, 3: 2])
        #expect(plan.fills.map(\.makerID) == [1, 3] && plan.fills.map(\.size) == [5, 2])
        #expect(plan.cancelled.map(\.order.id) == [2] && plan.cancelled[0].reason == .vetoed)
        #expect(book.orders.map(\.id) == [3] && book.order(id: 3)?.size == 3)
    }

    @Test func maxFillCapsReduceOnlyAndDropsTheRest() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5), F.order(2, 2, .sell, 101, 5)])
        let plan = try book.match(F.order(3, 3, .buy, 101, 10), maxFill: 7)
        #expect(plan.filledSize == 7 && plan.stoppedAtMaxFill && plan.remainder == nil)
        #expect(book.orders.map(\.id) == [2] && book.order(id: 2)?.size == 3)
        // maxFill above what the book offers: not stopped by it, the rest rests.
        let second = try book.match(F.order(4, 3, .buy, 101, 6), maxFill: 5)
        #expect(second.filledSize == 3 && !second.stoppedAtMaxFill && second.remainder?.size == 3)
        #expect(book.bestBid == 101 && book.bestAsk == nil)
        // Zero allowed: nothing fills, nothing rests.
        let third = try book.match(F.order(5, 3, .sell, 90, 6), maxFill: 0)
        #expect(third.fills.isEmpty && third.remainder == nil && book.count == 1)
    }

    @Test func planChangesNothingAndStalePlanIsRefused() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5)])
        let before = book.canonicalBytes
        let plan = try book.plan(F.order(2, 2, .buy, 100, 3)) { _, _ in .fill }
        #expect(book.canonicalBytes == before)
        try book.insert(F.order(3, 1, .sell, 105, 1))
        #expect(throws: BookError.stalePlan) { try book.apply(plan) }
        #expect(book.order(id: 1)?.size == 5)
        var other = try F.book([F.order(1, 1, .sell, 100, 5)], market: 8)
        let fresh = try book.plan(F.order(2, 2, .buy, 100, 3)) { _, _ in .fill }
        #expect(throws: BookError.stalePlan) { try other.apply(fresh) }
        try book.apply(fresh)
        #expect(book.order(id: 1)?.size == 2 && book.order(id: 2) == nil)
    }

    @Test func planFromADivergedCopyIsRefused() throws {
        // Two copies changed once each reach the same revision; a plan from one
        // must still not be carried out on the other.
        let base = try F.book([F.order(1, 1, .sell, 100, 5)])
        var a = base, b = base
        try a.insert(F.order(10, 2, .sell, 100, 5))
        try b.insert(F.order(11, 3, .sell, 100, 5))
        let plan = try a.plan(F.order(20, 4, .buy, 100, 8)) { _, _ in .fill }
        #expect(throws: BookError.stalePlan) { try b.apply(plan) }
        #expect(b.orders.map(\.size) == [5, 5])
        // Its remainder would cross what the other copy holds.
        var c = base, d = base
        _ = c.cancel(id: 1)
        _ = d.shrink(id: 1, to: 4)
        let resting = try c.plan(F.order(21, 4, .buy, 100, 3)) { _, _ in .fill }
        #expect(resting.remainder?.size == 3)
        #expect(throws: BookError.stalePlan) { try d.apply(resting) }
        #expect(d.orders == [F.order(1, 1, .sell, 100, 4)])
        // And the plan still works on the book that made it.
        try a.apply(plan)
        #expect(a.orders.map(\.id) == [10] && a.order(id: 10)?.size == 2)
    }

    @Test func insertAndPlanRefuseBadInput() throws {
        var book = try F.book([F.order(1, 1, .sell, 100, 5, cloid: 77)])
        let before = book
        #expect(throws: BookError.priceNotPositive(0)) { try book.insert(F.order(2, 1, .buy, 0, 5)) }
        #expect(throws: BookError.sizeNotPositive(-1)) { try book.insert(F.order(2, 1, .buy, 90, -1)) }
        #expect(throws: BookError.duplicateOrderID(1)) { try book.insert(F.order(1, 2, .buy, 90, 1)) }
        #expect(throws: BookError.duplicateClientID(F.cloid(77))) { try book.insert(F.order(2, 1, .buy, 90, 1, cloid: 77)) }
        #expect(throws: BookError.wouldCross(opposite: 100)) { try book.insert(F.order(2, 2, .buy, 100, 1)) }
        #expect(throws: BookError.duplicateOrderID(1)) { try book.plan(F.order(1, 2, .buy, 90, 1)) { _, _ in .fill } }
        #expect(throws: BookError.duplicateClientID(F.cloid(77))) { try book.plan(F.order(2, 1, .buy, 90, 1, cloid: 77)) { _, _ in .fill } }
        #expect(throws: BookError.sizeNotPositive(0)) { try book.plan(F.order(2, 1, .buy, 90, 0)) { _, _ in .fill } }
        try book.insert(F.order(3, 2, .sell, 200, Int64.max - 1))
        #expect(throws: BookError.levelSizeOverflow(price: 200)) { try book.insert(F.order(4, 3, .sell, 200, 2)) }
        #expect(throws: BookError.levelSizeOverflow(price: 200)) { try book.plan(F.order(4, 3, .sell, 200, 2)) { _, _ in .fill } }
        // A different owner may use the same client id.
        try book.insert(F.order(5, 2, .buy, 90, 1, cloid: 77))
        #expect(book.count == before.count + 2)
    }

    @Test func cancelByIDClientIDAndAll() throws {
        var book = try F.book([
            F.order(1, 1, .buy, 90, 1, cloid: 11), F.order(2, 1, .sell, 110, 2), F.order(3, 2, .buy, 90, 3),
            F.order(4, 1, .buy, 89, 4, cloid: 12), F.order(5, 1, .sell, 111, 5),
        ])
        #expect(book.openOrderCount(owner: F.owner(1)) == 4)
        let missing = book.cancel(id: 99)
        let second = book.cancel(id: 2)
        let secondAgain = book.cancel(id: 2)
        #expect(missing == nil && second?.size == 2 && secondAgain == nil)
        #expect(book.order(owner: F.owner(1), clientID: F.cloid(12))?.id == 4)
        let wrongOwner = book.cancel(owner: F.owner(2), clientID: F.cloid(12))
        let byClient = book.cancel(owner: F.owner(1), clientID: F.cloid(12))
        #expect(wrongOwner == nil && byClient?.id == 4)
        #expect(book.order(owner: F.owner(1), clientID: F.cloid(12)) == nil)
        // The client id is free again.
        try book.insert(F.order(6, 1, .buy, 80, 1, cloid: 12))
        #expect(book.openOrderCount(owner: F.owner(1)) == 3)
        let all = book.cancelAll(owner: F.owner(1))
        #expect(all.map(\.id) == [1, 5, 6])
        #expect(book.openOrderCount(owner: F.owner(1)) == 0)
        let again = book.cancelAll(owner: F.owner(1))
        #expect(again.isEmpty)
        #expect(book.orders.map(\.id) == [3])
        #expect(book.levelCount(.buy) == 1 && book.levelCount(.sell) == 0)
    }

    @Test func cancelAllAcrossBooksAndShrink() throws {
        var books = [
            try F.book([F.order(4, 1, .buy, 90, 1), F.order(2, 1, .sell, 95, 1), F.order(3, 2, .buy, 90, 1)], market: 0),
            try F.book([F.order(9, 2, .buy, 10, 1)], market: 1),
            try F.book([F.order(1, 1, .buy, 10, 1)], market: 2),
        ]
        let gone = OrderBook.cancelAll(owner: F.owner(1), in: &books)
        #expect(gone.map(\.id) == [2, 4, 1])
        #expect(books.map(\.count) == [1, 1, 0])

        var book = try F.book([F.order(1, 1, .sell, 100, 5), F.order(2, 2, .sell, 100, 5)])
        let shrunk = book.shrink(id: 1, to: 2)
        let grown = book.shrink(id: 1, to: 3)
        let zero = book.shrink(id: 1, to: 0)
        let missing = book.shrink(id: 7, to: 1)
        #expect(shrunk?.size == 2 && grown == nil && zero == nil && missing == nil)
        #expect(book.depth(of: .sell, maxLevels: 1) == [.init(price: 100, size: 7, orders: 2)])
        // Still first in the queue.
        let plan = try book.match(F.order(3, 3, .buy, 100, 3, tif: .ioc))
        #expect(plan.fills.map(\.makerID) == [1, 2] && plan.fills.map(\.size) == [2, 1])
    }

    @Test func orderIndexAgreesWithDictionary() {
        // Inserts, lookups and removals (with backward-shift deletion) through several growths.
        var index = OrderIndex()
        var expected: [UInt64: Int32] = [:]
        var state: UInt64 = 12345
        for i in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let key = (state >> 33) % 4_096
            if expected[key] == nil && i % 3 != 0 {
                index.insert(key, Int32(i))
                expected[key] = Int32(i)
            } else {
                index.remove(key)
                expected[key] = nil
            }
            #expect(index[key] == expected[key])
            #expect(index.count == expected.count)
        }
        for key in UInt64(0)..<4_096 { #expect(index[key] == expected[key]) }
    }

    @Test func reservedMarginIsKept() throws {
        var book = try F.book([F.order(1, 1, .buy, 90, 10, reserved: 500)])
        let known = book.setReservedMargin(id: 1, to: 320)
        let unknown = book.setReservedMargin(id: 2, to: 1)
        #expect(known && !unknown)
        let plan = try book.match(F.order(2, 2, .sell, 90, 4))
        #expect(plan.fills[0].maker.reservedMargin == 320)
        #expect(book.order(id: 1)?.reservedMargin == 320 && book.order(id: 1)?.size == 6)
    }

    @Test func depthAggregatesLevels() throws {
        let book = try F.book([
            F.order(1, 1, .buy, 99, 2), F.order(2, 2, .buy, 99, 3), F.order(3, 1, .buy, 98, 7), F.order(4, 1, .buy, 95, 1),
            F.order(5, 3, .sell, 101, 4), F.order(6, 3, .sell, 103, 6), F.order(7, 4, .sell, 101, 1),
        ])
        let d = book.depth(maxLevels: 2)
        #expect(d.bids == [.init(price: 99, size: 5, orders: 2), .init(price: 98, size: 7, orders: 1)])
        #expect(d.asks == [.init(price: 101, size: 5, orders: 2), .init(price: 103, size: 6, orders: 1)])
        #expect(book.depth(of: .buy, maxLevels: 10).map(\.price) == [99, 98, 95])
        #expect(book.depth(of: .sell, maxLevels: 0).isEmpty && book.depth(of: .sell, maxLevels: -1).isEmpty)
    }

    @Test func impactPriceExactNumbers() throws {
        // BTC-like: 8 decimals, prices in USDC micro-units per BTC.
        let scale: Int64 = 100_000_000
        let book = try F.book([
            // Asks: 0.1 BTC @ 60,000 (6,000 USDC), 0.2 BTC @ 60,100 (12,020 USDC).
            F.order(1, 1, .sell, 60_000_000_000, 10_000_000), F.order(2, 2, .sell, 60_100_000_000, 20_000_000),
            // Bids: 0.05 BTC @ 59,900 (2,995 USDC), 0.5 BTC @ 59,800.
            F.order(3, 3, .buy, 59_900_000_000, 5_000_000), F.order(4, 4, .buy, 59_800_000_000, 50_000_000),
        ])
        let notional: Int64 = 10_000_000_000  // 10,000 USDC
        // Ask: 6,000 buys 0.1 BTC, then 4,000 / 60,100 BTC: average = 10,000 / (0.1 + 4,000/60,100)
        // = 10,000 x 60,100 / (6,010 + 4,000) = 60,039.96004... USDC, rounded up.
        #expect(book.impactPrice(.sell, notional: notional, unitScale: scale) == 60_039_960_040)
        // Bid: 2,995 sells 0.05 BTC, then 7,005 / 59,800: average = 10,000 x 59,800 / (2,990 + 7,005)
        // = 59,829.91495... USDC, rounded down.
        #expect(book.impactPrice(.buy, notional: notional, unitScale: scale) == 59_829_914_957)
        // Exactly the first level's value: its price.
        #expect(book.impactPrice(.sell, notional: 6_000_000_000, unitScale: scale) == 60_000_000_000)
        // More than the side holds (18,020 USDC of asks): nil.
        #expect(book.impactPrice(.sell, notional: 18_020_000_001, unitScale: scale) == nil)
        #expect(book.impactPrice(.sell, notional: 18_020_000_000, unitScale: scale) != nil)
        #expect(book.impactPrice(.sell, notional: 0, unitScale: scale) == nil)
        // The doc comment's example: 500 over 100 @ 2 and 100 @ 3 is 2.50 (unit scale 1, cents).
        let small = try F.book([F.order(1, 1, .sell, 200, 100), F.order(2, 1, .sell, 300, 100)])
        #expect(small.impactPrice(.sell, notional: 50_000, unitScale: 1) == 250)
    }

    @Test func snapshotRoundTrip() throws {
        var book = try F.book([
            F.order(5, 1, .buy, 99, 2, cloid: 1, reserved: 12), F.order(2, 2, .buy, 99, 3), F.order(3, 1, .buy, 98, 7),
            F.order(8, 3, .sell, 101, 4, tif: .alo), F.order(6, 3, .sell, 103, 6, cloid: 9), F.order(7, 4, .sell, 101, 1),
        ], market: 12)
        _ = try book.match(F.order(9, 5, .sell, 99, 1))
        let bytes = book.canonicalBytes
        let decoded = try OrderBook(canonicalBytes: bytes)
        #expect(decoded == book)
        #expect(decoded.canonicalBytes == bytes)
        #expect(decoded.market == 12)
        #expect(decoded.order(owner: F.owner(3), clientID: F.cloid(9))?.id == 6)
        #expect(decoded.openOrderCount(owner: F.owner(1)) == 2)
        #expect(decoded.depth(maxLevels: 9) == book.depth(maxLevels: 9))
        #expect(try OrderBook(canonicalBytes: OrderBook(market: 1).canonicalBytes) == OrderBook(market: 1))
        #expect(book != OrderBook(market: 12))
    }

    @Test func snapshotRejectsNonCanonicalBytes() throws {
        func encode(_ bids: [BookOrder], _ asks: [BookOrder]) -> [UInt8] {
            var w = ByteWriter()
            w.write(OrderBook.encodingVersion)
            w.write(UInt32(1))
            w.write(bids)
            w.write(asks)
            return w.bytes
        }
        let good = encode([F.order(2, 1, .buy, 99, 1), F.order(3, 1, .buy, 99, 1)], [F.order(1, 2, .sell, 100, 1)])
        #expect(try OrderBook(canonicalBytes: good).count == 3)
        let cases: [[UInt8]] = [
            encode([F.order(3, 1, .buy, 99, 1), F.order(2, 1, .buy, 99, 1)], []),   // time order broken
            encode([F.order(2, 1, .buy, 98, 1), F.order(3, 1, .buy, 99, 1)], []),   // price order broken
            encode([F.order(2, 1, .sell, 99, 1)], []),                              // wrong side
            encode([F.order(2, 1, .buy, 99, 0)], []),                               // empty order
            encode([F.order(2, 1, .buy, 100, 1)], [F.order(1, 2, .sell, 100, 1)]), // crossed
            encode([F.order(2, 1, .buy, 99, 1)], [F.order(2, 2, .sell, 100, 1)]),  // duplicate id
        ]
        for bytes in cases {
            #expect(throws: CodecError.self) { try OrderBook(canonicalBytes: bytes) }
        }
        #expect(throws: CodecError.unsupportedVersion(type: "OrderBook", version: 2)) {
            try OrderBook(canonicalBytes: [2, 1, 0, 0, 0, 0, 0])
        }
        #expect(throws: CodecError.trailingBytes(count: 1)) { try OrderBook(canonicalBytes: good + [0]) }
    }

    @Test func orderRulesValidate() throws {
        let rules = OrderRules(tick: 100, lot: 1_000, minimumNotional: 10_000_000, unitScale: 100_000_000)
        try rules.validate(price: 60_000_000_000, size: 17_000)  // 10.2 USDC
        #expect(throws: BookError.priceNotPositive(0)) { try rules.validate(price: 0, size: 1_000) }
        #expect(throws: BookError.sizeNotPositive(-1_000)) { try rules.validate(price: 100, size: -1_000) }
        #expect(throws: BookError.priceOffTick(price: 150, tick: 100)) { try rules.validate(price: 150, size: 1_000) }
        #expect(throws: BookError.sizeOffLot(size: 1_500, lot: 1_000)) { try rules.validate(price: 100, size: 1_500) }
        // 16,000 base units at 62,500 USDC = 9.999999 USDC, under 10.
        #expect(throws: BookError.belowMinimumNotional(notional: 10_000_000 - 1, minimum: 10_000_000)) {
            try rules.validate(price: 62_499_993_800, size: 16_000)
        }
        try rules.validate(price: 62_500_000_000, size: 16_000)  // exactly 10 USDC
        #expect(rules.notional(price: 62_500_000_000, size: 16_000) == 10_000_000)
        #expect(throws: BookError.self) { try OrderRules(tick: 0, lot: 1, minimumNotional: 0, unitScale: 1).validate(price: 1, size: 1) }
    }
}

import Codec
import BallastCrypto
import Testing
@testable import Ledger

/// A deliberately naive book: one flat array, sorted on every use. It shares
/// no code with `OrderBook`, so agreement over random workloads means something.
private struct ReferenceBook {
    var orders: [BookOrder] = []

    /// One side in priority order.
    func side(_ side: Side) -> [BookOrder] {
        orders.filter { $0.side == side }.sorted {
            $0.price != $1.price ? (side == .buy ? $0.price > $1.price : $0.price < $1.price) : $0.id < $1.id
        }
    }

    var all: [BookOrder] { side(.buy) + side(.sell) }

    func best(_ s: Side) -> Int64? { side(s).first?.price }

    func crosses(_ side: Side, _ limit: Int64, _ resting: Int64) -> Bool { side == .buy ? resting <= limit : resting >= limit }

    func checkNew(_ o: BookOrder) throws(BookError) {
        if o.price <= 0 { throw .priceNotPositive(o.price) }
        if o.size <= 0 { throw .sizeNotPositive(o.size) }
        if orders.contains(where: { $0.id == o.id }) { throw .duplicateOrderID(o.id) }
        if let c = o.clientID, orders.contains(where: { $0.owner == o.owner && $0.clientID == c }) { throw .duplicateClientID(c) }
    }

    mutating func insert(_ o: BookOrder) throws(BookError) {
        try checkNew(o)
        if let b = best(o.side == .buy ? .sell : .buy), crosses(o.side, o.price, b) { throw .wouldCross(opposite: b) }
        orders.append(o)
    }

    struct Outcome: Equatable {
        var fills: [OrderBook.Fill]
        var cancelled: [OrderBook.CancelledOrder]
        var rested: BookOrder?
    }

    mutating func match(_ t: BookOrder, maxFill: Int64, canFill: (BookOrder, Int64) -> OrderBook.MakerDecision) throws(BookError) -> Outcome {
        try checkNew(t)
        let makers = side(t.side == .buy ? .sell : .buy)
        if t.timeInForce == .alo, let b = makers.first?.price, crosses(t.side, t.price, b) { throw .wouldCross(opposite: b) }
        let cap = min(t.size, max(0, maxFill))
        var filled: Int64 = 0
        var out = Outcome(fills: [], cancelled: [], rested: nil)
        var removed: Set<OrderID> = []
        var reduced: [OrderID: Int64] = [:]
        for m in makers where filled < cap && crosses(t.side, t.price, m.price) {
            if m.owner == t.owner {
                out.cancelled.append(.init(order: m, reason: .selfTrade)); removed.insert(m.id)
                continue
            }
            let s = min(m.size, cap - filled)
            if canFill(m, s) == .cancel {
                out.cancelled.append(.init(order: m, reason: .vetoed)); removed.insert(m.id)
                continue
            }
            out.fills.append(.init(maker: m, size: s))
            filled += s
            if s == m.size { removed.insert(m.id) } else { reduced[m.id] = m.size - s }
        }
        let left = t.size - filled
        let cappedAtMax = cap < t.size && filled == cap
        var restOrder: BookOrder?
        if t.timeInForce != .ioc && left > 0 && !cappedAtMax {
            var r = t; r.size = left; restOrder = r
            let sameLevel = orders.filter { $0.side == t.side && $0.price == t.price }.reduce(Int64(0)) { $0 &+ $1.size }
            if sameLevel.addingReportingOverflow(left).overflow { throw .levelSizeOverflow(price: t.price) }
        }
        orders = orders.compactMap { o in
            if removed.contains(o.id) { return nil }
            var o = o
            if let r = reduced[o.id] { o.size = r }
            return o
        }
        if let r = restOrder { orders.append(r); out.rested = r }
        return out
    }

    mutating func cancel(_ pick: (BookOrder) -> Bool) -> [BookOrder] {
        let gone = orders.filter(pick).sorted { $0.id < $1.id }
        orders.removeAll(where: pick)
        return gone
    }

    func depth(_ s: Side, _ n: Int) -> [OrderBook.DepthLevel] {
        var out: [OrderBook.DepthLevel] = []
        for o in side(s) {
            if let last = out.last, last.price == o.price {
                out[out.count - 1].size += o.size; out[out.count - 1].orders += 1
            } else {
                if out.count == n { break }
                out.append(.init(price: o.price, size: o.size, orders: 1))
            }
        }
        return out
    }

    /// Impact price by filling order by order, as a fraction of base units.
    func impact(_ s: Side, notional: Int64, unitScale: Int64) -> Int64? {
        let target = Int128(notional) * Int128(unitScale)
        var spent: Int128 = 0
        // Base units bought so far = whole / 1 + partNumerator / partPrice.
        var whole: Int128 = 0
        for o in side(s) {
            let v = Int128(o.price) * Int128(o.size)
            if spent + v >= target {
                let part = target - spent  // buys part / price base units
                let num = target * Int128(o.price)
                let den = whole * Int128(o.price) + part
                let q = num / den
                return Int64(s == .sell && q * den != num ? q + 1 : q)
            }
            spent += v
            whole += Int128(o.size)
        }
        return nil
    }
}

/// SplitMix64: a tiny seeded generator, so every run sees the same workload.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct BookReferenceTests {
    /// Thousands of random operations on the book and the reference, comparing
    /// every result and the whole state after each step.
    @Test(arguments: [UInt64(1), 2, 3])
    func randomWorkloadMatchesReference(seed: UInt64) throws {
        var rng = SeededGenerator(state: seed)
        var book = OrderBook(market: 5)
        var ref = ReferenceBook()
        var nextID: OrderID = 1
        let owners = (1...6).map { BookFixture.owner(UInt8($0)) }
        var checkedFills = 0, checkedSelfTrades = 0, checkedVetoes = 0, checkedRests = 0

        for step in 0..<3_000 {
            let roll = Int.random(in: 0..<100, using: &rng)
            let owner = owners.randomElement(using: &rng)!
            switch roll {
            case 0..<55:
                let side: Side = Bool.random(using: &rng) ? .buy : .sell
                // Both sides draw from one range, so many orders cross.
                let price = Int64.random(in: 94...106, using: &rng)
                let tif: TimeInForce = [.gtc, .gtc, .gtc, .ioc, .alo].randomElement(using: &rng)!
                let cloid: ClientOrderID? = Int.random(in: 0..<4, using: &rng) == 0
                    ? BookFixture.cloid(UInt64.random(in: 0..<4, using: &rng)) : nil
                let size = Int.random(in: 0..<50, using: &rng) == 0 ? 0 : Int64.random(in: 1...30, using: &rng)
                // Mostly fresh ids; sometimes a resting one, to exercise the refusal.
                let id = Int.random(in: 0..<50, using: &rng) == 0 ? OrderID.random(in: 1...nextID, using: &rng) : nextID
                nextID += 1
                let taker = BookOrder(id: id, owner: owner, side: side, price: price, size: size, clientID: cloid,
                                      timeInForce: tif, reservedMargin: Int64(step))
                let maxFill: Int64 = Int.random(in: 0..<5, using: &rng) == 0 ? Int64.random(in: 0...20, using: &rng) : .max
                // Veto makers by a rule both books see identically; record what each asks.
                var askedBook: [String] = [], askedRef: [String] = []
                let vetoSalt = UInt64.random(in: 0..<5, using: &rng)
                func veto(_ m: BookOrder) -> OrderBook.MakerDecision { (m.id &+ vetoSalt) % 5 == 0 ? .cancel : .fill }
                let got: Result<OrderBook.MatchPlan, BookError> = Result { () throws(BookError) in
                    try book.match(taker, maxFill: maxFill) { m, s in askedBook.append("\(m.id):\(s)"); return veto(m) }
                }
                let want: Result<ReferenceBook.Outcome, BookError> = Result { () throws(BookError) in
                    try ref.match(taker, maxFill: maxFill) { m, s in askedRef.append("\(m.id):\(s)"); return veto(m) }
                }
                switch (got, want) {
                case (.success(let plan), .success(let outcome)):
                    #expect(plan.fills == outcome.fills, "step \(step)")
                    #expect(plan.cancelled == outcome.cancelled, "step \(step)")
                    #expect(plan.remainder == outcome.rested, "step \(step)")
                    #expect(plan.filledSize == outcome.fills.reduce(0) { $0 + $1.size })
                    checkedFills += plan.fills.count
                    checkedSelfTrades += plan.cancelled.filter { $0.reason == .selfTrade }.count
                    checkedVetoes += plan.cancelled.filter { $0.reason == .vetoed }.count
                    checkedRests += plan.remainder == nil ? 0 : 1
                case (.failure(let e1), .failure(let e2)):
                    #expect(e1 == e2, "step \(step)")
                default:
                    Issue.record("step \(step): book \(got) vs reference \(want)")
                }
                #expect(askedBook == askedRef, "step \(step)")
            case 55..<75:
                // Cancel by id: usually a resting order, sometimes a missing one.
                let all = ref.orders
                let id = all.isEmpty || Int.random(in: 0..<6, using: &rng) == 0
                    ? OrderID.random(in: 1...nextID, using: &rng) : all.randomElement(using: &rng)!.id
                let got = book.cancel(id: id)
                #expect(got == ref.cancel { $0.id == id }.first, "step \(step)")
            case 75..<85:
                let cloid = BookFixture.cloid(UInt64.random(in: 0..<4, using: &rng))
                let got = book.cancel(owner: owner, clientID: cloid)
                #expect(got == ref.cancel { $0.owner == owner && $0.clientID == cloid }.first, "step \(step)")
            case 85..<88:
                let got = book.cancelAll(owner: owner)
                #expect(got == ref.cancel { $0.owner == owner }, "step \(step)")
            case 88..<90:
                if let o = ref.orders.randomElement(using: &rng) {
                    let size = Int64.random(in: 0...o.size, using: &rng)
                    let got = book.shrink(id: o.id, to: size)
                    if size > 0 && size < o.size {
                        ref.orders = ref.orders.map { var x = $0; if x.id == o.id { x.size = size }; return x }
                        #expect(got == ref.orders.first { $0.id == o.id })
                    } else {
                        #expect(got == nil)
                    }
                }
            case 90..<93:
                if let o = ref.orders.randomElement(using: &rng) {
                    let value = Int64.random(in: 0...1_000, using: &rng)
                    let known = book.setReservedMargin(id: o.id, to: value)
                    #expect(known)
                    ref.orders = ref.orders.map { var x = $0; if x.id == o.id { x.reservedMargin = value }; return x }
                }
            default:
                // Direct rests, which may be refused for crossing.
                let side: Side = Bool.random(using: &rng) ? .buy : .sell
                let o = BookOrder(id: nextID, owner: owner, side: side, price: Int64.random(in: 90...110, using: &rng),
                                  size: Int64.random(in: 1...30, using: &rng))
                nextID += 1
                var got: BookError?, want: BookError?
                do { try book.insert(o) } catch { got = error }
                do { try ref.insert(o) } catch { want = error }
                #expect(got == want, "step \(step)")
            }

            // The whole state, after every step.
            #expect(book.orders == ref.all, "step \(step)")
            #expect(book.count == ref.orders.count)
            #expect(book.bestBid == ref.best(.buy) && book.bestAsk == ref.best(.sell))
            if let b = book.bestBid, let a = book.bestAsk { #expect(b < a, "crossed at step \(step)") }
            for o in owners {
                #expect(book.openOrderCount(owner: o) == ref.orders.filter { $0.owner == o }.count)
            }
            if step % 10 == 0 {
                #expect(book.depth(of: .buy, maxLevels: 4) == ref.depth(.buy, 4))
                #expect(book.depth(of: .sell, maxLevels: 4) == ref.depth(.sell, 4))
                let notional = Int64.random(in: 1...4_000, using: &rng)
                for s in [Side.buy, .sell] {
                    #expect(book.impactPrice(s, notional: notional, unitScale: 3) == ref.impact(s, notional: notional, unitScale: 3),
                            "step \(step)")
                }
                for o in owners {
                    #expect(book.orders(owner: o) == ref.orders.filter { $0.owner == o }.sorted { $0.id < $1.id })
                }
            }
            if step % 100 == 0 {
                let copy = try OrderBook(canonicalBytes: book.canonicalBytes)
                #expect(copy == book)
                #expect(copy.canonicalBytes == book.canonicalBytes)
                // The decoded copy must behave the same from here on, not just look the same.
                book = copy
            }
        }
        // The workload must have exercised every path.
        #expect(checkedFills > 500 && checkedSelfTrades > 50 && checkedVetoes > 50 && checkedRests > 300,
                "fills \(checkedFills), self-trades \(checkedSelfTrades), vetoes \(checkedVetoes), rests \(checkedRests)")
    }
}

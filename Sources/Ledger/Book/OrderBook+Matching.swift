import BallastCrypto

extension OrderBook {
    /// What the ledger decides for one maker order the taker reached.
    public enum MakerDecision: Sendable {
        /// Fill it (the ledger will settle the trade).
        case fill
        /// Cancel it instead: the fill would break its owner's margin, or a
        /// reduce-only maker would grow its position.
        case cancel
    }

    /// Why a resting order was cancelled during matching.
    public enum CancelReason: UInt8, Sendable {
        /// It belonged to the taker's owner (self-trade prevention cancels the resting order).
        case selfTrade = 0
        /// The ledger's maker check refused the fill.
        case vetoed = 1
    }

    /// One trade: `size` of the maker order at the maker's price.
    public struct Fill: Hashable, Sendable {
        /// The maker order as it rested before this fill.
        public var maker: BookOrder
        /// Base units traded.
        public var size: Int64

        @inlinable public var makerID: OrderID { maker.id }
        @inlinable public var makerOwner: Address { maker.owner }
        /// The trade price: always the maker's.
        @inlinable public var price: Int64 { maker.price }
        /// What is left of the maker order after the fill (0: it left the book).
        @inlinable public var makerRemaining: Int64 { maker.size - size }
    }

    /// A resting order that matching removed without a trade.
    public struct CancelledOrder: Hashable, Sendable {
        public var order: BookOrder
        public var reason: CancelReason
    }

    /// The outcome of matching one taker order, computed without changing the
    /// book; `apply(_:)` carries it out. Splitting the two lets the ledger check
    /// the taker's margin on the planned fills and drop the plan, with nothing
    /// changed, when the order must be rejected.
    public struct MatchPlan: Sendable {
        /// The market of the book that made the plan.
        public let market: MarketID
        /// The incoming order.
        public let taker: BookOrder
        /// Trades in execution order (best price first, then time).
        public internal(set) var fills: [Fill] = []
        /// Resting orders removed without a trade, in the order they were met.
        public internal(set) var cancelled: [CancelledOrder] = []
        /// Sum of the fill sizes.
        public internal(set) var filledSize: Int64 = 0
        /// True when filling stopped at the caller's `maxFill` below the taker's size.
        public internal(set) var stoppedAtMaxFill = false
        /// Every step, fills and cancels interleaved, in the order they happen.
        @usableFromInline var steps: [Step] = []
        @usableFromInline let revision: UInt64

        /// Taker size left unfilled.
        @inlinable public var unfilledSize: Int64 { taker.size - filledSize }

        /// The order that will rest after the fills: the unfilled part of a GTC
        /// or ALO order. Nil for IOC, when everything filled, and when filling
        /// stopped at `maxFill` (the rest would grow a reduce-only position).
        public var remainder: BookOrder? {
            guard taker.timeInForce != .ioc, unfilledSize > 0, !stoppedAtMaxFill else { return nil }
            var rest = taker
            rest.size = unfilledSize
            return rest
        }

        /// Volume-weighted sum of price x size over the fills (USDC base units
        /// times the base asset's unit scale), exact.
        public var filledValue: Int128 {
            fills.reduce(Int128(0)) { $0 + Int128($1.price) * Int128($1.size) }
        }

        @usableFromInline
        struct Step: Sendable {
            @usableFromInline var node: Int32
            /// The maker order as the plan saw it.
            @usableFromInline var maker: BookOrder
            /// Size to fill; 0 means cancel.
            @usableFromInline var fillSize: Int64

            /// Whether the step takes the order out of the book.
            @usableFromInline var removes: Bool { fillSize == 0 || fillSize == maker.size }
        }
    }

    /// Works out how `taker` would match, without changing the book.
    ///
    /// The taker walks the opposite side from the best price while that price
    /// is at least as good as its limit. At each resting order, in time order:
    /// - the taker owner's own order is cancelled (self-trade prevention) and
    ///   the walk goes on;
    /// - otherwise `canFill(maker, size)` is asked whether the maker may trade
    ///   `size`; `.cancel` cancels the maker order instead and the walk goes on.
    ///
    /// Filling stops once `min(taker.size, maxFill)` has traded; the ledger
    /// passes the largest size a reduce-only order may still take (its
    /// position), or leaves the default for ordinary orders.
    ///
    /// `canFill` must not change the book. It sees each maker once and in the
    /// order of execution, so it can accumulate per-owner effects; to abort on
    /// an error of its own, return `.cancel` and drop the plan.
    ///
    /// Throws, before any matching, when the taker's price or size is not
    /// positive, its id or (owner, client id) already rests, an ALO order would
    /// cross, or its remainder could not rest (level size overflow).
    public func plan(_ taker: BookOrder, maxFill: Int64 = .max,
                     canFill: (BookOrder, Int64) -> MakerDecision) throws(BookError) -> MatchPlan {
        guard taker.price > 0 else { throw .priceNotPositive(taker.price) }
        guard taker.size > 0 else { throw .sizeNotPositive(taker.size) }
        guard nodeByID[taker.id] == nil else { throw .duplicateOrderID(taker.id) }
        if let cid = taker.clientID, nodeByClient[ClientKey(owner: taker.owner, clientID: cid)] != nil {
            throw .duplicateClientID(cid)
        }
        let makerSide = OrderBook.opposite(of: taker.side)
        if taker.timeInForce == .alo, let best = bestPrice(makerSide),
           OrderBook.crosses(side: taker.side, limit: taker.price, resting: best) {
            throw .wouldCross(opposite: best)
        }

        var plan = MatchPlan(market: market, taker: taker, revision: revision)
        let limit = min(taker.size, max(0, maxFill))
        var capacity = limit
        let index = makerSide == .buy ? bidIndex : askIndex
        var i = index.slots.count - 1
        while capacity > 0 && i >= 0 {
            let level = levels[Int(index.slots[i])]
            guard OrderBook.crosses(side: taker.side, limit: taker.price, resting: level.price) else { break }
            var n = level.head
            while n != Node.none && capacity > 0 {
                let maker = nodes[Int(n)].order
                if maker.owner == taker.owner {
                    plan.steps.append(.init(node: n, maker: maker, fillSize: 0))
                    plan.cancelled.append(CancelledOrder(order: maker, reason: .selfTrade))
                } else {
                    let size = min(maker.size, capacity)
                    switch canFill(maker, size) {
                    case .fill:
                        plan.steps.append(.init(node: n, maker: maker, fillSize: size))
                        plan.fills.append(Fill(maker: maker, size: size))
                        capacity -= size
                    case .cancel:
                        plan.steps.append(.init(node: n, maker: maker, fillSize: 0))
                        plan.cancelled.append(CancelledOrder(order: maker, reason: .vetoed))
                    }
                }
                n = nodes[Int(n)].next
            }
            i -= 1
        }
        plan.filledSize = limit - capacity
        plan.stoppedAtMaxFill = limit < taker.size && capacity == 0

        // The remainder rests on the taker's side, which the walk did not touch,
        // so its one failure mode can be checked now.
        if let rest = plan.remainder,
           let slot = (taker.side == .buy ? bidIndex : askIndex).find(LevelIndex.key(price: rest.price, side: rest.side)),
           levels[Int(slot)].size.addingReportingOverflow(rest.size).overflow {
            throw .levelSizeOverflow(price: rest.price)
        }
        return plan
    }

    /// Carries out `plan`: fills and cancels the maker orders and rests the
    /// remainder. Returns the rested order, if any (its reserved margin is the
    /// taker's; set it with `setReservedMargin`).
    ///
    /// Throws `stalePlan`, with the book unchanged, if the plan was made by
    /// another book or the book changed since; otherwise it cannot fail.
    @discardableResult
    public mutating func apply(_ plan: MatchPlan) throws(BookError) -> BookOrder? {
        guard plan.market == market, plan.revision == revision, fits(plan) else { throw .stalePlan }
        revision &+= 1
        for step in plan.steps {
            if step.removes { _ = remove(step.node) } else { reduce(step.node, by: step.fillSize) }
        }
        guard let rest = plan.remainder else { return nil }
        // plan() checked the id, client id and level size, and the walk removed
        // every crossing order unless it stopped at maxFill, in which case there
        // is no remainder: resting it needs no further check.
        let key = LevelIndex.key(price: rest.price, side: rest.side)
        insertValidated(rest, key: key, level: (rest.side == .buy ? bidIndex : askIndex).find(key))
        return rest
    }

    /// Whether carrying out `plan` keeps the book's invariants, checked without
    /// trusting the revision (a copy of this book may have reached the same
    /// revision by other changes): its steps must be exactly the front of the
    /// maker side in priority order, each order as the plan saw it, and a
    /// remainder must neither cross what is left nor clash with a resting id,
    /// client id or level total. O(steps).
    @usableFromInline
    func fits(_ plan: MatchPlan) -> Bool {
        let taker = plan.taker
        let index = taker.side == .buy ? askIndex : bidIndex
        var i = index.slots.count - 1
        var n = i >= 0 ? levels[Int(index.slots[i])].head : Node.none
        for (k, step) in plan.steps.enumerated() {
            if n == Node.none && i > 0 { i -= 1; n = levels[Int(index.slots[i])].head }
            guard n != Node.none, n == step.node, nodes[Int(n)].order == step.maker else { return false }
            guard step.fillSize >= 0, step.fillSize <= step.maker.size else { return false }
            if step.removes { n = nodes[Int(n)].next } else if k != plan.steps.count - 1 { return false }
        }
        guard let rest = plan.remainder else { return true }
        if n == Node.none && i > 0 { i -= 1; n = levels[Int(index.slots[i])].head }
        if n != Node.none, OrderBook.crosses(side: rest.side, limit: rest.price, resting: nodes[Int(n)].order.price) {
            return false
        }
        if nodeByID[rest.id] != nil { return false }
        if let cid = rest.clientID, nodeByClient[ClientKey(owner: rest.owner, clientID: cid)] != nil { return false }
        let own = rest.side == .buy ? bidIndex : askIndex
        if let slot = own.find(LevelIndex.key(price: rest.price, side: rest.side)),
           levels[Int(slot)].size.addingReportingOverflow(rest.size).overflow {
            return false
        }
        return true
    }

    /// `plan` then `apply`: matches `taker` and rests its remainder.
    @discardableResult
    public mutating func match(_ taker: BookOrder, maxFill: Int64 = .max,
                               canFill: (BookOrder, Int64) -> MakerDecision = { _, _ in .fill }) throws(BookError) -> MatchPlan {
        let plan = try self.plan(taker, maxFill: maxFill, canFill: canFill)
        try apply(plan)
        return plan
    }
}

extension OrderBook {
    /// One aggregated price level.
    public struct DepthLevel: Hashable, Sendable {
        public var price: Int64
        /// Total size resting at the price.
        public var size: Int64
        /// Number of orders resting at the price.
        public var orders: Int

        public init(price: Int64, size: Int64, orders: Int) {
            self.price = price
            self.size = size
            self.orders = orders
        }
    }

    /// The top of the book, aggregated per price, best first on each side.
    public struct Depth: Hashable, Sendable {
        public var bids: [DepthLevel]
        public var asks: [DepthLevel]
    }

    /// Up to `maxLevels` levels per side, best first. O(maxLevels).
    public func depth(maxLevels: Int) -> Depth {
        Depth(bids: depth(of: .buy, maxLevels: maxLevels), asks: depth(of: .sell, maxLevels: maxLevels))
    }

    /// Up to `maxLevels` levels of one side, best first.
    public func depth(of side: Side, maxLevels: Int) -> [DepthLevel] {
        let index = side == .buy ? bidIndex : askIndex
        let n = min(max(0, maxLevels), index.slots.count)
        var out: [DepthLevel] = []
        out.reserveCapacity(n)
        var i = index.slots.count - 1
        while out.count < n {
            let level = levels[Int(index.slots[i])]
            out.append(DepthLevel(price: level.price, size: level.size, orders: Int(level.count)))
            i -= 1
        }
        return out
    }

    /// Number of price levels on `side`.
    public func levelCount(_ side: Side) -> Int { side == .buy ? bidIndex.keys.count : askIndex.keys.count }

    /// The average price at which a market order would trade `notional` USDC
    /// base units against the resting `side` (`.buy`: the impact bid, selling
    /// into the bids; `.sell`: the impact ask), or nil when that side holds
    /// less than `notional` (or `notional` is not positive).
    ///
    /// The average is notional / base amount bought or sold, with the last level
    /// used only in part, computed exactly and rounded away from the side's
    /// favour: the impact bid rounds down and the impact ask up, so funding
    /// premiums are never overstated. `unitScale` is 10^decimals of the base
    /// asset. Nil too if an intermediate value would pass Int128 (sizes and
    /// prices no real market has).
    ///
    /// Example: asks 100 @ 2.00 and 100 @ 3.00 USDC (unit scale 1), notional
    /// 500 USDC: 200 buys 100 at 2, 300 buys 100 at 3, average 500 / 200 = 2.50.
    public func impactPrice(_ side: Side, notional: Int64, unitScale: Int64) -> Int64? {
        guard notional > 0, unitScale > 0 else { return nil }
        // All values are price x size, i.e. USDC base units x unitScale.
        let (target, o1) = Int128(notional).multipliedReportingOverflow(by: Int128(unitScale))
        if o1 { return nil }
        let index = side == .buy ? bidIndex : askIndex
        var value: Int128 = 0   // value of the levels taken whole
        var amount: Int128 = 0  // base units of the levels taken whole
        var i = index.slots.count - 1
        while i >= 0 {
            let level = levels[Int(index.slots[i])]
            let price = Int128(level.price)
            let levelValue = price * Int128(level.size)  // both < 2^63: fits
            if value + levelValue >= target {
                // Whole levels, then (target - value) / price base units here:
                // average = target / (amount + (target - value) / price)
                //         = target x price / (amount x price + target - value).
                let (numerator, o2) = target.multipliedReportingOverflow(by: price)
                let (scaledAmount, o3) = amount.multipliedReportingOverflow(by: price)
                if o2 || o3 { return nil }
                let (denominator, o4) = scaledAmount.addingReportingOverflow(target - value)
                if o4 { return nil }
                let (q, r) = numerator.quotientAndRemainder(dividingBy: denominator)
                let average = side == .sell && r != 0 ? q + 1 : q
                return Int64(exactly: average)
            }
            value += levelValue
            amount += Int128(level.size)
            i -= 1
        }
        return nil
    }
}

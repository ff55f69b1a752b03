/// The marks of one underlying at which an account would become liquidatable.
public struct LiquidationPrices: Sendable, Equatable, Hashable {
    /// The highest mark below the current one at which the account is liquidatable, or nil if
    /// none down to the lowest positive mark (1 base unit).
    public var below: Int64?
    /// The lowest mark above the current one at which the account is liquidatable, or nil if none
    /// as far as the engine can compute (up to where the arithmetic would overflow).
    public var above: Int64?

    public init(below: Int64?, above: Int64?) {
        self.below = below
        self.above = above
    }
}

extension MarginEngine {
    /// Where `asset`'s mark would make the account liquidatable (MR / V_liq above the ratio in
    /// the given mode), every other price, and this asset's oracle, held where they are.
    ///
    /// Before rounding, MR - ratio x V_liq is a convex function of one mark (V_liq is linear in it
    /// and MR is a maximum of sums of absolute values of linear functions), so the healthy marks
    /// form one interval around the current mark and each side has a single boundary. The engine
    /// finds each by bisection over integer marks (about 64 evaluations per side); rounding MR up
    /// and V_liq down can move a boundary by a base unit.
    ///
    /// Returns nil when the account has no exposure in `asset` or is liquidatable already.
    public func liquidationPrices(_ account: AccountRisk, asset: AssetID,
                                  portfolioMode: Bool = true) throws(MarginError) -> LiquidationPrices? {
        guard let index = account.exposures.firstIndex(where: { $0.asset == asset }) else { return nil }
        let current = account.exposures[index].mark
        var probe = account
        /// Liquidatable at `mark`; nil when the numbers overflow there.
        func liquidatable(at mark: Int64) throws(MarginError) -> Bool? {
            probe.exposures[index].mark = mark
            do {
                return try evaluate(probe).requirement(portfolioMode: portfolioMode).isLiquidatable
            } catch .overflow {
                return nil
            }
        }
        if try liquidatable(at: current) != false { return nil }

        // Below: healthy at `current`; bisect [1, current) for the top liquidatable mark. The
        // bracket starts at the lowest positive mark, not at 0: at a mark of 0 a standard
        // account's requirement (|size| x mark x r) vanishes, so 0 looks healthy however far
        // below the liquidation price it lies. From 1 up, MR > 0 wherever it depends on this
        // mark, and the liquidatable marks below `current` are exactly [1, boundary].
        var below: Int64? = nil
        if current > 1, try liquidatable(at: 1) == true {
            var healthy = current, sick: Int64 = 1
            while healthy - sick > 1 {
                let mid = sick + (healthy - sick) / 2
                if try liquidatable(at: mid) == false { healthy = mid } else { sick = mid }
            }
            below = sick
        }

        // Above: double until liquidatable (or no longer computable), then bisect.
        var above: Int64? = nil
        var healthy = current
        var step = max(current, 1)
        while true {
            let (next, overflow) = healthy.addingReportingOverflow(step)
            if overflow { break }
            guard let sick = try liquidatable(at: next) else { break }
            if sick {
                var hi = next
                while hi - healthy > 1 {
                    let mid = healthy + (hi - healthy) / 2
                    if try liquidatable(at: mid) == false { healthy = mid } else { hi = mid }
                }
                above = hi
                break
            }
            healthy = next
            step = step.multipliedReportingOverflow(by: 2).overflow ? Int64.max : step * 2
        }
        return LiquidationPrices(below: below, above: above)
    }
}

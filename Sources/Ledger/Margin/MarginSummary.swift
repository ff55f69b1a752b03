/// One mode's margin numbers for an account, in USDC base units. Requirements are rounded up,
/// values down, each once from its exact value.
public struct Requirement: Sendable, Equatable, Hashable {
    /// MR: maintenance requirement.
    public var maintenance: Int64
    /// IR: initial requirement, what risk-adding actions must leave covered.
    public var initial: Int64
    /// V_liq: the value liquidation compares MR with.
    public var liquidationValue: Int64
    /// V_init: the value initial checks compare IR with.
    public var initialValue: Int64
    /// V_init - IR. Risk-adding actions need slack >= the sum of order reserves.
    public var slack: Int64
    /// MR / V_liq above the liquidation ratio (compared by cross-multiplication, not `ratioPPM`).
    public var isLiquidatable: Bool

    /// MR / V_liq in ppm, rounded up: 0 when MR = 0, `Int64.max` ("infinite") when V_liq <= 0
    /// (or when the ratio is beyond `Int64`). Computed when read, not with the requirement:
    /// it costs a 128-bit division, and only queries and error messages show it.
    public var ratioPPM: Int64 {
        if maintenance == 0 { return 0 }
        if liquidationValue <= 0 { return .max }
        // |MR| x 10^6 < 2^83 and V_liq > 0: the quotient fits in Int128, so this cannot throw.
        guard let ratio = try? Int128.mulDiv(Int128(maintenance), Int128(PPM.one), Int128(liquidationValue),
                                             rounding: .up) else { return .max }
        return Int64(exactly: ratio) ?? .max
    }

    public init(maintenance: Int64, initial: Int64, liquidationValue: Int64, initialValue: Int64,
                liquidationRatioPPM: Int64) throws(LedgerMathError) {
        self.maintenance = maintenance
        self.initial = initial
        self.liquidationValue = liquidationValue
        self.initialValue = initialValue
        slack = try initialValue.checkedSubtracting(initial)
        isLiquidatable = false
        isLiquidatable = ratioExceeds(ppm: liquidationRatioPPM)
    }

    /// MR / V_liq > `ppm` / 10^6, exactly: false when MR = 0, true when V_liq <= 0 < MR.
    /// Partial liquidation continues while `ratioExceeds(ppm: 800_000)`.
    public func ratioExceeds(ppm: Int64) -> Bool {
        if maintenance == 0 { return false }
        if liquidationValue <= 0 { return true }
        // |MR| < 2^63 and |ppm| < 2^63: both products fit in Int128.
        return Int128(maintenance) * Int128(PPM.one) > Int128(ppm) * Int128(liquidationValue)
    }

    /// V_liq < numerator / denominator x MR (the spec's whole-takeover test with 2 / 3), exactly.
    public func liquidationValueBelow(numerator: Int64, denominator: Int64) -> Bool {
        Requirement.liquidationValue(liquidationValue, below: numerator, over: denominator, of: maintenance)
    }

    /// `value < numerator / denominator x maintenance`, exactly.
    static func liquidationValue(_ value: Int64, below numerator: Int64, over denominator: Int64,
                                 of maintenance: Int64) -> Bool {
        Int128(value) * Int128(denominator) < Int128(numerator) * Int128(maintenance)
    }
}

/// Both modes' numbers for one account, side by side, plus the portfolio-only quantities.
public struct MarginSummary: Sendable, Equatable, Hashable {
    /// Portfolio mode: MR = max(min, PR) when the account has risk, IR = max(2 PR, MR), V_liq and
    /// V_init with spot counted (hedged at full value, the rest haircut or marked up).
    public var portfolio: Requirement
    /// Standard (cross) mode: MR = sum |P| m r, IR = 2 x that, values = USDC + unrealized PnL,
    /// spot not counted.
    public var standard: Requirement
    /// PR, the portfolio requirement before the minimum, rounded up.
    public var portfolioRequirement: Int64
    /// The account has a perp position, a borrow or an open order (so MR >= the minimum).
    public var hasRisk: Bool
    /// Value of everything borrowed (negative USDC and negative spot at mark), rounded up.
    public var borrowedValue: Int64
    /// Sum of collateral x LTV (positive USDC x USDC LTV, positive spot at mark x LTV), rounded
    /// down. A borrow is allowed only while `borrowedValue <= borrowCapacity`.
    public var borrowCapacity: Int64

    public init(portfolio: Requirement, standard: Requirement, portfolioRequirement: Int64, hasRisk: Bool,
                borrowedValue: Int64, borrowCapacity: Int64) {
        self.portfolio = portfolio
        self.standard = standard
        self.portfolioRequirement = portfolioRequirement
        self.hasRisk = hasRisk
        self.borrowedValue = borrowedValue
        self.borrowCapacity = borrowCapacity
    }

    /// The numbers of the mode the account is in.
    public func requirement(portfolioMode: Bool) -> Requirement { portfolioMode ? portfolio : standard }

    /// Borrowed value within the LTV limit.
    public var withinBorrowCapacity: Bool { borrowedValue <= borrowCapacity }
}

/// PR's four parts, each rounded up on its own (for display: they may sum to up to 3 more than
/// PR, which is rounded once from the exact total).
public struct RequirementBreakdown: Sendable, Equatable, Hashable {
    /// S x |sum beta_u N_u|.
    public var marketFactor: Int64
    /// sum e_u |N_u|.
    public var idiosyncratic: Int64
    /// sum c r_u H_u m_u.
    public var basisContingency: Int64
    /// sum r_u max(0, G_u - L_u).
    public var depthAddOn: Int64

    public init(marketFactor: Int64, idiosyncratic: Int64, basisContingency: Int64, depthAddOn: Int64) {
        self.marketFactor = marketFactor
        self.idiosyncratic = idiosyncratic
        self.basisContingency = basisContingency
        self.depthAddOn = depthAddOn
    }
}

import BallastCrypto

/// Everything a chain starts from: who validates, which assets and markets exist,
/// every risk and rate parameter, and the opening balances.
///
/// Ratios are parts per million (`…Ppm`); funding rates, which are finer, are parts
/// per billion (`…Ppb`). Amounts are base units of their asset; prices are USDC base
/// units (6 decimals) per whole unit of the asset. Nothing here is interpreted by code
/// constants: change the file, not the code.
public struct Genesis: Codable, Sendable, Equatable {
    /// Free text: how the file was made (e.g. how validator keys were derived).
    public var description: String?
    public var chainID: String
    /// Block time of the genesis state, milliseconds since the Unix epoch.
    public var genesisTimeMs: Int64
    public var validators: [Validator]
    /// `assets[0]` is USDC, the numeraire.
    public var assets: [AssetConfig]
    public var markets: [MarketConfig]
    public var risk: RiskParameters
    /// The two-slope rate model every borrowable asset uses unless it has its own.
    public var rateModel: RateModel
    public var funding: FundingParameters
    public var oracle: OracleParameters
    public var eligibility: Eligibility
    public var balances: [InitialBalance]
    /// The insurance fund's opening balances (wallet-like, per asset).
    public var insuranceFund: [AssetAmount]
    /// The testnet faucet account (an ordinary account funded in `balances`), if any.
    public var faucet: Address?

    enum CodingKeys: String, CodingKey {
        case description, chainID = "chainId", genesisTimeMs, validators, assets, markets, risk,
             rateModel, funding, oracle, eligibility, balances, insuranceFund, faucet
    }

    public init(description: String? = nil, chainID: String, genesisTimeMs: Int64, validators: [Validator],
                assets: [AssetConfig], markets: [MarketConfig], risk: RiskParameters, rateModel: RateModel,
                funding: FundingParameters, oracle: OracleParameters, eligibility: Eligibility,
                balances: [InitialBalance], insuranceFund: [AssetAmount] = [], faucet: Address? = nil) {
        self.description = description
        self.chainID = chainID
        self.genesisTimeMs = genesisTimeMs
        self.validators = validators
        self.assets = assets
        self.markets = markets
        self.risk = risk
        self.rateModel = rateModel
        self.funding = funding
        self.oracle = oracle
        self.eligibility = eligibility
        self.balances = balances
        self.insuranceFund = insuranceFund
        self.faucet = faucet
    }
}

/// A consensus validator: also the only kind of account that may submit oracle prices.
public struct Validator: Codable, Sendable, Equatable {
    public var name: String
    public var publicKey: PublicKey
    /// Voting and oracle weight.
    public var stake: Int64

    public init(name: String, publicKey: PublicKey, stake: Int64) {
        self.name = name
        self.publicKey = publicKey
        self.stake = stake
    }

    public var address: Address { publicKey.address }
}

/// One asset: how it counts as collateral, how it moves in a shock, its pool caps.
public struct AssetConfig: Codable, Sendable, Equatable {
    public var symbol: String
    /// Base units per whole unit are 10^decimals.
    public var decimals: Int64
    /// Whether it has a lending pool (supply, borrow, auto-borrow).
    public var borrowable: Bool
    /// Loan-to-value, ppm. The liquidation threshold is derived: LT = 0.5 + 0.5 LTV.
    public var ltvPpm: Int64
    /// Sensitivity to the market factor, ppm (1.0 = 1,000,000). USDC: 0.
    public var betaPpm: Int64
    /// Idiosyncratic move `e`, ppm. USDC: 0.
    public var idiosyncraticPpm: Int64
    /// Depth `L_u` for the size add-on, USDC base units. USDC: 0.
    public var depth: Int64
    /// Opening oracle price, USDC base units per whole unit (USDC itself: 10^6).
    public var initialPrice: Int64
    public var supplyCap: Int64
    public var borrowCap: Int64
    public var userSupplyCap: Int64
    public var userBorrowCap: Int64
    /// Overrides the genesis-wide rate model for this pool.
    public var rateModel: RateModel?

    public init(symbol: String, decimals: Int64, borrowable: Bool, ltvPpm: Int64, betaPpm: Int64,
                idiosyncraticPpm: Int64, depth: Int64, initialPrice: Int64, supplyCap: Int64, borrowCap: Int64,
                userSupplyCap: Int64, userBorrowCap: Int64, rateModel: RateModel? = nil) {
        self.symbol = symbol
        self.decimals = decimals
        self.borrowable = borrowable
        self.ltvPpm = ltvPpm
        self.betaPpm = betaPpm
        self.idiosyncraticPpm = idiosyncraticPpm
        self.depth = depth
        self.initialPrice = initialPrice
        self.supplyCap = supplyCap
        self.borrowCap = borrowCap
        self.userSupplyCap = userSupplyCap
        self.userBorrowCap = userBorrowCap
        self.rateModel = rateModel
    }
}

/// Spot (base against USDC) or a USDC-settled perpetual on the base asset.
public enum MarketKind: String, Codable, Sendable, Equatable {
    case spot
    case perp
}

/// One market. Prices are USDC base units per whole unit of `base`; sizes are base units of `base`.
public struct MarketConfig: Codable, Sendable, Equatable {
    public var name: String
    public var kind: MarketKind
    /// The traded asset (spot) or the underlying (perp). Never USDC.
    public var base: AssetID
    /// Prices must be multiples of this.
    public var tick: Int64
    /// Sizes must be multiples of this.
    public var lot: Int64
    /// Smallest order notional, USDC base units.
    public var minNotional: Int64
    /// Standard-mode maximum leverage shown to traders; must not exceed 1 / (2 r_u).
    public var maxLeverage: Int64
    public var takerFeePpm: Int64
    public var makerFeePpm: Int64
    /// Orders priced further than this from the oracle are rejected, ppm.
    public var priceBandPpm: Int64
    /// Perps: most open interest (one side), base units. Spot: ignored, 0.
    public var openInterestCap: Int64

    public init(name: String, kind: MarketKind, base: AssetID, tick: Int64, lot: Int64, minNotional: Int64,
                maxLeverage: Int64, takerFeePpm: Int64, makerFeePpm: Int64, priceBandPpm: Int64,
                openInterestCap: Int64) {
        self.name = name
        self.kind = kind
        self.base = base
        self.tick = tick
        self.lot = lot
        self.minNotional = minNotional
        self.maxLeverage = maxLeverage
        self.takerFeePpm = takerFeePpm
        self.makerFeePpm = makerFeePpm
        self.priceBandPpm = priceBandPpm
        self.openInterestCap = openInterestCap
    }
}

/// Margin and liquidation parameters (the spec's S, c, 20 USDC, 0.95, 2/3, 20% steps ...).
public struct RiskParameters: Codable, Sendable, Equatable {
    /// Market-factor shock S, ppm (1% = 10,000).
    public var marketShockPpm: Int64
    /// Spot-perp basis contingency c, ppm (10% = 100,000).
    public var contingencyPpm: Int64
    /// Floor of MR when an account has any risk, USDC base units (20 USDC).
    public var minRequirement: Int64
    /// Liquidatable when MR / V_liq is above this, ppm (0.95).
    public var liquidationRatioPpm: Int64
    /// Partial liquidation stops once MR / V_liq is at most this, ppm (0.8).
    public var liquidationTargetPpm: Int64
    /// Share of every position taken over per partial step, ppm (20%).
    public var liquidationStepPpm: Int64
    /// Whole takeover (and the backstop) when V_liq < num/den x MR (2/3).
    public var takeoverNumerator: Int64
    public var takeoverDenominator: Int64
    /// Share of the released maintenance paid to the liquidator, ppm (40%).
    public var liquidatorSharePpm: Int64
    /// Share of the released maintenance paid to the insurance fund on a liquidation, ppm (10%).
    public var insuranceSharePpm: Int64
    /// Share paid to the insurance fund on a backstop takeover, ppm (50%).
    public var backstopSharePpm: Int64
    /// Most backstop takeovers per block (50).
    public var backstopMaxPerBlock: Int64
    /// The protocol's backstop account.
    public var backstopAddress: Address
    /// Most open orders per account.
    public var maxOpenOrders: Int64

    public init(marketShockPpm: Int64, contingencyPpm: Int64, minRequirement: Int64, liquidationRatioPpm: Int64,
                liquidationTargetPpm: Int64, liquidationStepPpm: Int64, takeoverNumerator: Int64,
                takeoverDenominator: Int64, liquidatorSharePpm: Int64, insuranceSharePpm: Int64,
                backstopSharePpm: Int64, backstopMaxPerBlock: Int64, backstopAddress: Address, maxOpenOrders: Int64) {
        self.marketShockPpm = marketShockPpm
        self.contingencyPpm = contingencyPpm
        self.minRequirement = minRequirement
        self.liquidationRatioPpm = liquidationRatioPpm
        self.liquidationTargetPpm = liquidationTargetPpm
        self.liquidationStepPpm = liquidationStepPpm
        self.takeoverNumerator = takeoverNumerator
        self.takeoverDenominator = takeoverDenominator
        self.liquidatorSharePpm = liquidatorSharePpm
        self.insuranceSharePpm = insuranceSharePpm
        self.backstopSharePpm = backstopSharePpm
        self.backstopMaxPerBlock = backstopMaxPerBlock
        self.backstopAddress = backstopAddress
        self.maxOpenOrders = maxOpenOrders
    }
}

/// Aave v3's two-slope borrow rate (APR, ppm): base + slope1 x min(U, kink)/kink
/// + slope2 x max(0, U - kink)/(1 - kink); suppliers get it net of the reserve factor.
public struct RateModel: Codable, Sendable, Equatable {
    public var baseRatePpm: Int64
    public var slope1Ppm: Int64
    public var kinkPpm: Int64
    public var slope2Ppm: Int64
    /// Share of borrow interest kept by the insurance fund, ppm (10%).
    public var reserveFactorPpm: Int64

    public init(baseRatePpm: Int64, slope1Ppm: Int64, kinkPpm: Int64, slope2Ppm: Int64, reserveFactorPpm: Int64) {
        self.baseRatePpm = baseRatePpm
        self.slope1Ppm = slope1Ppm
        self.kinkPpm = kinkPpm
        self.slope2Ppm = slope2Ppm
        self.reserveFactorPpm = reserveFactorPpm
    }
}

/// Perp funding: the interval, the impact notional and the hourly rate's parts (ppb).
public struct FundingParameters: Codable, Sendable, Equatable {
    /// Positions settle at every multiple of this since the epoch, ms (1 hour).
    public var intervalMs: Int64
    /// Impact notional for the premium, USDC base units (10,000 USDC).
    public var impactNotional: Int64
    /// Hourly interest component, ppb (0.00125% = 12,500).
    public var interestPpbPerHour: Int64
    /// Clamp on (interest - premium), ppb per hour (0.05% = 500,000).
    public var premiumClampPpbPerHour: Int64
    /// Cap on the hourly rate, ppb (4% = 40,000,000).
    public var maxRatePpbPerHour: Int64

    public init(intervalMs: Int64, impactNotional: Int64, interestPpbPerHour: Int64,
                premiumClampPpbPerHour: Int64, maxRatePpbPerHour: Int64) {
        self.intervalMs = intervalMs
        self.impactNotional = impactNotional
        self.interestPpbPerHour = interestPpbPerHour
        self.premiumClampPpbPerHour = premiumClampPpbPerHour
        self.maxRatePpbPerHour = maxRatePpbPerHour
    }
}

/// Oracle freshness and the mark clamp.
public struct OracleParameters: Codable, Sendable, Equatable {
    /// Submissions older than this do not count, ms (60 s).
    public var maxAgeMs: Int64
    /// Mark is clamped to oracle +- this, ppm (0.5%).
    public var markClampPpm: Int64

    public init(maxAgeMs: Int64, markClampPpm: Int64) {
        self.maxAgeMs = maxAgeMs
        self.markClampPpm = markClampPpm
    }
}

/// Who may switch to portfolio margin: weighted volume or account value at least the
/// minimum, and account value under the maximum (USDC base units).
public struct Eligibility: Codable, Sendable, Equatable {
    public var minWeightedVolume: Int64
    public var minAccountValue: Int64
    public var maxAccountValue: Int64

    public init(minWeightedVolume: Int64, minAccountValue: Int64, maxAccountValue: Int64) {
        self.minWeightedVolume = minWeightedVolume
        self.minAccountValue = minAccountValue
        self.maxAccountValue = maxAccountValue
    }
}

/// An opening wallet balance.
public struct InitialBalance: Codable, Sendable, Equatable {
    public var address: Address
    public var asset: AssetID
    public var amount: Int64

    public init(address: Address, asset: AssetID, amount: Int64) {
        self.address = address
        self.asset = asset
        self.amount = amount
    }
}

/// An amount of one asset.
public struct AssetAmount: Codable, Sendable, Equatable {
    public var asset: AssetID
    public var amount: Int64

    public init(asset: AssetID, amount: Int64) {
        self.asset = asset
        self.amount = amount
    }
}

import BallastCrypto

/// Why an action was refused. The receipt carries `code` and `description`; the nonce is
/// consumed and nothing else in the state changes.
public enum LedgerError: Error, Equatable, Sendable, CustomStringConvertible {
    case nonceReused(UInt64)
    case nonceTooLow(nonce: UInt64, smallest: UInt64)
    case nonceOutOfWindow(nonce: UInt64, blockTimeMs: Int64)
    case unknownAsset(AssetID)
    case unknownMarket(MarketID)
    case amountNotPositive(Int64)
    case insufficientBalance(asset: AssetID, available: Int64, needed: Int64)
    case notBorrowable(AssetID)
    case borrowingNeedsPortfolioMode
    /// Debt would pass collateral x LTV.
    case overLTV(borrowed: Int64, limit: Int64)
    /// Slack after the action would be below the reserved margin.
    case insufficientMargin(slack: Int64, required: Int64)
    case capReached(cap: String, limit: Int64)
    case insufficientLiquidity(asset: AssetID, available: Int64)
    case badTick(price: Int64, tick: Int64)
    case badLot(size: Int64, lot: Int64)
    case belowMinimumNotional(minimum: Int64)
    case priceBand(price: Int64, oracle: Int64, bandPpm: Int64)
    case openInterestCap(cap: Int64)
    case reduceOnlyWouldIncrease
    case wouldCross
    case duplicateClientID
    case openOrderLimit(limit: Int64)
    case orderNotFound
    case notValidator
    case targetHealthy(pmrPpm: Int64)
    case selfLiquidation
    case notEligible(reason: String)
    case hasOpenOrders
    case modeUnchanged
    case transferToSelf
    /// Bad debt could not be socialized: risk-adding actions are refused until it is covered.
    case riskRefused(deficit: Int64)
    case overflow

    /// Stable machine-readable code.
    public var code: String {
        switch self {
        case .nonceReused: return "nonce_reused"
        case .nonceTooLow: return "nonce_too_low"
        case .nonceOutOfWindow: return "nonce_out_of_window"
        case .unknownAsset: return "unknown_asset"
        case .unknownMarket: return "unknown_market"
        case .amountNotPositive: return "amount_not_positive"
        case .insufficientBalance: return "insufficient_balance"
        case .notBorrowable: return "not_borrowable"
        case .borrowingNeedsPortfolioMode: return "borrowing_needs_portfolio_mode"
        case .overLTV: return "over_ltv"
        case .insufficientMargin: return "insufficient_margin"
        case .capReached: return "cap_reached"
        case .insufficientLiquidity: return "insufficient_liquidity"
        case .badTick: return "bad_tick"
        case .badLot: return "bad_lot"
        case .belowMinimumNotional: return "below_minimum_notional"
        case .priceBand: return "price_band"
        case .openInterestCap: return "open_interest_cap"
        case .reduceOnlyWouldIncrease: return "reduce_only_would_increase"
        case .wouldCross: return "would_cross"
        case .duplicateClientID: return "duplicate_client_id"
        case .openOrderLimit: return "open_order_limit"
        case .orderNotFound: return "order_not_found"
        case .notValidator: return "not_validator"
        case .targetHealthy: return "target_healthy"
        case .selfLiquidation: return "self_liquidation"
        case .notEligible: return "not_eligible"
        case .hasOpenOrders: return "has_open_orders"
        case .modeUnchanged: return "mode_unchanged"
        case .transferToSelf: return "transfer_to_self"
        case .riskRefused: return "risk_refused"
        case .overflow: return "overflow"
        }
    }

    public var description: String {
        switch self {
        case .nonceReused(let n): return "nonce \(n) was already used"
        case .nonceTooLow(let n, let s): return "nonce \(n) is not above the smallest kept nonce \(s)"
        case .nonceOutOfWindow(let n, let t): return "nonce \(n) is outside (T - 2 days, T + 1 day) of block time \(t)"
        case .unknownAsset(let a): return "unknown asset \(a)"
        case .unknownMarket(let m): return "unknown market \(m)"
        case .amountNotPositive(let a): return "amount \(a) must be > 0"
        case .insufficientBalance(let a, let have, let need): return "asset \(a): \(have) available, \(need) needed"
        case .notBorrowable(let a): return "asset \(a) has no lending pool"
        case .borrowingNeedsPortfolioMode: return "borrowing needs portfolio margin mode"
        case .overLTV(let b, let l): return "borrowed value \(b) would exceed the borrow limit \(l) (collateral x LTV)"
        case .insufficientMargin(let s, let r): return "insufficient margin: slack \(s) < reserved \(r)"
        case .capReached(let c, let l): return "\(c) cap \(l) reached"
        case .insufficientLiquidity(let a, let have): return "pool of asset \(a) has only \(have) available"
        case .badTick(let p, let t): return "price \(p) is not a multiple of the tick \(t)"
        case .badLot(let s, let l): return "size \(s) is not a multiple of the lot \(l)"
        case .belowMinimumNotional(let m): return "notional below the minimum \(m)"
        case .priceBand(let p, let o, let b): return "price \(p) is more than \(b) ppm from the oracle \(o)"
        case .openInterestCap(let c): return "open interest cap \(c) reached"
        case .reduceOnlyWouldIncrease: return "reduce-only order would increase the position"
        case .wouldCross: return "post-only order would cross"
        case .duplicateClientID: return "client order id already resting"
        case .openOrderLimit(let l): return "open order limit \(l) reached"
        case .orderNotFound: return "no such open order"
        case .notValidator: return "only validators submit oracle prices"
        case .targetHealthy(let p): return "target is not liquidatable (MR / V_liq = \(p) ppm)"
        case .selfLiquidation: return "an account cannot liquidate itself"
        case .notEligible(let why): return "not eligible for portfolio margin: \(why)"
        case .hasOpenOrders: return "cancel open orders before switching mode"
        case .modeUnchanged: return "already in that mode"
        case .transferToSelf: return "cannot transfer to self"
        case .riskRefused(let d): return "chain refuses new risk: unsocialized deficit of \(d) USDC base units"
        case .overflow: return "arithmetic overflow"
        }
    }
}

extension LedgerError {
    init(_ error: LedgerMathError) { self = .overflow }
}

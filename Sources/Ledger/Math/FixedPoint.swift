/// Parts per million: genesis ratios (LTV, beta, fees, risk factors). `1_000_000` is 1.0.
public enum PPM {
    /// 1.0 in ppm.
    public static let one: Int64 = 1_000_000

    /// `amount * ratio / 1_000_000`, rounded in `rounding`'s direction. For example the fee on a
    /// notional rounds `.up`, a collateral haircut rounds `.down`.
    @inlinable
    public static func apply(_ ratio: Int64, to amount: Int64,
                             rounding: Rounding) throws(LedgerMathError) -> Int64 {
        try Int64.mulDiv(amount, ratio, one, rounding: rounding)
    }

    /// `numerator / denominator` as a ppm ratio, rounded in `rounding`'s direction.
    @inlinable
    public static func ratio(_ numerator: Int64, _ denominator: Int64,
                             rounding: Rounding) throws(LedgerMathError) -> Int64 {
        try Int64.mulDiv(numerator, one, denominator, rounding: rounding)
    }
}

/// 18-decimal fixed point ("wad"): rates, interest and funding indices, per-block factors.
/// A wad is an `Int128` `x` standing for `x / 10^18`.
public enum Wad {
    /// 1.0 as a wad.
    public static let one: Int128 = 1_000_000_000_000_000_000

    /// `a * b` of two wads (or of an integer amount and a wad, giving an integer amount),
    /// rounded in `rounding`'s direction.
    @inlinable
    public static func mul(_ a: Int128, _ b: Int128, rounding: Rounding) throws(LedgerMathError) -> Int128 {
        try Int128.mulDiv(a, b, one, rounding: rounding)
    }

    /// `a / b` as a wad (of two wads, or of two integer amounts), rounded in `rounding`'s
    /// direction. Throws `.divisionByZero` when `b == 0`.
    @inlinable
    public static func div(_ a: Int128, _ b: Int128, rounding: Rounding) throws(LedgerMathError) -> Int128 {
        try Int128.mulDiv(a, one, b, rounding: rounding)
    }

    /// A ppm ratio as a wad (exact).
    @inlinable
    public static func fromPPM(_ ppm: Int64) -> Int128 {
        Int128(ppm) * 1_000_000_000_000  // |ppm| * 10^12 < 2^104: cannot overflow
    }
}

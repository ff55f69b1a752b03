extension Int128 {
    /// `a * b / c` computed exactly (the product may exceed 128 bits), then rounded once in
    /// `rounding`'s direction: `.down` = floor (toward -infinity), `.up` = ceiling (toward
    /// +infinity), for any signs of `a`, `b` and `c`.
    ///
    /// Throws `.divisionByZero` when `c == 0` and `.overflow` when the rounded result does not
    /// fit in `Int128`.
    @inlinable
    public static func mulDiv(_ a: Int128, _ b: Int128, _ c: Int128,
                              rounding: Rounding) throws(LedgerMathError) -> Int128 {
        if c == 0 { throw .divisionByZero }
        // Exactly zero (share amounts of an empty bucket: the common case, cheaply).
        if a == 0 || b == 0 { return 0 }
        let negative = ((a < 0) != (b < 0)) != (c < 0)
        let divisor = c.magnitude
        var quotient: UInt128
        let remainder: UInt128
        let (product, productOverflow) = a.magnitude.multipliedReportingOverflow(by: b.magnitude)
        if !productOverflow {
            (quotient, remainder) = product.quotientAndRemainder(dividingBy: divisor)
        } else {
            // 256-bit product: the quotient fits 128 bits exactly when high < divisor.
            let wide = a.magnitude.multipliedFullWidth(by: b.magnitude)
            if wide.high >= divisor { throw .overflow }
            (quotient, remainder) = divisor.dividingFullWidth(wide)
        }
        // The exact result is ±(quotient + remainder / divisor). Floor moves a negative inexact
        // result away from zero; ceiling moves a positive one away from zero.
        if remainder != 0 && (negative ? rounding == .down : rounding == .up) {
            let (bumped, overflow) = quotient.addingReportingOverflow(1)
            if overflow { throw .overflow }
            quotient = bumped
        }
        if negative {
            // -2^127 is representable: its magnitude is Int128.max + 1.
            if quotient > UInt128(Int128.max) + 1 { throw .overflow }
            return Int128(truncatingIfNeeded: 0 &- quotient)
        }
        if quotient > UInt128(Int128.max) { throw .overflow }
        return Int128(quotient)
    }
}

extension Int64 {
    /// `a * b / c` with an exact 128-bit product, rounded once in `rounding`'s direction
    /// (floor or ceiling, any signs). Throws `.divisionByZero`, or `.overflow` when the rounded
    /// result does not fit in `Int64`.
    @inlinable
    public static func mulDiv(_ a: Int64, _ b: Int64, _ c: Int64,
                              rounding: Rounding) throws(LedgerMathError) -> Int64 {
        let product = Int128(a) * Int128(b)  // |a * b| <= 2^126: cannot overflow
        return try Int64(checked: product.divided(by: Int128(c), rounding: rounding))
    }
}

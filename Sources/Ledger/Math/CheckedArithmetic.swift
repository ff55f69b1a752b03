/// Integer arithmetic for the state machine: every operation that could overflow throws
/// `LedgerMathError.overflow` instead of trapping or wrapping.
///
/// The ledger keeps amounts in `Int64` base units and forms products in `Int128`; these helpers
/// are the only arithmetic it needs. They are `@inlinable` so that release builds compile them to
/// the machine's add/multiply with an overflow-flag branch.

/// Why a checked integer operation failed.
public enum LedgerMathError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The exact result does not fit the result type.
    case overflow
    /// A division, `mulDiv` or fixed-point division by zero.
    case divisionByZero

    public var description: String {
        switch self {
        case .overflow: "arithmetic overflow"
        case .divisionByZero: "division by zero"
        }
    }
}

/// The direction an inexact result is rounded, on the number line (not toward or away from zero).
///
/// - `down` is toward negative infinity (floor). Use it for what the protocol owes or credits an
///   account: collateral, supply, account values, PnL. A loss of 1.5 becomes -2.
/// - `up` is toward positive infinity (ceiling). Use it for what an account owes or must hold:
///   debt, fees, requirements. A requirement of 1.5 becomes 2.
///
/// Either way an exact result is returned unchanged.
public enum Rounding: Sendable, Equatable, Hashable {
    case down
    case up
}

extension FixedWidthInteger where Self: SignedInteger {
    /// `self + other`, or `.overflow`.
    @inlinable @inline(__always)
    public func checkedAdding(_ other: Self) throws(LedgerMathError) -> Self {
        let (result, overflow) = addingReportingOverflow(other)
        if overflow { throw .overflow }
        return result
    }

    /// `self - other`, or `.overflow`.
    @inlinable @inline(__always)
    public func checkedSubtracting(_ other: Self) throws(LedgerMathError) -> Self {
        let (result, overflow) = subtractingReportingOverflow(other)
        if overflow { throw .overflow }
        return result
    }

    /// `self * other`, or `.overflow`.
    @inlinable @inline(__always)
    public func checkedMultiplied(by other: Self) throws(LedgerMathError) -> Self {
        let (result, overflow) = multipliedReportingOverflow(by: other)
        if overflow { throw .overflow }
        return result
    }

    /// `-self`, or `.overflow` for `Self.min`.
    @inlinable @inline(__always)
    public func checkedNegated() throws(LedgerMathError) -> Self {
        if self == Self.min { throw .overflow }
        return 0 - self
    }

    /// `|self|`, or `.overflow` for `Self.min`.
    @inlinable @inline(__always)
    public func checkedAbsolute() throws(LedgerMathError) -> Self {
        if self == Self.min { throw .overflow }
        return self < 0 ? 0 - self : self
    }

    /// `self += other`, or `.overflow` (and `self` unchanged).
    @inlinable @inline(__always)
    public mutating func checkedAdd(_ other: Self) throws(LedgerMathError) {
        self = try checkedAdding(other)
    }

    /// `self -= other`, or `.overflow` (and `self` unchanged).
    @inlinable @inline(__always)
    public mutating func checkedSubtract(_ other: Self) throws(LedgerMathError) {
        self = try checkedSubtracting(other)
    }

    /// `self / divisor` rounded in `rounding`'s direction (floor or ceiling, correct for negative
    /// operands). Throws `.divisionByZero`, or `.overflow` for `Self.min / -1`.
    @inlinable
    public func divided(by divisor: Self, rounding: Rounding) throws(LedgerMathError) -> Self {
        if divisor == 0 { throw .divisionByZero }
        if divisor == -1 && self == Self.min { throw .overflow }
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        // Swift truncates toward zero; the remainder has the dividend's sign. The exact quotient
        // is negative when the remainder and the divisor have opposite signs.
        if remainder == 0 { return quotient }
        let exactIsNegative = (remainder < 0) != (divisor < 0)
        switch rounding {
        case .down: return exactIsNegative ? quotient - 1 : quotient
        case .up: return exactIsNegative ? quotient : quotient + 1
        }
    }
}

extension Int128 {
    /// `self * other`, or `.overflow`: the generic `checkedMultiplied(by:)` with a fast path.
    /// When the magnitudes' bit lengths add up to at most 127 the product cannot overflow, so a
    /// wrapping multiply gives it exactly, without the full overflow check of a 128-bit product
    /// (the margin engine's products of amounts, prices and ppm factors are all of this kind).
    @inlinable @inline(__always)
    public func checkedMultiplied(by other: Int128) throws(LedgerMathError) -> Int128 {
        if magnitude.leadingZeroBitCount + other.magnitude.leadingZeroBitCount >= 129 { return self &* other }
        let (result, overflow) = multipliedReportingOverflow(by: other)
        if overflow { throw .overflow }
        return result
    }
}

extension Int64 {
    /// `value` as an `Int64`, or `.overflow` if it does not fit.
    @inlinable @inline(__always)
    public init(checked value: Int128) throws(LedgerMathError) {
        guard let narrow = Int64(exactly: value) else { throw .overflow }
        self = narrow
    }
}

extension Int128 {
    /// `value` as an `Int128`, or `.overflow` if it does not fit.
    @inlinable @inline(__always)
    public init(checked value: UInt128) throws(LedgerMathError) {
        guard value <= UInt128(Int128.max) else { throw .overflow }
        self = Int128(value)
    }
}

/// Powers of ten, for decimals and fixed-point scales.
public enum Pow10 {
    /// `10^exponent` for `0...38`, or `.overflow` beyond what `Int128` holds (and for negatives).
    @inlinable
    public static func int128(_ exponent: Int) throws(LedgerMathError) -> Int128 {
        guard exponent >= 0 && exponent <= 38 else { throw .overflow }
        var value: Int128 = 1
        for _ in 0..<exponent { value &*= 10 }
        return value
    }

    /// `10^exponent` for `0...18`, or `.overflow` beyond what `Int64` holds (and for negatives).
    @inlinable
    public static func int64(_ exponent: Int) throws(LedgerMathError) -> Int64 {
        guard exponent >= 0 && exponent <= 18 else { throw .overflow }
        var value: Int64 = 1
        for _ in 0..<exponent { value &*= 10 }
        return value
    }
}

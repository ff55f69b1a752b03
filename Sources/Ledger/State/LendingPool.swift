import Codec

/// One asset's lending pool (Aave v3 style): exact share totals, 18-decimal indices and
/// the cash it actually holds.
///
/// Amounts are rounded views of shares: supply rounds down, debt rounds up. The pool's
/// surplus, cash + borrowed - supplied, is the reserve and rounding dust; it belongs to the
/// insurance fund and is swept to it whenever the pool holds the cash.
public struct LendingPool: Equatable, Sendable {
    public static let secondsPerYear: Int128 = 31_536_000
    public static let msPerYear: Int128 = 31_536_000_000

    public var asset: AssetID
    /// Tokens the pool holds: supplied - borrowed + surplus not yet swept.
    public var cash: Int64 = 0
    public var supplyShares: Int64 = 0
    public var debtShares: Int64 = 0
    /// Supply index, wad (starts at 1).
    public var supplyIndex: Int128 = Wad.one
    /// Borrow index, wad (starts at 1).
    public var borrowIndex: Int128 = Wad.one
    public var lastAccrualMs: Int64

    public init(asset: AssetID, timeMs: Int64) {
        self.asset = asset
        self.lastAccrualMs = timeMs
    }

    // MARK: Share <-> amount

    /// Supplied amount of `shares`, rounded down.
    public func supplied(shares: Int64) throws(LedgerMathError) -> Int64 {
        try Int64(checked: Int128.mulDiv(Int128(shares), supplyIndex, Wad.one, rounding: .down))
    }

    /// Owed amount of debt `shares`, rounded up.
    public func owed(shares: Int64) throws(LedgerMathError) -> Int64 {
        try Int64(checked: Int128.mulDiv(Int128(shares), borrowIndex, Wad.one, rounding: .up))
    }

    /// Shares `amount` of supply buys, rounded down (the supplier gets no more than paid for).
    public func supplySharesFor(_ amount: Int64, rounding: Rounding) throws(LedgerMathError) -> Int64 {
        try Int64(checked: Int128.mulDiv(Int128(amount), Wad.one, supplyIndex, rounding: rounding))
    }

    /// Debt shares for borrowing or repaying `amount`.
    public func debtSharesFor(_ amount: Int64, rounding: Rounding) throws(LedgerMathError) -> Int64 {
        try Int64(checked: Int128.mulDiv(Int128(amount), Wad.one, borrowIndex, rounding: rounding))
    }

    /// All supply, rounded down.
    public func totalSupplied() throws(LedgerMathError) -> Int64 { try supplied(shares: supplyShares) }
    /// All debt, rounded down (the pool's conservative view of what it will get back).
    public func totalBorrowedDown() throws(LedgerMathError) -> Int64 {
        try Int64(checked: Int128.mulDiv(Int128(debtShares), borrowIndex, Wad.one, rounding: .down))
    }
    /// All debt, rounded up (for caps and utilization).
    public func totalBorrowed() throws(LedgerMathError) -> Int64 { try owed(shares: debtShares) }

    /// What the pool holds beyond its suppliers' claims: reserve and dust, the fund's.
    public func surplus() throws(LedgerMathError) -> Int64 {
        try cash.checkedAdding(try totalBorrowedDown()).checkedSubtracting(try totalSupplied())
    }

    // MARK: Rates

    /// Utilization U = borrowed / supplied, wad (0 when nothing is supplied).
    public func utilization() throws(LedgerMathError) -> Int128 {
        let supplied = try totalSupplied()
        if supplied <= 0 { return 0 }
        return min(Wad.one, try Wad.div(Int128(try totalBorrowed()), Int128(supplied), rounding: .down))
    }

    /// Borrow APR at utilization `u` (wad), rounded up.
    public static func borrowRate(model: RateModel, utilization u: Int128) throws(LedgerMathError) -> Int128 {
        let kink = Wad.fromPPM(model.kinkPpm)
        var rate = Wad.fromPPM(model.baseRatePpm)
        rate = try rate.checkedAdding(try Int128.mulDiv(Wad.fromPPM(model.slope1Ppm), min(u, kink), kink, rounding: .up))
        if u > kink {
            rate = try rate.checkedAdding(
                try Int128.mulDiv(Wad.fromPPM(model.slope2Ppm), u - kink, Wad.one - kink, rounding: .up))
        }
        return rate
    }

    /// Supply APR at utilization `u`: borrow rate x U x (1 - reserve factor), rounded down.
    public static func supplyRate(model: RateModel, utilization u: Int128) throws(LedgerMathError) -> Int128 {
        let borrow = try borrowRate(model: model, utilization: u)
        let gross = try Wad.mul(borrow, u, rounding: .down)
        return try Int128.mulDiv(gross, Int128(PPM.one - model.reserveFactorPpm), Int128(PPM.one), rounding: .down)
    }

    /// Accrues interest from `lastAccrualMs` to `nowMs`: borrow index x= 1 + APR x dt / year
    /// (rounded up); suppliers get the interest less the reserve factor through the supply
    /// index (rounded down); the rest stays as surplus.
    public mutating func accrue(to nowMs: Int64, model: RateModel) throws(LedgerMathError) {
        defer { lastAccrualMs = max(lastAccrualMs, nowMs) }
        guard nowMs > lastAccrualMs, debtShares > 0 else { return }
        let dt = Int128(nowMs - lastAccrualMs)
        let apr = try LendingPool.borrowRate(model: model, utilization: try utilization())
        let growth = try Int128.mulDiv(apr, dt, LendingPool.msPerYear, rounding: .up)
        let newBorrowIndex = try borrowIndex.checkedAdding(try Wad.mul(borrowIndex, growth, rounding: .up))
        let interest = try Int128.mulDiv(Int128(debtShares), newBorrowIndex - borrowIndex, Wad.one, rounding: .down)
        borrowIndex = newBorrowIndex
        guard supplyShares > 0 else { return }
        let toSuppliers = try Int128.mulDiv(interest, Int128(PPM.one - model.reserveFactorPpm), Int128(PPM.one), rounding: .down)
        supplyIndex = try supplyIndex.checkedAdding(try Int128.mulDiv(toSuppliers, Wad.one, Int128(supplyShares), rounding: .down))
    }
}

extension LendingPool: Canonical {
    public func encode(to w: inout ByteWriter) {
        w.write(asset); w.write(cash); w.write(supplyShares); w.write(debtShares)
        w.writeInt128(supplyIndex); w.writeInt128(borrowIndex); w.write(lastAccrualMs)
    }

    public init(from r: inout ByteReader) throws(CodecError) {
        asset = try r.readUInt32(); cash = try r.readInt64()
        supplyShares = try r.readInt64(); debtShares = try r.readInt64()
        supplyIndex = try r.readInt128(); borrowIndex = try r.readInt128()
        lastAccrualMs = try r.readInt64()
    }
}

extension ByteWriter {
    /// An Int128 as 16 bytes little-endian (low word first).
    mutating func writeInt128(_ v: Int128) {
        let bits = UInt128(bitPattern: v)
        write(UInt64(truncatingIfNeeded: bits))
        write(UInt64(truncatingIfNeeded: bits >> 64))
    }
}

extension ByteReader {
    mutating func readInt128() throws(CodecError) -> Int128 {
        let low = try readUInt64()
        let high = try readUInt64()
        return Int128(bitPattern: UInt128(high) << 64 | UInt128(low))
    }
}

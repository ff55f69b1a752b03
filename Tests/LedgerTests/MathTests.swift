import Testing
@testable import Ledger

@Suite("Checked integer math")
struct MathTests {
    @Test func checkedOperationsThrowOnOverflow() throws {
        #expect(try Int64(5).checkedAdding(7) == 12)
        #expect(throws: LedgerMathError.overflow) { try Int64.max.checkedAdding(1) }
        #expect(throws: LedgerMathError.overflow) { try Int64.min.checkedSubtracting(1) }
        #expect(throws: LedgerMathError.overflow) { try Int64(1 << 32).checkedMultiplied(by: 1 << 31) }
        #expect(try Int64(1 << 31).checkedMultiplied(by: -(1 << 31)) == -(1 << 62))
        #expect(throws: LedgerMathError.overflow) { try Int64.min.checkedNegated() }
        #expect(throws: LedgerMathError.overflow) { try Int128.min.checkedAbsolute() }
        #expect(try Int128(-9).checkedAbsolute() == 9)
        var total: Int64 = Int64.max - 1
        try total.checkedAdd(1)
        #expect(total == Int64.max)
        #expect(throws: LedgerMathError.overflow) { try total.checkedAdd(1) }
        #expect(total == Int64.max)  // unchanged after the failed add
        #expect(throws: LedgerMathError.overflow) { try Int64(checked: Int128(Int64.max) + 1) }
        #expect(try Int64(checked: Int128(Int64.min)) == Int64.min)
    }

    @Test func divisionRoundsOnTheNumberLine() throws {
        #expect(try Int64(7).divided(by: 2, rounding: .down) == 3)
        #expect(try Int64(7).divided(by: 2, rounding: .up) == 4)
        #expect(try Int64(-7).divided(by: 2, rounding: .down) == -4)
        #expect(try Int64(-7).divided(by: 2, rounding: .up) == -3)
        #expect(try Int64(7).divided(by: -2, rounding: .down) == -4)
        #expect(try Int64(-7).divided(by: -2, rounding: .up) == 4)
        #expect(try Int64(-8).divided(by: 2, rounding: .down) == -4)
        #expect(try Int64(-8).divided(by: 2, rounding: .up) == -4)
        #expect(throws: LedgerMathError.divisionByZero) { try Int64(1).divided(by: 0, rounding: .down) }
        #expect(throws: LedgerMathError.overflow) { try Int64.min.divided(by: -1, rounding: .down) }
    }

    @Test func mulDivRoundsEachSignCombination() throws {
        // 10 * 3 / 4 = 7.5
        for (a, b, c, down, up): (Int128, Int128, Int128, Int128, Int128) in [
            (10, 3, 4, 7, 8), (-10, 3, 4, -8, -7), (10, -3, 4, -8, -7), (10, 3, -4, -8, -7),
            (-10, -3, 4, 7, 8), (-10, 3, -4, 7, 8), (-10, -3, -4, -8, -7), (12, 3, 4, 9, 9),
            (0, 5, 7, 0, 0), (-12, 3, 4, -9, -9),
        ] {
            #expect(try Int128.mulDiv(a, b, c, rounding: .down) == down)
            #expect(try Int128.mulDiv(a, b, c, rounding: .up) == up)
        }
        #expect(throws: LedgerMathError.divisionByZero) { try Int128.mulDiv(1, 1, 0, rounding: .up) }
    }

    @Test func mulDivUsesA256BitProduct() throws {
        // (2^100 * 3^40) / 3^39 = 3 * 2^100: the product alone overflows 128 bits.
        let big: Int128 = 1 << 100
        var p40: Int128 = 1
        for _ in 0..<40 { p40 *= 3 }
        let p39 = p40 / 3
        #expect(try Int128.mulDiv(big, p40, p39, rounding: .down) == 3 * big)
        #expect(try Int128.mulDiv(-big, p40, p39 + 1, rounding: .up) == Int128.mulDiv(big, p40, p39 + 1, rounding: .down) * -1)
        // Int128.max * Int128.max / Int128.max and the most negative result.
        #expect(try Int128.mulDiv(.max, .max, .max, rounding: .up) == .max)
        #expect(try Int128.mulDiv(.min, 1, 1, rounding: .down) == .min)
        #expect(try Int128.mulDiv(1 << 126, -2, 1, rounding: .down) == .min)
        #expect(throws: LedgerMathError.overflow) { try Int128.mulDiv(1 << 126, 2, 1, rounding: .down) }
        #expect(throws: LedgerMathError.overflow) { try Int128.mulDiv(.max, .max, 2, rounding: .down) }
        #expect(throws: LedgerMathError.overflow) { try Int128.mulDiv(.min, 3, 2, rounding: .up) }
        #expect(throws: LedgerMathError.overflow) { try Int128.mulDiv(.min, -1, 1, rounding: .up) }
    }

    @Test func int64MulDivNarrowsChecked() throws {
        // 1.23456789 BTC at 62,000.000001 USDC = 76,543.209181234... USDC.
        #expect(try Int64.mulDiv(123_456_789, 62_000_000_001, 100_000_000, rounding: .down) == 76_543_209_181)
        #expect(try Int64.mulDiv(123_456_789, 62_000_000_001, 100_000_000, rounding: .up) == 76_543_209_182)
        #expect(throws: LedgerMathError.overflow) { try Int64.mulDiv(.max, 2, 1, rounding: .down) }
        #expect(try Int64.mulDiv(.max, .max, .max, rounding: .down) == .max)
    }

    @Test func ppmAndWad() throws {
        #expect(try PPM.apply(450, to: 1_000_001, rounding: .up) == 451)  // 450.00045
        #expect(try PPM.apply(450, to: 1_000_001, rounding: .down) == 450)
        #expect(try PPM.apply(500_000, to: -3, rounding: .down) == -2)
        #expect(try PPM.ratio(1, 3, rounding: .down) == 333_333)
        #expect(try PPM.ratio(1, 3, rounding: .up) == 333_334)
        let third = try Wad.div(1, 3, rounding: .down)
        #expect(third == 333_333_333_333_333_333)
        #expect(try Wad.div(1, 3, rounding: .up) == 333_333_333_333_333_334)
        #expect(try Wad.mul(third, 3 * Wad.one, rounding: .down) == 999_999_999_999_999_999)
        // 1.5 wad * 1.5 wad = 2.25 wad exactly; an amount times a rate rounds as asked.
        let oneAndHalf = Wad.one + Wad.one / 2
        #expect(try Wad.mul(oneAndHalf, oneAndHalf, rounding: .down) == 2_250_000_000_000_000_000)
        #expect(try Wad.mul(7, Wad.one / 2, rounding: .up) == 4)
        #expect(try Wad.mul(7, Wad.one / 2, rounding: .down) == 3)
        #expect(Wad.fromPPM(950_000) == 950_000_000_000_000_000)
        #expect(throws: LedgerMathError.divisionByZero) { try Wad.div(1, 0, rounding: .up) }
        #expect(try Pow10.int128(38) == 100_000_000_000_000_000_000_000_000_000_000_000_000)
        #expect(throws: LedgerMathError.overflow) { try Pow10.int64(19) }
    }
}

/// A deliberately small arbitrary-precision integer and rational, for the margin reference
/// implementation. Nothing here is shared with the engine or its `Math` helpers: the reference
/// must be able to disagree with them. Only what the reference needs: add, subtract, multiply,
/// compare. Division is never needed: `k == floor(n / d)` is checked as `k d <= n < (k + 1) d`.
struct RefInt: Comparable, CustomStringConvertible {
    /// Little-endian base-2^32 digits, no trailing zeros (zero is empty).
    var digits: [UInt32]
    var negative: Bool

    init(_ value: Int64) {
        negative = value < 0
        var m = value.magnitude
        digits = []
        while m != 0 {
            digits.append(UInt32(truncatingIfNeeded: m))
            m >>= 32
        }
    }

    init(_ value: Int) { self.init(Int64(value)) }

    private init(digits: [UInt32], negative: Bool) {
        var d = digits
        while d.last == 0 { d.removeLast() }
        self.digits = d
        self.negative = d.isEmpty ? false : negative
    }

    var isZero: Bool { digits.isEmpty }
    var signum: Int { isZero ? 0 : (negative ? -1 : 1) }

    private static func compareMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        var i = a.count - 1
        while i >= 0 {
            if a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
            i -= 1
        }
        return 0
    }

    private static func addMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        var carry: UInt64 = 0
        for i in 0..<max(a.count, b.count) {
            let sum = UInt64(i < a.count ? a[i] : 0) + UInt64(i < b.count ? b[i] : 0) + carry
            result.append(UInt32(truncatingIfNeeded: sum))
            carry = sum >> 32
        }
        if carry != 0 { result.append(UInt32(carry)) }
        return result
    }

    /// a - b for |a| >= |b|.
    private static func subtractMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
        var result: [UInt32] = []
        var borrow: Int64 = 0
        for i in 0..<a.count {
            var diff = Int64(a[i]) - Int64(i < b.count ? b[i] : 0) - borrow
            if diff < 0 {
                diff += 1 << 32
                borrow = 1
            } else {
                borrow = 0
            }
            result.append(UInt32(diff))
        }
        return result
    }

    static func + (a: RefInt, b: RefInt) -> RefInt {
        if a.negative == b.negative {
            return RefInt(digits: addMagnitudes(a.digits, b.digits), negative: a.negative)
        }
        if compareMagnitudes(a.digits, b.digits) >= 0 {
            return RefInt(digits: subtractMagnitudes(a.digits, b.digits), negative: a.negative)
        }
        return RefInt(digits: subtractMagnitudes(b.digits, a.digits), negative: b.negative)
    }

    static prefix func - (a: RefInt) -> RefInt { RefInt(digits: a.digits, negative: !a.negative) }
    static func - (a: RefInt, b: RefInt) -> RefInt { a + (-b) }

    static func * (a: RefInt, b: RefInt) -> RefInt {
        if a.isZero || b.isZero { return RefInt(0) }
        var result = [UInt32](repeating: 0, count: a.digits.count + b.digits.count)
        for i in 0..<a.digits.count {
            var carry: UInt64 = 0
            for j in 0..<b.digits.count {
                let t = UInt64(a.digits[i]) * UInt64(b.digits[j]) + UInt64(result[i + j]) + carry
                result[i + j] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
            }
            var k = i + b.digits.count
            while carry != 0 {
                let t = UInt64(result[k]) + carry
                result[k] = UInt32(truncatingIfNeeded: t)
                carry = t >> 32
                k += 1
            }
        }
        return RefInt(digits: result, negative: a.negative != b.negative)
    }

    static func < (a: RefInt, b: RefInt) -> Bool {
        if a.negative != b.negative { return a.negative }
        let c = compareMagnitudes(a.digits, b.digits)
        return a.negative ? c > 0 : c < 0
    }

    var description: String {
        // Hex is enough for failure messages.
        if isZero { return "0" }
        return (negative ? "-0x" : "0x") + digits.reversed().enumerated().map { i, d in
            let s = String(d, radix: 16)
            return i == 0 ? s : String(repeating: "0", count: 8 - s.count) + s
        }.joined()
    }
}

/// An exact fraction `numerator / denominator`, denominator > 0, never reduced (the reference
/// only adds, multiplies and compares, so growth is bounded by the formulas).
struct RefRational: Comparable, CustomStringConvertible {
    var numerator: RefInt
    var denominator: RefInt

    init(_ value: Int64) {
        numerator = RefInt(value)
        denominator = RefInt(1)
    }

    /// `numerator / denominator`; `denominator > 0`.
    init(_ numerator: Int64, over denominator: Int64) {
        precondition(denominator > 0)
        self.numerator = RefInt(numerator)
        self.denominator = RefInt(denominator)
    }

    init(numerator: RefInt, denominator: RefInt) {
        self.numerator = numerator
        self.denominator = denominator
    }

    static func + (a: RefRational, b: RefRational) -> RefRational {
        if a.denominator == b.denominator {
            return RefRational(numerator: a.numerator + b.numerator, denominator: a.denominator)
        }
        return RefRational(numerator: a.numerator * b.denominator + b.numerator * a.denominator,
                           denominator: a.denominator * b.denominator)
    }

    static prefix func - (a: RefRational) -> RefRational {
        RefRational(numerator: -a.numerator, denominator: a.denominator)
    }

    static func - (a: RefRational, b: RefRational) -> RefRational { a + (-b) }

    static func * (a: RefRational, b: RefRational) -> RefRational {
        RefRational(numerator: a.numerator * b.numerator, denominator: a.denominator * b.denominator)
    }

    static func < (a: RefRational, b: RefRational) -> Bool {
        a.numerator * b.denominator < b.numerator * a.denominator
    }

    static func == (a: RefRational, b: RefRational) -> Bool {
        a.numerator * b.denominator == b.numerator * a.denominator
    }

    var absolute: RefRational { numerator.negative ? -self : self }
    var signum: Int { numerator.signum }

    /// `k` is this value rounded down: k <= self < k + 1.
    func hasFloor(_ k: Int64) -> Bool {
        RefRational(k) <= self && self < RefRational(k) + RefRational(1)
    }

    /// `k` is this value rounded up: k - 1 < self <= k.
    func hasCeiling(_ k: Int64) -> Bool {
        RefRational(k) - RefRational(1) < self && self <= RefRational(k)
    }

    var description: String { "\(numerator)/\(denominator)" }
}

func maxRational(_ a: RefRational, _ b: RefRational) -> RefRational { a < b ? b : a }

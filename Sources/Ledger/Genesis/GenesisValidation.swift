#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import BallastCrypto

/// Why a genesis was refused: the JSON path of the offending field and the reason.
public struct GenesisError: Error, Equatable, Sendable, CustomStringConvertible {
    /// E.g. `markets[3].tick`.
    public var path: String
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(path): \(reason)" }
}

extension Genesis {
    /// Largest whole-unit scale: 10^18 still fits Int64.
    public static let maxDecimals: Int64 = 18
    /// One in parts per million.
    public static let ppm: Int64 = 1_000_000

    /// Decodes genesis JSON bytes (the caller reads the file) and validates the result.
    public static func decode(json bytes: [UInt8]) throws(GenesisError) -> Genesis {
        let genesis: Genesis
        do {
            genesis = try JSONDecoder().decode(Genesis.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw GenesisError(path: Self.path(of: error), reason: Self.reason(of: error))
        } catch {
            throw GenesisError(path: "$", reason: "not valid JSON: \(error)")
        }
        try genesis.validate()
        return genesis
    }

    /// The genesis as pretty, key-sorted JSON bytes.
    public func encodeJSON() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Every field is an integer, string, bool or fixed-bytes hex: encoding cannot fail.
        return (try? Array(encoder.encode(self))) ?? []
    }

    private static func path(of error: DecodingError) -> String {
        let codingPath: [any CodingKey]
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): codingPath = c.codingPath
        case .keyNotFound(let key, let c): codingPath = c.codingPath + [key]
        @unknown default: codingPath = []
        }
        var out = ""
        for key in codingPath {
            if let i = key.intValue { out += "[\(i)]" } else { out += (out.isEmpty ? "" : ".") + key.stringValue }
        }
        return out.isEmpty ? "$" : out
    }

    private static func reason(of error: DecodingError) -> String {
        switch error {
        case .typeMismatch(let type, let c): return "expected \(type): \(c.debugDescription)"
        case .valueNotFound(let type, _): return "missing \(type) value"
        case .keyNotFound: return "missing field"
        case .dataCorrupted(let c): return c.debugDescription
        @unknown default: return "invalid"
        }
    }

    /// Checks every field; the first problem is thrown with its path.
    public func validate() throws(GenesisError) {
        func fail(_ path: String, _ reason: String) -> GenesisError { GenesisError(path: path, reason: reason) }
        func positive(_ v: Int64, _ path: String) throws(GenesisError) { if v <= 0 { throw fail(path, "must be > 0") } }
        func nonNegative(_ v: Int64, _ path: String) throws(GenesisError) { if v < 0 { throw fail(path, "must be >= 0") } }
        func ratio(_ v: Int64, _ path: String, max: Int64 = Genesis.ppm) throws(GenesisError) {
            if v < 0 || v > max { throw fail(path, "must be within 0...\(max)") }
        }

        if chainID.isEmpty || chainID.utf8.count > Transaction.maxChainIDLength {
            throw fail("chainId", "must be 1 to \(Transaction.maxChainIDLength) bytes")
        }
        try nonNegative(genesisTimeMs, "genesisTimeMs")

        if validators.isEmpty { throw fail("validators", "must not be empty") }
        var stakeTotal: Int64 = 0
        for (i, v) in validators.enumerated() {
            let p = "validators[\(i)]"
            if v.name.isEmpty { throw fail("\(p).name", "must not be empty") }
            try positive(v.stake, "\(p).stake")
            let (sum, overflow) = stakeTotal.addingReportingOverflow(v.stake)
            if overflow { throw fail("\(p).stake", "total stake overflows") }
            stakeTotal = sum
            if validators[..<i].contains(where: { $0.publicKey == v.publicKey }) {
                throw fail("\(p).publicKey", "duplicate validator key")
            }
        }

        if assets.isEmpty { throw fail("assets", "must list USDC first") }
        if assets.count > 1024 { throw fail("assets", "at most 1024 assets") }
        let usdc = assets[0]
        if usdc.decimals != 6 { throw fail("assets[0].decimals", "USDC, the numeraire, has 6 decimals") }
        if usdc.initialPrice != 1_000_000 { throw fail("assets[0].initialPrice", "USDC is worth 1 (1000000)") }
        for (i, a) in assets.enumerated() {
            let p = "assets[\(i)]"
            if a.symbol.isEmpty { throw fail("\(p).symbol", "must not be empty") }
            if assets[..<i].contains(where: { $0.symbol == a.symbol }) { throw fail("\(p).symbol", "duplicate symbol") }
            if a.decimals < 0 || a.decimals > Genesis.maxDecimals { throw fail("\(p).decimals", "must be within 0...18") }
            try ratio(a.ltvPpm, "\(p).ltvPpm")
            try ratio(a.betaPpm, "\(p).betaPpm", max: 100 * Genesis.ppm)
            try ratio(a.idiosyncraticPpm, "\(p).idiosyncraticPpm")
            try nonNegative(a.depth, "\(p).depth")
            try positive(a.initialPrice, "\(p).initialPrice")
            for (value, name) in [(a.supplyCap, "supplyCap"), (a.borrowCap, "borrowCap"),
                                  (a.userSupplyCap, "userSupplyCap"), (a.userBorrowCap, "userBorrowCap")] {
                try nonNegative(value, "\(p).\(name)")
            }
            if a.userSupplyCap > a.supplyCap { throw fail("\(p).userSupplyCap", "must be <= supplyCap") }
            if a.userBorrowCap > a.borrowCap { throw fail("\(p).userBorrowCap", "must be <= borrowCap") }
            if a.borrowCap > a.supplyCap { throw fail("\(p).borrowCap", "must be <= supplyCap") }
            if let model = a.rateModel { try model.validate(path: "\(p).rateModel") }
            if i > 0 && a.depth == 0 { throw fail("\(p).depth", "must be > 0") }
        }
        try rateModel.validate(path: "rateModel")

        if markets.isEmpty { throw fail("markets", "must not be empty") }
        for (i, m) in markets.enumerated() {
            let p = "markets[\(i)]"
            if m.name.isEmpty { throw fail("\(p).name", "must not be empty") }
            if markets[..<i].contains(where: { $0.name == m.name }) { throw fail("\(p).name", "duplicate market name") }
            if m.base == 0 || Int(m.base) >= assets.count {
                throw fail("\(p).base", "must name a non-USDC asset (1..<\(assets.count))")
            }
            if markets[..<i].contains(where: { $0.kind == m.kind && $0.base == m.base }) {
                throw fail("\(p).base", "a \(m.kind.rawValue) market on this asset already exists")
            }
            try positive(m.tick, "\(p).tick")
            try positive(m.lot, "\(p).lot")
            try positive(m.minNotional, "\(p).minNotional")
            try positive(m.maxLeverage, "\(p).maxLeverage")
            try ratio(m.takerFeePpm, "\(p).takerFeePpm", max: 100_000)
            try ratio(m.makerFeePpm, "\(p).makerFeePpm", max: 100_000)
            if m.priceBandPpm <= 0 || m.priceBandPpm >= Genesis.ppm { throw fail("\(p).priceBandPpm", "must be within 1...999999") }
            let a = assets[Int(m.base)]
            switch m.kind {
            case .perp:
                try positive(m.openInterestCap, "\(p).openInterestCap")
                // Standard-mode leverage may not exceed 1 / (2 r_u), r_u = S x beta + e.
                let r = Int128(risk.marketShockPpm) * Int128(a.betaPpm) / Int128(Genesis.ppm) + Int128(a.idiosyncraticPpm)
                if r > 0 && Int128(m.maxLeverage) * 2 * r > Int128(Genesis.ppm) {
                    throw fail("\(p).maxLeverage", "must be <= 1 / (2 x maintenance rate) = \(Int128(Genesis.ppm) / (2 * r))")
                }
            case .spot:
                if !a.borrowable { throw fail("\(p).base", "spot assets need a lending pool (borrowable)") }
                try nonNegative(m.openInterestCap, "\(p).openInterestCap")
            }
        }

        let r = risk
        try ratio(r.marketShockPpm, "risk.marketShockPpm")
        try ratio(r.contingencyPpm, "risk.contingencyPpm")
        try nonNegative(r.minRequirement, "risk.minRequirement")
        if r.liquidationRatioPpm <= 0 || r.liquidationRatioPpm > Genesis.ppm {
            throw fail("risk.liquidationRatioPpm", "must be within 1...1000000")
        }
        if r.liquidationTargetPpm <= 0 || r.liquidationTargetPpm >= r.liquidationRatioPpm {
            throw fail("risk.liquidationTargetPpm", "must be > 0 and < liquidationRatioPpm")
        }
        if r.liquidationStepPpm <= 0 || r.liquidationStepPpm > Genesis.ppm {
            throw fail("risk.liquidationStepPpm", "must be within 1...1000000")
        }
        try positive(r.takeoverDenominator, "risk.takeoverDenominator")
        if r.takeoverNumerator <= 0 || r.takeoverNumerator >= r.takeoverDenominator {
            throw fail("risk.takeoverNumerator", "must be > 0 and < takeoverDenominator")
        }
        try ratio(r.liquidatorSharePpm, "risk.liquidatorSharePpm")
        try ratio(r.insuranceSharePpm, "risk.insuranceSharePpm")
        if r.liquidatorSharePpm + r.insuranceSharePpm > Genesis.ppm {
            throw fail("risk.insuranceSharePpm", "liquidator and insurance shares exceed 100%")
        }
        try ratio(r.backstopSharePpm, "risk.backstopSharePpm")
        try positive(r.backstopMaxPerBlock, "risk.backstopMaxPerBlock")
        try positive(r.maxOpenOrders, "risk.maxOpenOrders")

        try positive(funding.intervalMs, "funding.intervalMs")
        try positive(funding.impactNotional, "funding.impactNotional")
        try ratio(funding.interestPpbPerHour, "funding.interestPpbPerHour", max: 1_000_000_000)
        try ratio(funding.premiumClampPpbPerHour, "funding.premiumClampPpbPerHour", max: 1_000_000_000)
        try ratio(funding.maxRatePpbPerHour, "funding.maxRatePpbPerHour", max: 1_000_000_000)

        try positive(oracle.maxAgeMs, "oracle.maxAgeMs")
        try ratio(oracle.markClampPpm, "oracle.markClampPpm")

        try nonNegative(eligibility.minWeightedVolume, "eligibility.minWeightedVolume")
        try nonNegative(eligibility.minAccountValue, "eligibility.minAccountValue")
        if eligibility.maxAccountValue <= eligibility.minAccountValue {
            throw fail("eligibility.maxAccountValue", "must be > minAccountValue")
        }

        var totals = [Int64](repeating: 0, count: assets.count)
        for (i, b) in balances.enumerated() {
            let p = "balances[\(i)]"
            if Int(b.asset) >= assets.count { throw fail("\(p).asset", "unknown asset \(b.asset)") }
            try positive(b.amount, "\(p).amount")
            let (sum, overflow) = totals[Int(b.asset)].addingReportingOverflow(b.amount)
            if overflow { throw fail("\(p).amount", "total supply of \(assets[Int(b.asset)].symbol) overflows Int64") }
            totals[Int(b.asset)] = sum
        }
        for (i, f) in insuranceFund.enumerated() {
            let p = "insuranceFund[\(i)]"
            if Int(f.asset) >= assets.count { throw fail("\(p).asset", "unknown asset \(f.asset)") }
            try positive(f.amount, "\(p).amount")
            let (sum, overflow) = totals[Int(f.asset)].addingReportingOverflow(f.amount)
            if overflow { throw fail("\(p).amount", "total supply of \(assets[Int(f.asset)].symbol) overflows Int64") }
            totals[Int(f.asset)] = sum
        }
    }
}

extension RateModel {
    func validate(path: String) throws(GenesisError) {
        for (v, name) in [(baseRatePpm, "baseRatePpm"), (slope1Ppm, "slope1Ppm"), (slope2Ppm, "slope2Ppm")] {
            if v < 0 || v > 100 * Genesis.ppm { throw GenesisError(path: "\(path).\(name)", reason: "must be within 0...100000000") }
        }
        if kinkPpm <= 0 || kinkPpm >= Genesis.ppm { throw GenesisError(path: "\(path).kinkPpm", reason: "must be within 1...999999") }
        if reserveFactorPpm < 0 || reserveFactorPpm > Genesis.ppm {
            throw GenesisError(path: "\(path).reserveFactorPpm", reason: "must be within 0...1000000")
        }
    }
}

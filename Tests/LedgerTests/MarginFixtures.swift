@testable import Ledger

/// The spec's default genesis risk table, and shorthand for test accounts.
enum MarginFixtures {
    static let btc: AssetID = 1
    static let eth: AssetID = 2
    static let hype: AssetID = 3

    /// One USDC, in base units.
    static let usdc: Int64 = 1_000_000
    /// One whole BTC / ETH / HYPE (8 decimals), in base units.
    static let coin: Int64 = 100_000_000

    static let underlyings: [UnderlyingRisk] = [
        UnderlyingRisk(asset: btc, decimals: 8, betaPPM: 1_000_000, idiosyncraticPPM: 2_500, ltvPPM: 500_000,
                       depth: 10_000_000 * usdc),
        UnderlyingRisk(asset: eth, decimals: 8, betaPPM: 1_500_000, idiosyncraticPPM: 5_000, ltvPPM: 500_000,
                       depth: 5_000_000 * usdc),
        UnderlyingRisk(asset: hype, decimals: 8, betaPPM: 2_500_000, idiosyncraticPPM: 25_000, ltvPPM: 650_000,
                       depth: 1_000_000 * usdc),
    ]

    static func engine() throws -> MarginEngine {
        try MarginEngine(parameters: .specDefault, underlyings: underlyings)
    }

    /// A perp position opened at `entry` (cost basis = size x entry / 10^8, exact in these tests).
    static func perp(_ asset: AssetID, size: Int64, entry: Int64, mark: Int64, oracle: Int64? = nil,
                     spot: Int64 = 0) -> Exposure {
        Exposure(asset: asset, spot: spot, perpSize: size, perpCostBasis: Int64(Int128(size) * Int128(entry) / Int128(coin)),
                 mark: mark, oracle: oracle ?? mark)
    }

    static func spot(_ asset: AssetID, amount: Int64, mark: Int64) -> Exposure {
        Exposure(asset: asset, spot: amount, mark: mark, oracle: mark)
    }
}

import Foundation
import Testing
import BallastCrypto
@testable import Ledger

/// The repository's genesis files, read from disk by the test (the Ledger itself never reads files).
enum GenesisFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func bytes(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent("genesis/\(name)")))
    }
    static func load(_ name: String) throws -> Genesis { try Genesis.decode(json: try bytes(name)) }
}

@Suite struct GenesisTests {
    @Test func testnetMatchesTheSpecDefaults() throws {
        let g = try GenesisFiles.load("testnet.json")
        #expect(g.assets.map(\.symbol) == ["USDC", "BTC", "ETH", "HYPE"])
        #expect(g.markets.map(\.name) == ["BTC/USDC", "ETH/USDC", "HYPE/USDC", "BTC-PERP", "ETH-PERP", "HYPE-PERP"])
        #expect(g.assets.map(\.ltvPpm) == [1_000_000, 500_000, 500_000, 650_000])
        #expect(g.assets.map(\.betaPpm) == [0, 1_000_000, 1_500_000, 2_500_000])
        #expect(g.assets.map(\.idiosyncraticPpm) == [0, 2_500, 5_000, 25_000])
        #expect(g.assets.map(\.depth) == [0, 10_000_000_000_000, 5_000_000_000_000, 1_000_000_000_000])
        #expect(g.markets.filter { $0.kind == .perp }.map(\.maxLeverage) == [40, 25, 10])
        #expect(g.risk.liquidationRatioPpm == 950_000)
        #expect(g.risk.minRequirement == 20_000_000)
        #expect(g.validators.count == 4)
    }

    @Test func validatorKeysComeFromTheDocumentedSeeds() throws {
        let g = try GenesisFiles.load("testnet.json")
        for (i, v) in g.validators.enumerated() {
            let seed = Blake2b.hash256(Array("ballast-testnet-validator-\(i)".utf8)).bytes
            #expect(try SigningKey(seed: seed).publicKey == v.publicKey)
        }
        let faucetSeed = Blake2b.hash256(Array("ballast-testnet-faucet".utf8)).bytes
        #expect(try SigningKey(seed: faucetSeed).address == g.faucet)
    }

    @Test func benchHasTenPerpsAndFourSpotMarkets() throws {
        let g = try GenesisFiles.load("bench.json")
        #expect(g.markets.filter { $0.kind == .perp }.count == 10)
        #expect(g.markets.filter { $0.kind == .spot }.count == 4)
    }

    @Test func encodeDecodeRoundTrips() throws {
        let g = try GenesisFiles.load("testnet.json")
        #expect(try Genesis.decode(json: g.encodeJSON()) == g)
    }

    @Test func badGenesisNamesTheFieldAndReason() throws {
        let cases: [(String, String, (inout Genesis) -> Void)] = [
            ("markets[3].tick", "must be > 0", { $0.markets[3].tick = 0 }),
            ("markets[1].lot", "must be > 0", { $0.markets[1].lot = -5 }),
            ("assets[2].ltvPpm", "must be within 0...1000000", { $0.assets[2].ltvPpm = 1_000_001 }),
            ("markets[3].maxLeverage", "must be <= 1 / (2 x maintenance rate) = 40", { $0.markets[3].maxLeverage = 41 }),
            ("validators[1].publicKey", "duplicate validator key", { $0.validators[1].publicKey = $0.validators[0].publicKey }),
            ("balances[0].asset", "unknown asset 9", { $0.balances[0].asset = 9 }),
            ("risk.takeoverNumerator", "must be > 0 and < takeoverDenominator", { $0.risk.takeoverNumerator = 3 }),
            ("markets[0].base", "must name a non-USDC asset (1..<4)", { $0.markets[0].base = 0 }),
        ]
        let good = try GenesisFiles.load("testnet.json")
        for (path, reason, mutate) in cases {
            var g = good
            mutate(&g)
            #expect(throws: GenesisError(path: path, reason: reason)) { try g.validate() }
            #expect(throws: GenesisError(path: path, reason: reason)) { try Genesis.decode(json: g.encodeJSON()) }
        }
    }

    @Test func malformedJSONNamesThePath() throws {
        var text = String(decoding: try GenesisFiles.bytes("testnet.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: "\"tick\": 1000000,", with: "\"tick\": \"x\",")
        #expect(throws: GenesisError.self) { try Genesis.decode(json: Array(text.utf8)) }
        do { _ = try Genesis.decode(json: Array(text.utf8)) } catch { #expect(error.path == "markets[0].tick") }
    }
}

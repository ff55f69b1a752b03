import Foundation
import Testing
import BallastCrypto
@testable import Ledger

/// A ledger on the testnet genesis with helpers to sign and apply transactions.
struct TestChain {
    var ledger: Ledger
    var timeMs: Int64
    var nonce: UInt64
    let genesis: Genesis

    static let usdc: AssetID = 0, btc: AssetID = 1, eth: AssetID = 2, hype: AssetID = 3
    static let btcSpot: MarketID = 0, btcPerp: MarketID = 3, ethPerp: MarketID = 4

    init(file: String = "testnet.json", _ adjust: (inout Genesis) -> Void = { _ in }) throws {
        var g = try GenesisFiles.load(file)
        adjust(&g)
        genesis = g
        ledger = try Ledger(genesis: g)
        timeMs = g.genesisTimeMs
        nonce = UInt64(g.genesisTimeMs)
    }

    static func key(_ name: String) -> SigningKey {
        // A fixed seed per name: deterministic test keys.
        (try? SigningKey(seed: Blake2b.hash256(Array(name.utf8)).bytes)) ?? SigningKey.generate()
    }
    static var faucet: SigningKey { key("ballast-testnet-faucet") }
    static func validator(_ i: Int) -> SigningKey { key("ballast-testnet-validator-\(i)") }

    mutating func tx(_ key: SigningKey, _ action: Action, nonce explicit: UInt64? = nil) -> SignedTransaction {
        nonce += 1
        return Transaction(chainID: genesis.chainID, signer: key.publicKey, nonce: explicit ?? nonce, action: action).signed(with: key)
    }

    /// Applies one block `advanceMs` after the previous one.
    @discardableResult
    mutating func block(_ txs: [SignedTransaction], advanceMs: Int64 = 1_000) -> BlockResult {
        timeMs += advanceMs
        return ledger.apply(block: BlockInput(timeMs: timeMs, transactions: txs))
    }

    /// Applies one transaction in its own block and returns its receipt.
    @discardableResult
    mutating func run(_ key: SigningKey, _ action: Action, advanceMs: Int64 = 1_000) -> Receipt {
        let t = tx(key, action)
        return block([t], advanceMs: advanceMs).receipts[0]
    }

    /// Sends `amount` of `asset` from the faucet.
    mutating func fund(_ to: Address, _ asset: AssetID, _ amount: Int64) {
        let r = run(TestChain.faucet, .transfer(to: to, asset: asset, amount: amount))
        #expect(r.error == nil, "funding failed: \(String(describing: r.error))")
    }

    /// Sets every validator's price for `asset` (effective from this block).
    mutating func setPrice(_ asset: AssetID, _ price: Int64) {
        let txs = (0..<4).map { tx(TestChain.validator($0), .oraclePrices([OraclePrice(asset: asset, price: price)])) }
        block(txs)
    }

    /// Checks the chain-wide invariants: per-asset conservation, perp sizes sum to zero,
    /// pool shares add up, incremental root equals the full recomputation.
    func checkInvariants(file: StaticString = #filePath, line: UInt = #line) {
        let l = ledger
        var genesisTotals = [Int64](repeating: 0, count: genesis.assets.count)
        for b in genesis.balances { genesisTotals[Int(b.asset)] += b.amount }
        for f in genesis.insuranceFund { genesisTotals[Int(f.asset)] += f.amount }
        var wallets = [Int64](repeating: 0, count: genesis.assets.count)
        var supplyShares = [Int64](repeating: 0, count: genesis.assets.count)
        var debtShares = [Int64](repeating: 0, count: genesis.assets.count)
        var perpSum = [Int64](repeating: 0, count: genesis.markets.count)
        var longs = [Int64](repeating: 0, count: genesis.markets.count)
        // Realized PnL is a transfer between accounts once open positions count at cost basis.
        var costBasis: Int64 = 0
        for address in l.addresses {
            let a = l.account(address)
            for h in a.holdings {
                wallets[Int(h.asset)] += h.wallet
                supplyShares[Int(h.asset)] += h.supplyShares
                debtShares[Int(h.asset)] += h.debtShares
                #expect(h.wallet >= 0)
            }
            for p in a.positions {
                perpSum[Int(p.market)] += p.size
                costBasis += p.costBasis
                longs[Int(p.market)] += max(0, p.size)
            }
        }
        for asset in genesis.assets.indices {
            let pool = l.pool(AssetID(asset))!
            let openBasis = asset == 0 ? costBasis : 0
            #expect(wallets[asset] + pool.cash + l.insuranceFund[asset] - openBasis == genesisTotals[asset], "asset \(asset) not conserved")
            #expect(pool.supplyShares == supplyShares[asset], "supply shares of \(asset)")
            #expect(pool.debtShares == debtShares[asset], "debt shares of \(asset)")
            #expect(pool.supplyIndex > 0 && pool.borrowIndex >= Wad.one)
        }
        for m in genesis.markets.indices {
            #expect(perpSum[m] == 0, "perp sizes of market \(m) sum to \(perpSum[m])")
            #expect(l.marketState(MarketID(m))!.openInterest == longs[m])
        }
        #expect(l.stateRoot == l.recomputeRoot(), "incremental root differs from the full recomputation")
    }
}

extension TestChain {
    static let oneBTC: Int64 = 100_000_000
    static func usd(_ whole: Int64) -> Int64 { whole * 1_000_000 }

    /// A funded standard account with `usdc` whole USDC.
    mutating func trader(_ name: String, usdc: Int64 = 0, btc: Int64 = 0, eth: Int64 = 0) -> SigningKey {
        let k = TestChain.key(name)
        if usdc > 0 { fund(k.address, TestChain.usdc, TestChain.usd(usdc)) }
        if btc > 0 { fund(k.address, TestChain.btc, btc) }
        if eth > 0 { fund(k.address, TestChain.eth, eth) }
        return k
    }

    /// `maker` rests an order and `taker` takes it (IOC); both must succeed in full.
    mutating func trade(maker: SigningKey, taker: SigningKey, market: MarketID, takerSide: Side, price: Int64, size: Int64) {
        let makerSide: Side = takerSide == .buy ? .sell : .buy
        let r1 = run(maker, .placeOrders([OrderRequest(market: market, side: makerSide, price: price, size: size)]))
        #expect(r1.error == nil, "maker order: \(String(describing: r1.error))")
        let r2 = run(taker, .placeOrders([OrderRequest(market: market, side: takerSide, price: price, size: size, timeInForce: .ioc)]))
        #expect(r2.error == nil, "taker order: \(String(describing: r2.error))")
        #expect(r2.orders.first?.filled == size)
    }

    func summary(_ key: SigningKey) throws -> AccountSummary { try ledger.accountSummary(key.address) }

    /// Applies `action` directly and expects it refused with `code`: the nonce is consumed and
    /// nothing else in the state changes (the snapshots match once the nonce is recorded).
    mutating func expectRejected(_ key: SigningKey, _ action: Action, _ code: String, nonce explicit: UInt64? = nil,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        let t = tx(key, action, nonce: explicit).transaction
        var expected = ledger
        let nonceIsValid = expected.account(key.address).nonces.check(t.nonce, blockTimeMs: expected.global.timeMs) == nil
        if nonceIsValid {
            expected.touch(.account(key.address))
            var a = expected.account(key.address)
            a.nonces.insert(t.nonce)
            expected.accounts[key.address] = a
        }
        let receipt = ledger.execute(t, index: 0)
        #expect(receipt.error?.code == code, "expected \(code), got \(String(describing: receipt.error))", sourceLocation: sourceLocation)
        #expect(Blake2b.hash256(ledger.snapshot()) == Blake2b.hash256(expected.snapshot()), "state changed beyond the nonce",
                sourceLocation: sourceLocation)
        #expect(ledger.updateRoot() == expected.updateRoot(), sourceLocation: sourceLocation)
        if nonceIsValid {
            #expect(ledger.account(key.address).nonces.nonces.contains(t.nonce), "nonce not consumed", sourceLocation: sourceLocation)
        }
    }
}

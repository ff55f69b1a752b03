import BallastCrypto

/// A tiny seeded generator (SplitMix64), so that a workload is a pure function of its seed.
public struct WorkloadRandom: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in 0..<n (n > 0).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    /// True with probability `percent`/100.
    public mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// A deterministic stream of blocks for tests, benchmarks and cross-process determinism checks:
/// funded accounts trading perps and spot around the oracle (a third of the orders crossing),
/// cancelling, lending, transferring, liquidating, with validator price moves that include
/// crashes of 30% in one block.
///
/// Transactions carry a zero signature: `Ledger.apply(block:)` takes verified transactions,
/// and the workload exercises the state machine, not signature checks.
public struct Workload: Sendable {
    public let genesis: Genesis
    public private(set) var timeMs: Int64
    var rng: WorkloadRandom
    let traders: [PublicKey]
    let validators: [PublicKey]
    let faucet: PublicKey?
    var nonces: [UInt64]
    var validatorNonce: UInt64
    var faucetNonce: UInt64
    /// The generator's own view of each asset's oracle price.
    var prices: [Int64]
    var nextClientID: UInt64 = 1
    /// Each trader's last few orders (market, client id), for cancels.
    var recent: [[(MarketID, ClientOrderID)]]
    /// Percent chance per block of a 30% crash of one asset.
    public var crashPercent = 3
    /// When set, the 10% share is lending actions only (supply, withdraw, borrow, repay): the
    /// benchmark mix. Otherwise transfers and liquidations are drawn too.
    public var lendingOnly = false

    /// `accounts` traders with keys from BLAKE2b-256("ballast-workload-<i>"). `faucetSeedLabel`
    /// is the label whose BLAKE2b-256 is the faucet's seed; validator i's is
    /// `validatorSeedPrefix` + i (the genesis files document theirs).
    public init(genesis: Genesis, accounts: Int, seed: UInt64, faucetSeedLabel: String,
                validatorSeedPrefix: String) {
        self.genesis = genesis
        timeMs = genesis.genesisTimeMs
        rng = WorkloadRandom(seed: seed)
        func key(_ label: String) -> PublicKey? {
            (try? SigningKey(seed: Blake2b.hash256(Array(label.utf8)).bytes))?.publicKey
        }
        traders = (0..<accounts).compactMap { key("ballast-workload-\($0)") }
        validators = genesis.validators.indices.compactMap { key("\(validatorSeedPrefix)\($0)") }
        faucet = key(faucetSeedLabel)
        let start = UInt64(genesis.genesisTimeMs)
        nonces = Array(repeating: start, count: accounts)
        validatorNonce = start
        faucetNonce = start
        prices = genesis.assets.map(\.initialPrice)
        recent = Array(repeating: [], count: accounts)
    }

    /// Every fourth trader is lean: little collateral, large orders; crashes take them over.
    func isLean(_ i: Int) -> Bool { i % 4 == 3 }

    /// The trader addresses, in order.
    public var addresses: [Address] { traders.map(\.address) }

    func signed(_ signer: PublicKey, _ nonce: UInt64, _ action: Action) -> SignedTransaction {
        SignedTransaction(transaction: Transaction(chainID: genesis.chainID, signer: signer, nonce: nonce, action: action),
                          signature: .zero)
    }

    mutating func traderTx(_ i: Int, _ action: Action) -> SignedTransaction {
        nonces[i] += 1
        return signed(traders[i], nonces[i], action)
    }

    /// Blocks that fund every trader from the faucet (USDC and some of each spot asset), put a
    /// third of them in portfolio mode and make a few of them lenders.
    public mutating func setupBlocks(perBlock: Int = 500) -> [BlockInput] {
        guard let faucet else { return [] }
        var txs: [SignedTransaction] = []
        var spotAssets: [AssetID] = []
        for m in genesis.markets where m.kind == .spot && !spotAssets.contains(m.base) { spotAssets.append(m.base) }
        for i in traders.indices {
            faucetNonce += 1
            let usdc: Int64 = isLean(i) ? 3_000_000_000 : 200_000_000_000
            txs.append(signed(faucet, faucetNonce, .transfer(to: traders[i].address, asset: 0, amount: usdc)))
            for asset in spotAssets where !isLean(i) {
                let a = genesis.assets[Int(asset)]
                // About 20,000 USDC worth of each spot asset.
                let amount = Int64((Int128(20_000_000_000) * Int128(pow10(a.decimals)) / Int128(a.initialPrice)))
                faucetNonce += 1
                txs.append(signed(faucet, faucetNonce, .transfer(to: traders[i].address, asset: asset, amount: max(1, amount))))
            }
        }
        var later: [SignedTransaction] = []
        for i in traders.indices {
            if i % 3 == 0 { later.append(traderTx(i, .setMarginMode(.portfolio))) }
            if i % 5 == 1 && i % 3 != 0 && !isLean(i) { later.append(traderTx(i, .supply(asset: 0, amount: 100_000_000_000))) }
        }
        var blocks: [BlockInput] = []
        for list in [txs, later] {
            var start = 0
            while start < list.count {
                timeMs += 1_000
                blocks.append(BlockInput(timeMs: timeMs, transactions: Array(list[start..<min(list.count, start + perBlock)])))
                start += perBlock
            }
        }
        return blocks
    }

    func pow10(_ d: Int64) -> Int64 { (0..<d).reduce(1) { r, _ in r * 10 } }

    /// The next block: price moves, then `transactions` actions (60% orders, a third of them
    /// crossing; 30% cancels; 10% lending, transfers and liquidations, or lending alone when
    /// `lendingOnly`).
    public mutating func nextBlock(transactions: Int, advanceMs: Int64 = 1_000) -> BlockInput {
        timeMs += advanceMs
        var txs: [SignedTransaction] = []
        txs.append(contentsOf: priceMoves())
        let markets = genesis.markets
        for _ in 0..<transactions {
            let i = rng.below(traders.count)
            let roll = rng.below(100)
            if roll < 60 {
                let m = rng.below(markets.count)
                let mc = markets[m]
                let oracle = prices[Int(mc.base)]
                let side: Side = rng.chance(50) ? .buy : .sell
                let crossing = rng.below(3) == 0
                // Resting orders sit 0.1%..2% away on their side; crossing ones 0.5% through.
                let offsetPpm = Int128(crossing ? -5_000 : 1_000 + rng.below(19_000))
                let away = side == .buy ? -offsetPpm : offsetPpm
                var price = Int64(Int128(oracle) + Int128(oracle) * away / 1_000_000)
                price = max(mc.tick, price / mc.tick * mc.tick)
                let scale = Int128(pow10(genesis.assets[Int(mc.base)].decimals))
                // 50..2,000 USDC of notional (lean traders 5,000..30,000), on the lot.
                let notional = Int128(isLean(i) ? 5_000 + rng.below(25_000) : 50 + rng.below(1_950)) * 1_000_000
                var size = Int64(notional * scale / Int128(price))
                size = max(mc.lot, size / mc.lot * mc.lot)
                let cid = ClientOrderID(storage: (UInt64(i), nextClientID))
                nextClientID += 1
                recent[i].append((MarketID(m), cid))
                if recent[i].count > 8 { recent[i].removeFirst() }
                let tif: TimeInForce = crossing ? (rng.chance(50) ? .ioc : .gtc) : (rng.chance(20) ? .alo : .gtc)
                txs.append(traderTx(i, .placeOrders([OrderRequest(market: MarketID(m), side: side, price: price, size: size,
                                                                  timeInForce: tif, reduceOnly: false, clientID: cid)])))
            } else if roll < 90 {
                if rng.chance(10) {
                    txs.append(traderTx(i, .cancelAll(market: nil)))
                } else if !recent[i].isEmpty {
                    let (market, cid) = recent[i].remove(at: rng.below(recent[i].count))
                    txs.append(traderTx(i, .cancel([.client(market: market, clientID: cid)])))
                } else {
                    txs.append(traderTx(i, .cancelAll(market: MarketID(rng.below(markets.count)))))
                }
            } else {
                let asset = AssetID(rng.below(genesis.assets.count))
                let unit = pow10(genesis.assets[Int(asset)].decimals)
                let amount = max(1, unit * Int64(1 + rng.below(100)) / (asset == 0 ? 1 : 1_000))
                switch rng.below(lendingOnly ? 4 : 6) {
                case 0: txs.append(traderTx(i, .borrow(asset: asset, amount: amount)))
                case 1: txs.append(traderTx(i, .repay(asset: asset, amount: amount)))
                case 2: txs.append(traderTx(i, .supply(asset: asset, amount: amount)))
                case 3: txs.append(traderTx(i, .withdraw(asset: asset, amount: amount)))
                case 4: txs.append(traderTx(i, .transfer(to: traders[rng.below(traders.count)].address, asset: asset, amount: amount)))
                default: txs.append(traderTx(i, .liquidate(target: traders[rng.below(traders.count)].address)))
                }
            }
        }
        return BlockInput(timeMs: timeMs, transactions: txs)
    }

    /// Every validator submits the same move for a few assets: a random walk of up to 0.5%,
    /// and now and then a crash of 30%.
    mutating func priceMoves() -> [SignedTransaction] {
        guard !validators.isEmpty, prices.count > 1 else { return [] }
        var updates: [OraclePrice] = []
        for asset in 1..<prices.count where rng.chance(30) {
            let movePpm = Int128(rng.below(10_001)) - 5_000
            prices[asset] = max(1, Int64(Int128(prices[asset]) + Int128(prices[asset]) * movePpm / 1_000_000))
            updates.append(OraclePrice(asset: AssetID(asset), price: prices[asset]))
        }
        if rng.chance(crashPercent) {
            let asset = 1 + rng.below(prices.count - 1)
            prices[asset] = max(1, prices[asset] * 7 / 10)
            updates.removeAll { $0.asset == AssetID(asset) }
            updates.append(OraclePrice(asset: AssetID(asset), price: prices[asset]))
        }
        guard !updates.isEmpty else { return [] }
        validatorNonce += 1
        return validators.map { signed($0, validatorNonce, .oraclePrices(Array(updates.prefix(Action.maxBatch)))) }
    }
}

extension Ledger {
    /// Applies the standard workload (`accounts` traders, `blocks` blocks of `transactionsPerBlock`)
    /// from `genesis` and returns the state root after every block: the same inputs must give the
    /// same roots in every process (the cross-process determinism check runs this twice).
    public static func replayWorkload(genesis: Genesis, accounts: Int, blocks: Int, transactionsPerBlock: Int,
                                      seed: UInt64, faucetSeedLabel: String,
                                      validatorSeedPrefix: String) throws(GenesisError) -> [Hash256] {
        var ledger = try Ledger(genesis: genesis)
        var workload = Workload(genesis: genesis, accounts: accounts, seed: seed, faucetSeedLabel: faucetSeedLabel,
                                validatorSeedPrefix: validatorSeedPrefix)
        var roots: [Hash256] = []
        for block in workload.setupBlocks() { roots.append(ledger.apply(block: block).stateRoot) }
        for _ in 0..<blocks { roots.append(ledger.apply(block: workload.nextBlock(transactions: transactionsPerBlock)).stateRoot) }
        return roots
    }
}

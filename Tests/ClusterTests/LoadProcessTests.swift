import BallastCrypto
import Cluster
import Foundation
import Ledger
import Node
import Testing

/// `cluster load`, the keeper and `cluster verify` against a real 4-validator cluster.
@Suite(.serialized) struct LoadProcessTests {
    @Test func loadThenKeeperThenVerifyThenAMismatchedGenesis() async throws {
        let scratch = try ScratchCluster("load")
        defer { scratch.remove() }
        let (dir, layout) = (scratch.dir, scratch.layout)
        // No oracle feeders: the keeper test below moves the oracle itself.
        let up = try await scratch.up(["--no-oracle-feed"])
        try #require(up.status == 0, "\(up.output)")

        // 10 s of the mix at 30 tx/s from 20 accounts: everything sent commits.
        let reportPath = dir + "/load-report.json"
        let load = try await ClusterCommandTests.ballast(["cluster", "load", "--dir", dir, "--rate", "30", "--duration", "10",
                                                    "--accounts", "20", "--report", reportPath, "--committed-log", dir + "/committed.txt"])
        try #require(load.status == 0, "\(load.output)")
        let report = try JSONDecoder().decode(LoadReport.self, from: try #require(FileManager.default.contents(atPath: reportPath)))
        #expect(report.submitted >= 290 && report.submitted <= 300, "\(load.output)")
        #expect(report.accepted == report.submitted && report.rejected.isEmpty, "\(load.output)")
        #expect(report.committed == report.submitted && report.uncommitted == 0, "\(load.output)")
        #expect(report.committedOk > report.committed / 2, "\(load.output)")
        #expect(report.latency.count == UInt64(report.committed) && report.latency.p50Ms > 0)
        #expect(report.committedPerSecond > 20, "\(load.output)")
        #expect(load.output.contains("committed tx/s"))
        // The log lists the 77 funding transfers (account 19 is leveraged: USDC only) and every
        // transaction of the load, each once.
        let logged = try String(contentsOfFile: dir + "/committed.txt", encoding: .utf8).split(separator: "\n")
        #expect(logged.count == 77 + report.committed && Set(logged.map { $0.split(separator: " ")[1] }).count == logged.count)
        let accounts = try LoadAccountsFile.load(layout)
        #expect(accounts.accounts.count == 20 && accounts.accounts[8].role == .taker && accounts.accounts[19].role == .leveraged)

        try await liquidationAfterAPriceDrop(layout)

        let verify = try await ClusterCommandTests.ballast(["cluster", "verify", "--dir", dir])
        #expect(verify.status == 0 && verify.output.contains("verify OK: 4 replicas agree"), "\(verify.output)")

        // node0's genesis file no longer matches the chain (the running node read it at start):
        // the replicas still agree, but the replay of node0's log diverges at the first block.
        let genesisPath = layout.home(0) + "/genesis.json"
        let genesisData = try #require(FileManager.default.contents(atPath: genesisPath))
        var json = try #require(try JSONSerialization.jsonObject(with: genesisData) as? [String: Any])
        var balances = try #require(json["balances"] as? [[String: Any]])
        balances[0]["amount"] = (balances[0]["amount"] as? Int64 ?? 0) + 1
        json["balances"] = balances
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: genesisPath))
        let mismatch = try await ClusterCommandTests.ballast(["cluster", "verify", "--dir", dir])
        #expect(mismatch.status != 0, "\(mismatch.output)")
        #expect(mismatch.output.contains("verify FAILED: replaying node0's block log from genesis: at height 1 the replay reaches root"),
                "\(mismatch.output)")
    }

    /// A 25x long on BTC-PERP; the validators push BTC's oracle down step by step until the
    /// account is liquidatable (not yet the backstop's); the keeper liquidates it, unwinds what
    /// it took into the book, ends flat and earns.
    func liquidationAfterAPriceDrop(_ layout: ClusterLayout) async throws {
        let connection = try ClusterConnection(layout: layout, connectionsPerNode: 2)
        let params = try await connection.parameters()
        let faucet = try connection.walletKey(ClusterLayout.faucetKeyName)
        let victim = try SigningKey(seed: Blake2b.hash256(Array("keeper-test-victim".utf8)).bytes)
        let maker = try SigningKey(seed: Blake2b.hash256(Array("keeper-test-maker".utf8)).bytes)
        var nonces: [Address: NonceClock] = [:]
        func tx(_ key: SigningKey, _ action: Action) -> SignedTransaction {
            Transaction(chainID: params.chainId, signer: key.publicKey, nonce: nonces[key.address, default: NonceClock()].next(), action: action)
                .signed(with: key)
        }
        try await connection.submitAndWait(tx(faucet, .transfer(to: victim.address, asset: 0, amount: 2_000_000_000)))
        try await connection.submitAndWait(tx(faucet, .transfer(to: maker.address, asset: 0, amount: 1_000_000_000_000)))
        let perp = try #require(params.markets.firstIndex { $0.name == "BTC-PERP" })
        let market = params.markets[perp]
        // Half a percent above the mark: no resting bid of the load's makers is that high.
        let mark = try await connection.marks()[perp]
        let price = (mark + mark / 200) / market.tick * market.tick
        // 50,000 USDC of BTC.
        let size = Int64(Int128(50_000_000_000) * 100_000_000 / Int128(price)) / market.lot * market.lot
        try await connection.submitAndWait(tx(maker, .placeOrders([OrderRequest(market: MarketID(perp), side: .sell, price: price, size: size)])))
        let fill = try await connection.submitAndWait(tx(victim, .placeOrders([OrderRequest(market: MarketID(perp), side: .buy, price: price,
                                                                                            size: size, timeInForce: .ioc)])))
        #expect(fill.orders.first?.filled == size)

        let validators = try (0..<4).map { try connection.walletKey(ClusterLayout.validatorKeyName($0)) }
        try await connection.waitUntil(height: fill.height)
        var oracle = try await connection.clients[0].get("/v1/markets", as: [MarketView].self)[perp].oracle
        // The account turns liquidatable when V_liq < MR / 0.95, and V_liq falls by `size` per unit
        // of price: jump 80% of the way there at once, then step down 0.2% at a time, so that it is
        // seen liquidatable before V_liq < 2/3 MR hands it to the backstop.
        let start = try await connection.clients[0].get("/v1/accounts/\(victim.address)", as: AccountSummary.self).standard
        let drop = Int128(start.liquidationValue - start.maintenance * 100 / 95) * 100_000_000 / Int128(size)
        var next = oracle - Int64(drop * 8 / 10)
        var health = "healthy"
        for _ in 0..<40 where health == "healthy" {
            oracle = next
            next = oracle * 9_980 / 10_000
            let step = oracle
            let height = try await withThrowingTaskGroup(of: UInt64.self) { group in
                for v in validators {
                    let signed = tx(v, .oraclePrices([OraclePrice(asset: market.base, price: step)]))
                    group.addTask { try await connection.submitAndWait(signed).height }
                }
                return try await group.reduce(0, max)
            }
            try await connection.waitUntil(height: height)
            health = try await connection.clients[0].get("/v1/accounts/\(victim.address)", as: AccountSummary.self).health
        }
        try #require(health == "liquidatable", "the victim is \(health) at oracle \(oracle)")

        // Depth for the keeper's unwind: the maker bids at the mark (on the tick) for twice the
        // victim's size. A bid at or below the mark does not move it (the mark is the median of
        // oracle, best bid and best ask), so the victim stays liquidatable.
        let view = try await connection.clients[0].get("/v1/markets", as: [MarketView].self)[perp]
        let bid = (view.mark > 0 ? view.mark : view.oracle) / market.tick * market.tick
        try await connection.submitAndWait(tx(maker, .placeOrders([OrderRequest(market: MarketID(perp), side: .buy, price: bid, size: 2 * size)])))

        let keeper = Keeper(connection: connection, key: try connection.walletKey("keeper", create: true), watched: [maker.address, victim.address])
        try await keeper.fund(usdc: 1_000_000_000_000)
        func usdc(_ address: Address) async throws -> Int64 {
            try await connection.clients[0].get("/v1/accounts/\(address)", as: AccountSummary.self).balances.first { $0.asset == 0 }?.net ?? 0
        }
        // A fresh cluster: the funding is all the keeper has.
        let usdcBefore: Int64 = 1_000_000_000_000
        // The keeper reads each account from the next node in turn, which may not have the last
        // price step yet: it scans again, as it does when it runs.
        var made: [KeeperLiquidation] = []
        for _ in 0..<20 where made.isEmpty {
            made = try await keeper.scan { print("keeper: \($0)") }
            if made.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(made.count == 1, "\(keeper.report)")
        let done = made[0]
        #expect(done.target == victim.address.description && done.health == "liquidatable" && !done.whole)
        // The bonus is the one the ledger recorded for this takeover, in the victim's history too.
        try await connection.waitUntil(height: try #require(done.unwind.height))
        let victimHistory = try await connection.clients[0].get("/v1/accounts/\(victim.address)/history?limit=20", as: HistoryPage.self)
        let takeover = try #require(victimHistory.events.compactMap { e -> LiquidationEvent? in
            if case .liquidation(let l) = e.detail { return l } else { return nil } }.first)
        #expect(takeover.liquidator == keeper.key.address && done.bonus == takeover.liquidatorBonus && done.bonus > 0)
        let taken = try #require(takeover.positions.first)
        #expect(taken.size > 0 && taken.size < size && done.takenOver.count == 1)
        // The unwind sold all of it at or above the maker's bid: the keeper is flat, holds only
        // USDC, and earned the bonus less the unwind's cost.
        #expect(done.unwind.error == nil && done.unwind.left.isEmpty && done.unwind.orders.count == 1 && done.unwind.fees > 0, "\(done)")
        let keeperAfter = try await connection.clients[0].get("/v1/accounts/\(keeper.key.address)", as: AccountSummary.self)
        #expect(keeperAfter.positions.isEmpty && keeperAfter.balances.allSatisfy { $0.asset == 0 || $0.net == 0 }, "\(keeperAfter)")
        // Sold at no less than the bid, one tick at most under the takeover mark: the 0.045% taker
        // fee is at least that of the size at the bid, the realized PnL at least -(tick x size)
        // less the fee, and the net is positive.
        #expect(Int128(done.unwind.fees) >= Int128(taken.size) * Int128(bid) / 100_000_000 * 450 / 1_000_000, "\(done)")
        #expect(Int128(done.unwind.realizedPnl) >= -Int128(market.tick) * Int128(taken.size) / 100_000_000 - Int128(done.unwind.fees) - 1)
        #expect(done.net == done.bonus + done.unwind.realizedPnl && done.net > 0, "\(done)")
        // Exactly: the keeper's USDC moved by the net (plus any funding settled while it held the position).
        let history = try await connection.clients[0].get("/v1/accounts/\(keeper.key.address)/history?limit=50", as: HistoryPage.self)
        let funding = history.events.reduce(Int64(0)) { sum, e in if case .funding(let f) = e.detail { return sum + f.amount } else { return sum } }
        #expect(try await usdc(keeper.key.address) - usdcBefore == done.net + funding)
        let report = keeper.report
        #expect(report.liquidations == made && report.totalBonus == done.bonus && report.totalUnwindPnl == done.unwind.realizedPnl)
        #expect(report.totalNet == done.net && report.held.isEmpty && report.laterUnwinds.isEmpty)
        // A pass on a node that has the liquidation finds nothing left to liquidate.
        try await connection.waitUntil(height: made[0].height, node: 1)
        #expect(try await keeper.scan().isEmpty)
    }
}

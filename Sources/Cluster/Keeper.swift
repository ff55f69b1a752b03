import BallastCrypto
import Foundation
import Ledger
import Node

/// One liquidation the keeper made.
public struct KeeperLiquidation: Codable, Sendable, Equatable {
    public var target: String
    public var txId: String
    public var height: UInt64
    /// The target's health and MR / V_liq (ppm) when the keeper saw it.
    public var health: String
    public var ratioPpm: Int64
    /// The keeper's equity after minus before, USDC base units, at the marks of each moment:
    /// the bonus the ledger paid, plus any move of the marks in between.
    public var bonus: Int64
}

/// What a keeper run did (the JSON of `--report`).
public struct KeeperReport: Codable, Sendable {
    public var keeper: String
    public var watched: Int
    public var scans: Int
    public var liquidations: [KeeperLiquidation]
    /// Liquidations that failed, by code (another keeper or the backstop came first, …).
    public var failed: [String: Int]
    public var totalBonus: Int64 { liquidations.reduce(0) { $0 + $1.bonus } }

    enum CodingKeys: String, CodingKey { case keeper, watched, scans, liquidations, failed, totalBonus }
    public init(keeper: String, watched: Int, scans: Int, liquidations: [KeeperLiquidation], failed: [String: Int]) {
        self.keeper = keeper
        self.watched = watched
        self.scans = scans
        self.liquidations = liquidations
        self.failed = failed
    }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        keeper = try c.decode(String.self, forKey: .keeper)
        watched = try c.decode(Int.self, forKey: .watched)
        scans = try c.decode(Int.self, forKey: .scans)
        liquidations = try c.decode([KeeperLiquidation].self, forKey: .liquidations)
        failed = try c.decode([String: Int].self, forKey: .failed)
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(keeper, forKey: .keeper)
        try c.encode(watched, forKey: .watched)
        try c.encode(scans, forKey: .scans)
        try c.encode(liquidations, forKey: .liquidations)
        try c.encode(failed, forKey: .failed)
        try c.encode(totalBonus, forKey: .totalBonus)
    }
}

/// A liquidation bot (`ballast cluster keeper`): scans the watched accounts' health on the
/// nodes and sends `liquidate` from its own funded account for every one that is not healthy.
public final class Keeper: Sendable {
    public let connection: ClusterConnection
    public let key: SigningKey
    public let watched: [Address]
    let state = KeeperState()

    /// A keeper signing with `key`, watching `watched`.
    public init(connection: ClusterConnection, key: SigningKey, watched: [Address]) {
        self.connection = connection
        self.key = key
        self.watched = watched
    }

    /// Moves `usdc` base units from the faucet to the keeper (it must pass its own margin
    /// checks after taking over a position).
    public func fund(usdc: Int64) async throws {
        let faucet = try connection.walletKey(ClusterLayout.faucetKeyName)
        let params = try await connection.parameters()
        var nonce = NonceClock()
        try await connection.submitAndWait(Transaction(chainID: params.chainId, signer: faucet.publicKey, nonce: nonce.next(),
                                                       action: .transfer(to: key.address, asset: 0, amount: usdc)).signed(with: faucet))
    }

    /// One pass over the watched accounts; returns the liquidations it made. `log` gets a line for each.
    @discardableResult
    public func scan(log: @Sendable (String) -> Void = { _ in }) async throws -> [KeeperLiquidation] {
        let chainID = try await connection.parameters().chainId
        state.scanned()
        var made: [KeeperLiquidation] = []
        // Up to 64 summaries in flight at once, pipelined over the nodes' connections.
        for first in stride(from: 0, to: watched.count, by: 64) {
            let chunk = Array(watched[first..<min(first + 64, watched.count)])
            let futures = chunk.enumerated().map { k, address in
                connection.clients[(first + k) % connection.clients.count].request(.GET, "/v1/accounts/\(address)")
            }
            for (address, future) in zip(chunk, futures) {
                guard let answer = try? await future.get(), answer.status == 200,
                      let summary = try? answer.decode(AccountSummary.self), summary.health != "healthy" else { continue }
                let own = summary.mode == .portfolio ? summary.portfolio : summary.standard
                let before = try await equity()
                let tx = Transaction(chainID: chainID, signer: key.publicKey, nonce: state.nextNonce(),
                                     action: .liquidate(target: address)).signed(with: key)
                do {
                    let receipt = try await connection.submitAndWait(tx)
                    // The equity is read from node 0, which may not have executed that block yet.
                    try await connection.waitUntil(height: receipt.height)
                    let bonus = try await equity() - before
                    let done = KeeperLiquidation(target: address.description, txId: receipt.txId, height: receipt.height,
                                                 health: summary.health, ratioPpm: own.ratioPpm, bonus: bonus)
                    state.record(done)
                    made.append(done)
                    log("liquidated \(address) at height \(receipt.height) (\(summary.health), MR/V_liq \(Self.percent(own.ratioPpm))): "
                        + "bonus \(Self.usdc(bonus)) USDC")
                } catch {
                    state.failed((error as? SubmitFailure)?.code ?? "error")
                    log("liquidation of \(address) failed: \(error)")
                }
            }
        }
        return made
    }

    /// Scans every `interval` until `until` passes or the task is cancelled.
    public func run(interval: Duration, until deadline: ContinuousClock.Instant?, log: @escaping @Sendable (String) -> Void) async {
        while !Task.isCancelled, deadline.map({ ContinuousClock.now < $0 }) ?? true {
            do { try await scan(log: log) } catch { log("scan failed: \(error)") }
            try? await Task.sleep(for: interval)
        }
    }

    public var report: KeeperReport {
        state.report(keeper: key.address.description, watched: watched.count)
    }

    /// The keeper's equity in USDC base units on node 0: every balance at its asset's mark plus
    /// the unrealized PnL of its positions.
    func equity() async throws -> Int64 {
        let summary = try await connection.clients[0].get("/v1/accounts/\(key.address)", as: AccountSummary.self)
        let params = try await connection.parameters()
        let markets = try await connection.clients[0].get("/v1/markets", as: [MarketView].self)
        var total: Int128 = 0
        for b in summary.balances {
            let price: Int64 = b.asset == 0 ? 1_000_000 : (markets.first { params.markets[Int($0.market)].base == b.asset }.map { $0.mark > 0 ? $0.mark : $0.oracle } ?? 0)
            let scale = (0..<params.assets[Int(b.asset)].decimals).reduce(Int128(1)) { r, _ in r * 10 }
            total += Int128(b.net) * Int128(price) / scale
        }
        for p in summary.positions { total += Int128(p.unrealizedPnl) }
        return Int64(clamping: total)
    }

    static func usdc(_ amount: Int64) -> String { String(format: "%.2f", Double(amount) / 1e6) }
    static func percent(_ ppm: Int64) -> String { ppm == Int64.max ? "∞" : String(format: "%.1f%%", Double(ppm) / 1e4) }

}

/// The keeper's tallies, shared by its scans.
final class KeeperState: @unchecked Sendable {
    private let lock = NSLock()
    private var liquidations: [KeeperLiquidation] = []
    private var failures: [String: Int] = [:]
    private var scans = 0
    private var nonce = NonceClock()

    func scanned() { lock.withLock { scans += 1 } }
    func record(_ l: KeeperLiquidation) { lock.withLock { liquidations.append(l) } }
    func failed(_ code: String) { lock.withLock { failures[code, default: 0] += 1 } }
    func nextNonce() -> UInt64 { lock.withLock { nonce.next() } }
    func report(keeper: String, watched: Int) -> KeeperReport {
        lock.withLock { KeeperReport(keeper: keeper, watched: watched, scans: scans, liquidations: liquidations, failed: failures) }
    }
}

import ArgumentParser
import BallastCrypto
import Cluster
import Foundation

extension ClusterCommand {
    /// `ballast cluster keeper`: a liquidation bot.
    struct Keeper: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Watch accounts and liquidate the unhealthy ones from a funded keeper account.",
            discussion: """
                Watches the accounts of the last `cluster load` (DIR/load/accounts.json) and any --watch \
                address. The keeper key is `keeper` in the cluster wallet (created on first use) and is \
                funded from the faucet. Right after each liquidation the keeper unwinds what it took over \
                with reduce-only IOC orders --unwind-through away from the mark (perp positions closed, \
                spot balances sold or debt bought back). Each liquidation is logged with the bonus the \
                ledger paid (from the keeper's history), the unwind's realized PnL (fees included) and \
                the net of the two.
                """)
        @OptionGroup var location: ClusterCommand.Location
        @Option(help: "Also watch this address (repeatable).") var watch: [String] = []
        @Option(help: "Seconds between scans.") var interval = 0.5
        @Option(help: "Stop after this many seconds (default: until Ctrl-C).") var duration: Double?
        @Option(help: "USDC (whole units) the faucet gives the keeper first; 0 for none.") var fund = 1_000_000
        @Option(help: "How far through the mark the unwind orders' limits go, percent (clamped to the price band).")
        var unwindThrough = 2.0
        @Option(help: "Leave alone unhealthy accounts exposed to less than this many USDC (perp notional plus non-USDC balances at mark).")
        var minExposure = 10.0
        @Option(help: "Write the report as JSON to this file.") var report: String?

        func run() async throws {
            let stop = StopSignals()
            try await reportingErrors(json: false) {
                let layout = location.layout
                var watched: [Address] = []
                if let file = try? LoadAccountsFile.load(layout) {
                    watched = try file.accounts.map { try Address(hex: $0.address) }
                }
                for text in watch {
                    do { watched.append(try Address(hex: text)) } catch { throw UserError("--watch \(text): \(error)") }
                }
                guard !watched.isEmpty else {
                    throw UserError("nothing to watch: run `ballast cluster load` first (it writes \(LoadAccountsFile.path(layout))) or pass --watch ADDRESS")
                }
                let connection = try ClusterConnection(layout: layout, connectionsPerNode: 2)
                guard unwindThrough >= 0, unwindThrough < 100 else { throw UserError("--unwind-through must be 0 to below 100 (percent)") }
                let keeper = Cluster.Keeper(connection: connection, key: try connection.walletKey("keeper", create: true), watched: watched,
                                            unwindThroughPpm: Int64((unwindThrough * 10_000).rounded()),
                                            minExposure: Int64((max(0, minExposure) * 1_000_000).rounded()))
                if fund > 0 { try await keeper.fund(usdc: Int64(fund) * 1_000_000) }
                print("keeper \(keeper.key.address) watching \(watched.count) accounts every \(interval) s (Ctrl-C stops)")
                fflush(nil)
                let task = Task {
                    await keeper.run(interval: .milliseconds(Int64(interval * 1000)),
                                     until: duration.map { ContinuousClock.now + .milliseconds(Int64($0 * 1000)) }) { line in
                        print(line)
                        fflush(nil)
                    }
                }
                stop.onStop { task.cancel() }
                await task.value
                let result = keeper.report
                func usdc(_ v: Int64) -> String { String(format: "%.2f", Double(v) / 1e6) }
                print("keeper: \(result.scans) scans, \(result.liquidations.count) liquidations, bonus \(usdc(result.totalBonus)) USDC, "
                    + "unwind \(usdc(result.totalUnwindPnl)) USDC (fees \(usdc(result.totalFees))), net \(usdc(result.totalNet)) USDC, "
                    + (result.held.isEmpty ? "flat" : "still holding \(result.held.joined(separator: ", "))") + ", failed \(result.failed), skipped as dust \(result.skippedDust), skipped while still holding \(result.skippedWhileHolding)")
                if let report {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                    try encoder.encode(result).write(to: URL(fileURLWithPath: report))
                    print("report written to \(report)")
                }
            }
        }
    }
}

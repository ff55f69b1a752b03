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
                funded from the faucet. Each liquidation is logged with its bonus: the keeper's equity \
                after minus before, at the marks.
                """)
        @OptionGroup var location: ClusterCommand.Location
        @Option(help: "Also watch this address (repeatable).") var watch: [String] = []
        @Option(help: "Seconds between scans.") var interval = 0.5
        @Option(help: "Stop after this many seconds (default: until Ctrl-C).") var duration: Double?
        @Option(help: "USDC (whole units) the faucet gives the keeper first; 0 for none.") var fund = 1_000_000
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
                let keeper = Cluster.Keeper(connection: connection, key: try connection.walletKey("keeper", create: true), watched: watched)
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
                print("keeper: \(result.scans) scans, \(result.liquidations.count) liquidations, total bonus "
                    + String(format: "%.2f", Double(result.totalBonus) / 1e6) + " USDC, failed \(result.failed)")
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

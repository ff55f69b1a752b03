import ArgumentParser
import Cluster
import Foundation

extension ClusterCommand {
    /// `ballast cluster load`: funded accounts sending a realistic mix, measured.
    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fund accounts from the faucet, send a realistic transaction mix to every node, and measure it.",
            discussion: """
                The mix: market makers quoting both sides around the mark and cancelling, takers crossing, \
                basis traders holding spot against perps, borrowers supplying, borrowing and repaying. \
                Commits are read from the blocks' receipts; latency is from just before a transaction is \
                sent to when a node first reports the height of the block holding it.
                """)
        @OptionGroup var location: ClusterCommand.Location
        @Option(help: "Transactions per second, or `max` (as fast as the cluster commits).") var rate = "100"
        @Option(help: "Seconds of load after funding.") var duration = 10.0
        @Option(help: "Accounts sending the mix (funded from the faucet first).") var accounts = 200
        @Option(help: "Seed of the account keys and the mix.") var seed: UInt64 = 1
        @Flag(help: "Sign every transaction before the load starts.") var presign = false
        @Option(name: .customLong("presign-count"), help: "Transactions signed ahead at --rate max.") var presignCount = 200_000
        @Option(help: "Transactions per HTTP request: 1 posts each to /v1/tx, more post binary batches to /v1/txs.") var batch = 1
        @Option(name: .customLong("max-in-flight"), help: "At --rate max: most transactions sent and not yet committed.") var maxInFlight = 3_000
        @Option(name: .customLong("request-deadline"),
                help: "Seconds a node may take to answer a request before it counts as stalled and its traffic goes to the other nodes.")
        var requestDeadline = 2.0
        @Flag(name: .customLong("no-fund"), help: "The accounts are funded already (an earlier run with the same seed).") var noFund = false
        @Option(help: "Write the report as JSON to this file.") var report: String?
        @Option(name: .customLong("committed-log"), help: "Write `HEIGHT TXID` for every transaction seen committed to this file.")
        var committedLog: String?
        @Option(help: "Take the rate, duration, accounts and mix weights from this manifest's load section (cluster/*.json) instead of --rate, --duration, --accounts and the default mix.")
        var manifest: String?

        func run() async throws {
            try await reportingErrors(json: false) {
                var (rate, duration, accounts) = (self.rate, self.duration, self.accounts)
                var mix = Manifest.Mix()
                if let manifest {
                    guard let shape = try Manifest.load(path: manifest).load else { throw UserError("\(manifest) has no load section") }
                    rate = shape.ratePerSecond.map(String.init) ?? "max"
                    duration = Double(shape.durationSeconds)
                    accounts = shape.accounts
                    mix = shape.mix
                }
                guard let parsedRate = LoadRate(rate) else { throw UserError("--rate must be a positive integer or max") }
                guard duration > 0, accounts > 0 else { throw UserError("--duration and --accounts must be positive") }
                guard (1...1_024).contains(batch) else { throw UserError("--batch must be between 1 and 1024") }
                guard requestDeadline > 0 else { throw UserError("--request-deadline must be positive") }
                var options = LoadOptions()
                options.rate = parsedRate
                options.duration = duration
                options.accounts = accounts
                options.seed = seed
                options.presign = presign
                options.presignCount = presignCount
                options.batch = batch
                options.mix = mix
                options.maxInFlight = maxInFlight
                options.fund = !noFund
                options.committedLog = committedLog
                let connection = try ClusterConnection(layout: location.layout, requestDeadline: .milliseconds(Int(requestDeadline * 1000)))
                // B in the same run: raw verifies on one core, times the cores, measured before the
                // load and again once the nodes are idle after it (one measurement moves by ±10%).
                let rateBefore = try CryptoBench.rawVerifyRate(seconds: 2)
                let interactive = isatty(STDERR_FILENO) == 1
                var result = try await LoadGenerator(connection: connection, options: options).run { progress in
                    let text = (interactive ? "\r\u{1B}[K" : "") + progress.line + (interactive ? "" : "\n")
                    FileHandle.standardError.write(Data(text.utf8))
                }
                if interactive { FileHandle.standardError.write(Data("\n".utf8)) }
                var rates = [rateBefore]
                if await NodeCPU.waitUntilIdle(layout: location.layout) { rates.append(try CryptoBench.rawVerifyRate(seconds: 2)) }
                result.bound = ThroughputBound(cores: ProcessInfo.processInfo.activeProcessorCount, rawVerifiesPerSecond: rates,
                                               validators: connection.manifest.validators)
                print(result.summary)
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

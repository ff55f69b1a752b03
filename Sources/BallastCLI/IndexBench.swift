import ArgumentParser
import BallastCrypto
import Foundation
import Simulator
import Storage

/// `ballast bench index`: what writing the index of receipts and account history costs per
/// committed transaction as the index grows. The node's index writer does exactly this on its own
/// thread (`CommitIndex`), a batch of blocks at a time; here one thread writes synthetic blocks
/// shaped like the cluster's at full load (blocks of a few hundred transactions over 400 accounts,
/// two history events per transaction) and reports, per window of blocks, the writing thread's
/// CPU time and the bytes the process wrote per transaction. The file grows as it would in a
/// long run, so later windows show the steady-state cost, not just a fresh file's.
struct IndexBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "CPU and bytes written per transaction by the index writer as the index grows.")
    @Option(help: "Blocks to write.") var blocks = 2_000
    @Option(help: "Transactions per block.") var transactions = 500
    @Option(help: "Accounts the transactions and events are spread over.") var accounts = 400
    @Option(help: "Blocks per write (the writer's batch: about one second of blocks at full load).") var batchBlocks = 5
    @Option(help: "Blocks per reported window.") var window = 200
    @Option(help: "Bytes of one history event (the ledger's fill events are about this size).") var eventBytes = 150
    @Option(help: "Bytes of one receipt (a binary receipt is about this size).") var receiptBytes = 40
    @Option(help: "Directory for the index file (a fresh temporary one by default; removed at the end).") var directory: String?
    @Option(help: "Seed of the synthetic ids and events.") var seed: UInt64 = 1

    func validate() throws {
        guard blocks > 0, transactions > 0, accounts > 0, batchBlocks > 0, window > 0, eventBytes > 0, receiptBytes >= 0 else {
            throw ValidationError("every count must be positive")
        }
    }

    func run() throws {
        let dir = directory ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("ballast-index-bench-\(getpid())")
        try? FileManager.default.removeItem(atPath: dir)
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let store = try IndexStore(directory: dir)
        var rng = SplitMix64(seed: seed)
        let addresses = (0..<accounts).map { _ in Address(filling: { Self.fill($0, &rng) }) }
        print("index bench: \(blocks) blocks of \(transactions) transactions over \(accounts) accounts, \(batchBlocks) blocks per write, 2 events of \(eventBytes) bytes per transaction")
        print("  blocks        txs in index   µs CPU per tx   KiB written per tx   index file MiB")
        var pending: [IndexedBlock] = []
        var windowCPU = 0.0, windowTx = 0
        var windowWritten = writtenBytes()
        var txCount = 0
        for height in 1...UInt64(blocks) {
            pending.append(Self.block(height: height, transactions: transactions, addresses: addresses, eventBytes: eventBytes, receiptBytes: receiptBytes, rng: &rng))
            if pending.count == batchBlocks || height == UInt64(blocks) {
                let start = threadCPUSeconds()
                try store.write(pending)
                windowCPU += threadCPUSeconds() - start
                let written = pending.reduce(0) { $0 + $1.transactions.count }
                windowTx += written
                txCount += written
                pending.removeAll(keepingCapacity: true)
            }
            if height % UInt64(window) == 0 || height == UInt64(blocks) {
                let bytes = writtenBytes() - windowWritten
                windowWritten += bytes
                let fileMiB = Double(Self.fileBytes(dir)) / 1_048_576
                let firstBlock = Int(height) - (Int(height - 1) % window)
                print("  \(String("\(firstBlock)-\(height)").padding(toLength: 13, withPad: " ", startingAt: 0)) \(String(txCount).leftPadded(12))   \(String(format: "%.2f", windowCPU / Double(max(windowTx, 1)) * 1e6).leftPadded(13))   \(String(format: "%.2f", Double(bytes) / 1024 / Double(max(windowTx, 1))).leftPadded(18))   \(String(format: "%.1f", fileMiB).leftPadded(14))")
                windowCPU = 0
                windowTx = 0
            }
        }
    }

    /// A block like the cluster's: random transaction ids and receipts of the usual size, and for
    /// each transaction one event for its sender and one for a counterparty.
    static func block(height: UInt64, transactions: Int, addresses: [Address], eventBytes: Int, receiptBytes: Int, rng: inout SplitMix64) -> IndexedBlock {
        var txs: [StoredTransaction] = []
        var history: [HistoryEntry] = []
        txs.reserveCapacity(transactions)
        history.reserveCapacity(2 * transactions)
        for i in 0..<transactions {
            let id = Hash256(filling: { fill($0, &rng) })
            txs.append(StoredTransaction(id: id, height: height, index: i, receipt: randomBytes(receiptBytes, &rng)))
            for _ in 0..<2 {
                let address = addresses[Int(rng.next() % UInt64(addresses.count))]
                history.append(HistoryEntry(address: address, height: height, sequence: history.count, kind: 1,
                                            bytes: randomBytes(eventBytes, &rng), txId: id))
            }
        }
        return IndexedBlock(height: height, transactions: txs, history: history)
    }

    static func fill(_ buffer: UnsafeMutableRawBufferPointer, _ rng: inout SplitMix64) {
        for i in 0..<buffer.count { buffer[i] = UInt8(truncatingIfNeeded: rng.next()) }
    }

    static func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: rng.next()) { out.append(contentsOf: $0) } }
        return Array(out.prefix(count))
    }

    /// Bytes this process has caused to be written to storage (`write_bytes` of /proc/self/io).
    func writtenBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/io", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("write_bytes:") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }

    static func fileBytes(_ dir: String) -> Int {
        let names = ["ballast-index.sqlite", "ballast-index.sqlite-wal"]
        return names.reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: (dir as NSString).appendingPathComponent(name))
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}

import BallastCrypto
import Consensus
import Foundation
import Ledger
import Storage

/// Replays a node's committed block log from genesis, as a fresh node with nothing
/// but the genesis would: every block decoded from its stored bytes, its transactions
/// filtered exactly as at commit time (signatures checked again, repeats of transactions
/// committed earlier skipped, tracked by the replay itself), applied to a new ledger.
/// The root after each block is compared with the root the node stored.
public enum BlockLogReplay {
    /// Where the replayed root first differs from the stored one.
    public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
        public var height: UInt64
        public var replayed: Hash256
        public var stored: Hash256
        public var description: String {
            "at height \(height) the replay reaches root \(replayed.hex), the node stored \(stored.hex)"
        }
    }

    public struct Result: Sendable, Equatable {
        /// The last height replayed (0: no block).
        public var height: UInt64
        /// The replayed root after `height`.
        public var stateRoot: Hash256
        /// Executed transactions.
        public var transactions: Int
        /// The first block whose replayed root differs from the stored one; the replay stops there.
        public var mismatch: Mismatch?
    }

    /// Replays the blocks of the node home at `home` from genesis up to `height` (all when nil).
    public static func run(home: String, upTo height: UInt64? = nil, onBlock: (UInt64, Hash256) -> Void = { _, _ in }) throws -> Result {
        let nodeHome = NodeHome(path: home)
        let config = try NodeConfig.load(home: nodeHome.path)
        let genesis = try nodeHome.loadGenesis(config).genesis
        let store = try NodeStore(directory: NodeConfig.resolve(config.dataDirectory, home: nodeHome.path), readOnly: true)
        return try run(genesis: genesis, store: store, upTo: height, onBlock: onBlock)
    }

    /// Replays the blocks of `store` on a ledger made from `genesis`.
    public static func run(genesis: Genesis, store: NodeStore, upTo height: UInt64? = nil,
                           onBlock: (UInt64, Hash256) -> Void = { _, _ in }) throws -> Result {
        var ledger = try Ledger(genesis: genesis)
        var result = Result(height: 0, stateRoot: ledger.stateRoot, transactions: 0, mismatch: nil)
        var committed: Set<Hash256> = []
        let last = height ?? UInt64.max
        while result.height < last {
            let batch = try store.blocks(from: result.height + 1, limit: Int(min(256, last - result.height)))
            if batch.isEmpty { break }
            for stored in batch {
                guard stored.height == result.height + 1 else {
                    throw NodeHalt("the block log has no block at height \(result.height + 1) (next is \(stored.height))")
                }
                let block = try Proposal(canonicalBytes: stored.bytes).block
                let ids = block.payload.map { Blake2b.hash256($0) }
                let transactions = ValidatorRuntime.validTransactions(block.payload, ids: ids, chainID: genesis.chainID, mempool: nil,
                                                                      committedEarlier: ids.map { committed.contains($0) })
                for tx in transactions { committed.insert(tx.id) }
                let applied = ledger.apply(block: BlockInput(timeMs: Int64(block.timestamp), transactions: transactions.map(\.transaction)))
                result.height = stored.height
                result.stateRoot = applied.stateRoot
                result.transactions += transactions.count
                onBlock(stored.height, applied.stateRoot)
                if applied.stateRoot != stored.stateRoot {
                    result.mismatch = Mismatch(height: stored.height, replayed: applied.stateRoot, stored: stored.stateRoot)
                    return result
                }
            }
        }
        return result
    }
}

import BallastCrypto
import Dispatch
import Foundation
import Storage
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The receipts and account history of committed blocks, as every reader sees them: the blocks
/// indexed in `IndexStore`, plus the blocks executed since, held here until a background writer
/// has stored them.
///
/// Why not write them with the block: they are most of a block's rows (a receipt per transaction,
/// an event per account touched), inserted at scattered places (by transaction hash, by account),
/// so each dirties its own page. Written a batch of blocks at a time, on their own thread and
/// file, they no longer hold up the next round, and an account active in every block has its
/// history page written once per batch. Nothing is lost by a crash: the block store is written
/// before `append`, and on start the node executes the blocks above `indexedHeight` again. The
/// block store's commits are synced before each batch (`NodeStore.syncCommittedBlocks`), so even a
/// power loss cannot leave the index ahead of the blocks.
///
/// Readers look at the pending blocks first, then the store. A writer removes blocks from pending
/// only after their batch is committed, so a reader that misses one in pending finds it stored.
public final class CommitIndex: Sendable {
    /// The index file.
    public let store: IndexStore
    /// The block store whose commits are synced before each batch (nil in tests of the index alone).
    private let blocks: NodeStore?
    private let delayMs: Int
    private let maxPendingBlocks: Int
    /// Serializes batches: the scheduled ones, a full pending list's, a flush.
    private let queue = DispatchQueue(label: "ballast.commit-index")
    /// Runs the scheduled batches on a thread of its own at a lower CPU priority.
    private let timer: LowPriorityTimer
    private let state: Mutex<State>

    private struct State {
        /// Executed blocks not yet in the store, in height order.
        var pending: [IndexedBlock] = []
        /// The transactions of `pending` by id.
        var byID: [Hash256: StoredTransaction] = [:]
        /// Every id in the store or in `pending`: an id it has not seen was never committed.
        var committed: CommittedIDFilter
        var flushScheduled = false
        /// The store's height: every block at or below it is stored.
        var indexedHeight: UInt64
        /// Set when a batch could not be written; the node halts on it.
        var failure: StorageError?
    }

    /// `delayMs`: how long an executed block may wait for the batch that stores it (the batch
    /// gathers the blocks executed meanwhile). Transactions are indexed by hash, so each one
    /// dirties a page of its own once the index outgrows a batch: a longer batch shares more pages.
    /// `ballast bench index` measures it: at 300,000 indexed transactions, 4 s batches at full
    /// load cost about 30% less CPU per transaction than 1 s batches (docs/benchmarks.md).
    /// `maxPendingBlocks`: beyond it, `append` waits for
    /// the writer (memory stays bounded when the disk falls behind, and the index stays within a
    /// snapshot interval of the blocks, so a restart finds a snapshot it has caught up with).
    public init(store: IndexStore, blocks: NodeStore? = nil, delayMs: Int = 4_000, maxPendingBlocks: Int = 512) throws(StorageError) {
        self.store = store
        self.blocks = blocks
        self.delayMs = delayMs
        self.maxPendingBlocks = maxPendingBlocks
        var committed = CommittedIDFilter()
        try store.forEachIDPrefix { committed.insert($0) }
        state = Mutex(State(committed: committed, indexedHeight: try store.indexedHeight()))
        // A batch is seconds of blocks written in one go: at full load a burst of 100-200 ms of
        // CPU, at the same moment on every node of a local cluster (they execute the same blocks).
        // At normal priority that burst competes with votes and proposals; at nice 10 the
        // consensus threads go first and the batch takes the CPU they leave (half-rate p99 moved
        // in that direction, within the machine's noise: docs/benchmarks.md). `queue.sync` runs the batch on this thread.
        timer = LowPriorityTimer(name: "ballast.commit-index")
        timer.start { [weak self] in
            guard let self else { return }
            queue.sync { writePending() }
        }
    }

    /// The height through which every block is in the store.
    public var indexedHeight: UInt64 { state.withLock { $0.indexedHeight } }

    /// The last executed height this index knows (stored or pending).
    public var height: UInt64 { state.withLock { $0.pending.last?.height ?? $0.indexedHeight } }

    /// Why the writer stopped, if it did.
    public var failure: StorageError? { state.withLock { $0.failure } }

    /// Adds the next executed block; the writer stores it within `delayMs`.
    public func append(_ block: IndexedBlock) {
        let (schedule, full) = state.withLock { s -> (Bool, Bool) in
            s.pending.append(block)
            for tx in block.transactions {
                s.byID[tx.id] = tx
                s.committed.insert(tx.id)
            }
            let schedule = !s.flushScheduled
            s.flushScheduled = true
            return (schedule, s.pending.count >= maxPendingBlocks)
        }
        if full {
            queue.sync { writePending() }
        } else if schedule {
            timer.schedule(afterMilliseconds: delayMs)
        }
    }

    /// Stores every pending block now and returns when they are stored (at shutdown, in tests).
    public func flush() throws(StorageError) {
        queue.sync { writePending() }
        if let failure { throw failure }
    }

    /// Writes what is pending in one batch (on `queue`).
    private func writePending() {
        let batch = state.withLock { s -> [IndexedBlock] in
            s.flushScheduled = false
            return s.failure == nil ? s.pending : []
        }
        guard let last = batch.last else { return }
        do {
            try blocks?.syncCommittedBlocks()
            try store.write(batch)
            state.withLock { s in
                s.pending.removeFirst(batch.count)
                for block in batch { for tx in block.transactions { s.byID[tx.id] = nil } }
                s.indexedHeight = last.height
            }
        } catch {
            state.withLock { $0.failure = error }
        }
    }

    // MARK: Reads

    /// Where each of `ids` was committed, with its receipt (nil for one never committed), in the
    /// order of `ids`. The store is asked only about ids neither pending nor ruled out by the filter.
    public func transactions(ids: [Hash256]) throws(StorageError) -> [StoredTransaction?] {
        var missing: [Int] = []
        var found = state.withLock { s in
            ids.indices.map { i -> StoredTransaction? in
                if let row = s.byID[ids[i]] { return row }
                if s.committed.mayContain(ids[i]) { missing.append(i) }
                return nil
            }
        }
        if missing.isEmpty { return found }
        let stored = try store.transactions(ids: missing.map { ids[$0] })
        for (i, row) in zip(missing, stored) { found[i] = row }
        return found
    }

    /// The transactions the block at `height` executed, in block order, with their receipts (empty
    /// for a block that executed none, or one not executed yet).
    public func transactions(atHeight height: UInt64) throws(StorageError) -> [StoredTransaction] {
        let pending = state.withLock { s -> [StoredTransaction]? in
            guard let first = s.pending.first?.height, height >= first, height - first < UInt64(s.pending.count) else { return nil }
            return s.pending[Int(height - first)].transactions
        }
        if let pending { return pending }
        return try store.transactions(atHeight: height)
    }

    /// The height at which each of `ids` was committed (nil for one never committed).
    public func committedHeights(of ids: [Hash256]) throws(StorageError) -> [UInt64?] {
        try transactions(ids: ids).map { $0?.height }
    }

    /// An account's history, newest first: entries strictly before (`height`, `sequence`) when a
    /// cursor is given, at most `limit`.
    public func history(of address: Address, before cursor: (height: UInt64, sequence: Int)? = nil, limit: Int) throws(StorageError) -> [HistoryEntry] {
        func isBefore(_ e: HistoryEntry, _ c: (height: UInt64, sequence: Int)) -> Bool {
            e.height < c.height || (e.height == c.height && e.sequence < c.sequence)
        }
        // The pending blocks' entries, and the lowest pending height: the store is asked only below
        // it, so a block a writer stores meanwhile is not counted twice.
        let (recent, lowestPending) = state.withLock { s -> ([HistoryEntry], UInt64?) in
            var out: [HistoryEntry] = []
            for block in s.pending.reversed() where out.count < limit {
                for entry in block.history.reversed() where entry.address == address && out.count < limit {
                    if let cursor, !isBefore(entry, cursor) { continue }
                    out.append(entry)
                }
            }
            return (out, s.pending.first?.height)
        }
        guard recent.count < limit else { return recent }
        var storeCursor = cursor
        if let lowestPending, cursor.map({ $0.height >= lowestPending }) ?? true {
            storeCursor = (lowestPending, 0)
        }
        return recent + (try store.history(of: address, before: storeCursor, limit: limit - recent.count))
    }
}

/// A thread that runs an action once each time it is scheduled, after a delay, at nice 10 (Linux
/// nice values are per thread). Scheduling again before the action ran moves the deadline. The
/// thread ends when the timer is released.
final class LowPriorityTimer: Sendable {
    private final class Shared: Sendable {
        let wake = DispatchSemaphore(value: 0)
        let due = Mutex<ContinuousClock.Instant?>(nil)
        let stopped = Atomic<Bool>(false)
    }
    private let shared = Shared()
    private let name: String

    init(name: String) { self.name = name }

    deinit {
        shared.stopped.store(true, ordering: .relaxed)
        shared.wake.signal()
    }

    /// Starts the thread; `action` runs on it.
    func start(_ action: @escaping @Sendable () -> Void) {
        let shared = self.shared
        let thread = Thread {
            #if canImport(Glibc)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            while !shared.stopped.load(ordering: .relaxed) {
                guard let due = shared.due.withLock({ $0 }) else {
                    shared.wake.wait()
                    continue
                }
                let left = due - .now
                if left > .zero {
                    let (seconds, attoseconds) = left.components
                    _ = shared.wake.wait(timeout: .now() + .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)))
                    continue
                }
                shared.due.withLock { $0 = nil }
                action()
            }
        }
        thread.name = name
        thread.start()
    }

    /// Runs the action `ms` milliseconds from now.
    func schedule(afterMilliseconds ms: Int) {
        shared.due.withLock { $0 = .now + .milliseconds(ms) }
        shared.wake.signal()
    }
}

import BallastCrypto
import Ledger
import Storage
import Synchronization

/// Encodes and stores ledger snapshots on a thread of its own, at nice 10, instead of on the
/// consensus actor.
///
/// Why: a snapshot of a cluster's state after a few minutes of load is about 5 MiB; encoding,
/// hashing and syncing it took the actor about 100 ms, at the same height (so the same moment) on
/// every node, and every round waited for it. The writer is handed a copy of the ledger: a value
/// whose arrays it shares with the actor's until the actor next changes them (each is then copied
/// once, a memory copy, far cheaper than the encoding).
///
/// A snapshot only shortens a restart (the blocks after the newest one are executed again), so
/// when a newer snapshot is handed over before an older one was written, only the newer is
/// written. A failed write is kept in `failure`; the node halts on it, as it did when the actor
/// wrote snapshots itself.
final class SnapshotWriter: Sendable {
    private struct Job: Sendable {
        var height: UInt64
        var stateRoot: Hash256
        var ledger: Ledger
    }

    private struct State {
        var next: Job?
        var failure: StorageError?
        var written: UInt64 = 0
    }

    private let store: NodeStore
    private let crashPoint: CrashPoint?
    private let state = Mutex(State())
    private let thread: LowPriorityTimer

    init(store: NodeStore, crashPoint: CrashPoint?) {
        self.store = store
        self.crashPoint = crashPoint
        thread = LowPriorityTimer(name: "ballast.snapshot")
        thread.start { [weak self] in self?.writeNext() }
    }

    /// Why the last write failed, if it did.
    var failure: StorageError? { state.withLock { $0.failure } }

    /// The height of the newest snapshot written (0 for none yet).
    var writtenHeight: UInt64 { state.withLock { $0.written } }

    /// Writes a snapshot of `ledger`, executed through `height` with root `stateRoot`, soon.
    func save(height: UInt64, stateRoot: Hash256, ledger: Ledger) {
        state.withLock { $0.next = Job(height: height, stateRoot: stateRoot, ledger: ledger) }
        thread.schedule(afterMilliseconds: 0)
    }

    private func writeNext() {
        guard let job = state.withLock({ s -> Job? in
            defer { s.next = nil }
            return s.failure == nil ? s.next : nil
        }) else { return }
        do {
            try store.saveSnapshot(StoredSnapshot(height: job.height, stateRoot: job.stateRoot, bytes: job.ledger.snapshot()))
            state.withLock { $0.written = job.height }
            if crashPoint == .afterSnapshot(height: job.height) { crashPoint?.crash() }
        } catch {
            state.withLock { $0.failure = error }
        }
    }
}

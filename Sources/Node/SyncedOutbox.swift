import BallastCrypto
import Dispatch
import Synchronization

/// The runtime's peer transport: messages to other validators, held while a safety-state write
/// made before them is being synced to disk.
///
/// Consensus needs its safety state (last voted round, highest certificate) durable before any
/// message that depends on it leaves the process. Syncing on the consensus actor held it for the
/// whole `fdatasync` (1-2 ms on a quiet disk, over 10 ms on a busy one) every round. Instead the
/// runtime writes the state unsynced, tells the outbox (`wrote`), and goes on (executing the
/// committed block, typically); a writer thread syncs the store's log and then releases, in
/// order, every message sent since. Nothing sent after a safety write leaves before that write is
/// on disk, and messages leave in the order they were sent. If a sync fails, everything sent after
/// it stays held and `failure` says why (the runtime halts on it).
final class SyncedOutbox: PeerTransport, Sendable {
    private enum Outgoing {
        case send([UInt8], PublicKey)
        case broadcast([UInt8])
    }

    private struct State {
        /// Safety writes made so far, and how many of them are known synced.
        var written: UInt64 = 0
        var synced: UInt64 = 0
        var syncing = false
        /// Messages waiting for the sync of the write they followed (`generation`), oldest first.
        var held: [(generation: UInt64, message: Outgoing)] = []
        var failure: String?
    }

    private let transport: any PeerTransport
    private let sync: @Sendable () throws -> Void
    private let queue = DispatchQueue(label: "ballast.safety-sync")
    private let state = Mutex(State())

    /// `sync` makes every write made so far durable.
    init(_ transport: any PeerTransport, sync: @escaping @Sendable () throws -> Void) {
        self.transport = transport
        self.sync = sync
    }

    func send(_ bytes: [UInt8], to peer: PublicKey) { enqueue(.send(bytes, peer)) }
    func broadcast(_ bytes: [UInt8]) { enqueue(.broadcast(bytes)) }
    func connectedPeers() -> [PublicKey] { transport.connectedPeers() }

    /// Why a sync failed, if one did.
    var failure: String? { state.withLock { $0.failure } }

    /// Messages held for a sync.
    var heldCount: Int { state.withLock { $0.held.count } }

    /// A safety write was made, not synced yet: what is sent from now on waits for its sync.
    func wrote() {
        let start = state.withLock { s -> Bool in
            s.written += 1
            guard !s.syncing, s.failure == nil else { return false }
            s.syncing = true
            return true
        }
        if start { queue.async { [self] in syncUntilCaughtUp() } }
    }

    private func enqueue(_ message: Outgoing) {
        // Delivered under the lock, so that a message sent directly cannot overtake held ones
        // being released (the transport only queues; it never calls back).
        state.withLock { s in
            if s.written == s.synced, s.held.isEmpty {
                deliver(message)
            } else {
                s.held.append((s.written, message))
            }
        }
    }

    private func syncUntilCaughtUp() {
        while true {
            let target = state.withLock { $0.written }
            do { try sync() } catch {
                state.withLock { s in
                    s.failure = "\(error)"
                    s.syncing = false
                }
                return
            }
            let again = state.withLock { s -> Bool in
                s.synced = target
                var released = 0
                while released < s.held.count, s.held[released].generation <= target {
                    deliver(s.held[released].message)
                    released += 1
                }
                s.held.removeFirst(released)
                let again = s.written > s.synced
                if !again { s.syncing = false }
                return again
            }
            if !again { return }
        }
    }

    private func deliver(_ message: Outgoing) {
        switch message {
        case .send(let bytes, let peer): transport.send(bytes, to: peer)
        case .broadcast(let bytes): transport.broadcast(bytes)
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
import Codec
import BallastCrypto
import Dispatch
import Ledger
import Synchronization

/// Why a transaction was not admitted. Each case has a stable code for the API.
public enum AdmissionError: Error, Equatable, Sendable, CustomStringConvertible {
    case tooLarge(size: Int, maximum: Int)
    case malformed(String)
    case wrongChain(expected: String, actual: String)
    case badSignature
    case nonceOutOfWindow(nonce: UInt64, nowMs: Int64)
    case nonceRejected(String)
    case duplicate
    case accountLimit(limit: Int)
    case full(limit: Int)

    /// A stable machine-readable code.
    public var code: String {
        switch self {
        case .tooLarge: return "tx_too_large"
        case .malformed: return "malformed_tx"
        case .wrongChain: return "wrong_chain"
        case .badSignature: return "bad_signature"
        case .nonceOutOfWindow: return "nonce_out_of_window"
        case .nonceRejected: return "nonce_rejected"
        case .duplicate: return "duplicate_tx"
        case .accountLimit: return "account_pending_limit"
        case .full: return "mempool_full"
        }
    }

    public var description: String {
        switch self {
        case .tooLarge(let size, let maximum): return "transaction is \(size) bytes; the limit is \(maximum)"
        case .malformed(let reason): return "transaction does not decode: \(reason)"
        case .wrongChain(let expected, let actual): return "transaction is for chain '\(actual)', this node runs '\(expected)'"
        case .badSignature: return "signature does not verify for the signer's key"
        case .nonceOutOfWindow(let nonce, let now):
            return "nonce \(nonce) is outside (now - 2 days, now + 1 day) with now = \(now) ms"
        case .nonceRejected(let reason): return reason
        case .duplicate: return "transaction is already pending or committed"
        case .accountLimit(let limit): return "the account already has \(limit) pending transactions"
        case .full(let limit): return "the mempool holds its maximum of \(limit) transactions; retry later"
        }
    }
}

/// Limits of a node's mempool.
public struct MempoolLimits: Sendable {
    /// Largest encoded transaction accepted.
    public var maxTransactionBytes = 16 * 1024
    /// Most pending transactions in total.
    public var maxTransactions = 100_000
    /// Most pending bytes in total.
    public var maxBytes = 64 * 1024 * 1024
    /// Most pending transactions per sending account.
    public var maxPerAccount = 256
    /// How many recently committed ids are remembered to drop late duplicates.
    public var committedMemory = 200_000

    public init() {}
}

/// A transaction admitted to the mempool: decoded, verified, with its id and size.
///
/// A class: a transaction is handed from admission to the pending table, to a proposal and to the
/// block that executes it, and a copy of a struct would retain each of its arrays every time.
public final class PendingTransaction: Sendable {
    public let transaction: SignedTransaction
    public let id: Hash256
    public let bytes: [UInt8]
    /// The signer's address, hashed once here: the mempool's per-account count reads it on every
    /// admission and removal.
    public let sender: Address

    init(transaction: SignedTransaction, id: Hash256, bytes: [UInt8]) {
        self.transaction = transaction
        self.id = id
        self.bytes = bytes
        sender = transaction.transaction.sender
    }
}

/// Pending transactions between admission and commit.
///
/// Admission runs every check that needs no ledger state except the nonce floor,
/// which the node supplies: size, decoding, chain id, signature, nonce window,
/// duplicates, per-account and total bounds. A transaction is verified at most
/// once per node however often it is seen, because duplicates are dropped by id
/// (the hash of its bytes, signature included) before verification. Batches are
/// verified on all cores in parallel. The leader takes transactions in arrival
/// order; committed ones leave, and so do ones whose nonce falls out of the window.
public final class Mempool: Sendable {
    public let chainID: String
    public let limits: MempoolLimits

    private struct State: ~Copyable {
        var pending: [Hash256: PendingTransaction] = [:]
        /// Arrival order; ids removed from `pending` are skipped lazily.
        var order: [Hash256] = []
        var orderStart = 0
        var perAccount: [Address: Int] = [:]
        var totalBytes = 0
        /// Recently committed ids, in a ring, to refuse late gossip of them.
        var committed: Set<Hash256> = []
        var committedRing: [Hash256] = []
        var committedNext = 0
        /// Counts the calls of `removeCommitted` that added ids to `committed`.
        var committedGeneration: UInt64 = 0
    }

    private let state = Mutex(State())

    public init(chainID: String, limits: MempoolLimits = MempoolLimits()) {
        self.chainID = chainID
        self.limits = limits
    }

    /// Number of pending transactions.
    public var count: Int { state.withLock { $0.pending.count } }
    /// Total encoded bytes pending.
    public var byteCount: Int { state.withLock { $0.totalBytes } }

    /// Whether `id` is pending.
    public func contains(_ id: Hash256) -> Bool { state.withLock { $0.pending[id] != nil } }

    /// The pending transaction of each of `ids` (nil where none is pending), in the order of
    /// `ids`, under one lock: a block's executor takes the decoded, verified ones from here.
    public func pending(_ ids: [Hash256]) -> [PendingTransaction?] { state.withLock { s in ids.map { s.pending[$0] } } }

    /// Admits one encoded transaction. `nowMs` is the node's clock; `nonceCheck`
    /// asks the committed ledger state whether the signer may still use the nonce
    /// (nil when it may). Returns the admitted transaction, to gossip once.
    public func admit(_ bytes: [UInt8], nowMs: Int64, nonceCheck: (Transaction) -> String? = { _ in nil }) throws(AdmissionError) -> PendingTransaction {
        let candidate = try decode(bytes)
        let generation = try state.withLock { (s) throws(AdmissionError) -> UInt64 in
            try precheck(candidate, in: s)
            return s.committedGeneration
        }
        try verify(candidate, nowMs: nowMs, nonceCheck: nonceCheck)
        try state.withLock { (s) throws(AdmissionError) in try insert(candidate, into: &s, checkedAt: generation) }
        return candidate
    }

    /// Admits a batch (for example, gossip from a peer), verifying signatures on
    /// all cores. Results are in input order.
    public func admitBatch(_ batch: [[UInt8]], nowMs: Int64, nonceCheck: @Sendable (Transaction) -> String? = { _ in nil }) -> [Result<PendingTransaction, AdmissionError>] {
        admitBatch(decoded: batch.map { bytes in Result { () throws(AdmissionError) -> PendingTransaction in try decode(bytes) } },
                   nowMs: nowMs, nonceCheck: nonceCheck)
    }

    /// `admitBatch` for a batch already through `decode` (a caller that reads the decoded
    /// transactions first, for their senders, does not decode them twice). A failed entry keeps
    /// its error.
    public func admitBatch(decoded batch: [Result<PendingTransaction, AdmissionError>], nowMs: Int64,
                           nonceCheck: @Sendable (Transaction) -> String? = { _ in nil }) -> [Result<PendingTransaction, AdmissionError>] {
        var results = [Result<PendingTransaction, AdmissionError>?](repeating: nil, count: batch.count)
        var candidates: [(index: Int, tx: PendingTransaction)] = []
        candidates.reserveCapacity(batch.count)
        // The cheap checks for the whole batch under one lock, before the signatures.
        let generation = state.withLock { s in
            for (i, decoded) in batch.enumerated() {
                do throws(AdmissionError) {
                    let c = try decoded.get()
                    try precheck(c, in: s)
                    candidates.append((i, c))
                } catch {
                    results[i] = .failure(error)
                }
            }
            return s.committedGeneration
        }
        let verdicts = VerdictBuffer(count: candidates.count)
        let toVerify = candidates.map(\.tx)
        let chunks = min(toVerify.count, max(1, System.coreCount * 4))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            var i = chunk
            while i < toVerify.count {
                do throws(AdmissionError) {
                    try verify(toVerify[i], nowMs: nowMs, nonceCheck: nonceCheck)
                    verdicts.set(i, nil)
                } catch {
                    verdicts.set(i, error)
                }
                i += chunks
            }
        }
        state.withLock { s in
            for (k, candidate) in candidates.enumerated() {
                if let error = verdicts.get(k) {
                    results[candidate.index] = .failure(error)
                    continue
                }
                do throws(AdmissionError) {
                    try insert(candidate.tx, into: &s, checkedAt: generation)
                    results[candidate.index] = .success(candidate.tx)
                } catch {
                    results[candidate.index] = .failure(error)
                }
            }
        }
        return results.map { $0 ?? .failure(.malformed("not processed")) }
    }

    /// Up to `maxCount` transactions and `maxBytes` bytes, oldest first, for a
    /// proposal. They stay pending until `removeCommitted` (a proposal may fail).
    public func reap(maxCount: Int, maxBytes: Int, excluding: Set<Hash256> = []) -> [PendingTransaction] {
        state.withLock { s in
            var out: [PendingTransaction] = []
            var bytes = 0
            var i = s.orderStart
            while i < s.order.count, out.count < maxCount {
                if let tx = s.pending[s.order[i]], !excluding.contains(tx.id) {
                    if bytes + tx.bytes.count > maxBytes { break }
                    bytes += tx.bytes.count
                    out.append(tx)
                }
                i += 1
            }
            return out
        }
    }

    /// Removes transactions that were committed and remembers their ids, so late
    /// copies are refused as duplicates.
    public func removeCommitted(_ ids: [Hash256]) {
        state.withLock { s in
            if !ids.isEmpty { s.committedGeneration &+= 1 }
            for id in ids {
                Mempool.remove(id, from: &s)
                guard !s.committed.contains(id) else { continue }
                if s.committedRing.count < limits.committedMemory {
                    s.committedRing.append(id)
                } else {
                    s.committed.remove(s.committedRing[s.committedNext])
                    s.committedRing[s.committedNext] = id
                    s.committedNext = (s.committedNext + 1) % limits.committedMemory
                }
                s.committed.insert(id)
            }
            Mempool.compact(&s)
        }
    }

    /// Drops pending transactions whose nonce left the window at `nowMs`, or that
    /// `nonceCheck` now refuses (their nonce was used by a committed transaction).
    /// Returns how many left.
    @discardableResult
    public func expire(nowMs: Int64, nonceCheck: (Transaction) -> String? = { _ in nil }) -> Int {
        state.withLock { s in
            var dropped: [Hash256] = []
            for i in s.orderStart..<s.order.count {
                guard let tx = s.pending[s.order[i]] else { continue }
                if !Mempool.nonceInWindow(tx.transaction.transaction.nonce, nowMs: nowMs) || nonceCheck(tx.transaction.transaction) != nil {
                    dropped.append(tx.id)
                }
            }
            for id in dropped { Mempool.remove(id, from: &s) }
            Mempool.compact(&s)
            return dropped.count
        }
    }

    // MARK: Steps of admission

    /// The first step of admission: the size limit, the canonical decoding and the id.
    public func decode(_ bytes: [UInt8]) throws(AdmissionError) -> PendingTransaction {
        guard bytes.count <= limits.maxTransactionBytes else {
            throw .tooLarge(size: bytes.count, maximum: limits.maxTransactionBytes)
        }
        let tx: SignedTransaction
        do { tx = try SignedTransaction(canonicalBytes: bytes) } catch { throw .malformed(error.description) }
        return PendingTransaction(transaction: tx, id: Blake2b.hash256(bytes), bytes: bytes)
    }

    /// The cheap checks, run under the lock before the expensive signature check.
    private func precheck(_ tx: PendingTransaction, in s: borrowing State) throws(AdmissionError) {
        guard tx.transaction.transaction.chainID == chainID else {
            throw .wrongChain(expected: chainID, actual: tx.transaction.transaction.chainID)
        }
        try checkRoom(for: tx, in: s, committedSince: nil)
    }

    private func verify(_ tx: PendingTransaction, nowMs: Int64, nonceCheck: (Transaction) -> String?) throws(AdmissionError) {
        let nonce = tx.transaction.transaction.nonce
        guard Mempool.nonceInWindow(nonce, nowMs: nowMs) else { throw .nonceOutOfWindow(nonce: nonce, nowMs: nowMs) }
        if let reason = nonceCheck(tx.transaction.transaction) { throw .nonceRejected(reason) }
        guard tx.transaction.hasValidSignature(canonicalBytes: tx.bytes) else { throw .badSignature }
    }

    /// Inserts `tx`, prechecked when the committed ids were at `generation`.
    private func insert(_ tx: PendingTransaction, into s: inout State, checkedAt generation: UInt64) throws(AdmissionError) {
        // Checked again under this lock: another thread may have added it meanwhile, or its block
        // committed (the committed ids are looked up again only if some block did).
        try checkRoom(for: tx, in: s, committedSince: generation)
        s.pending[tx.id] = tx
        s.order.append(tx.id)
        s.perAccount[tx.sender, default: 0] += 1
        s.totalBytes += tx.bytes.count
    }

    /// Throws unless `tx` may join: not pending, not recently committed, within the limits. With
    /// `committedSince`, the committed ids are looked up only when they changed since that generation.
    private func checkRoom(for tx: PendingTransaction, in s: borrowing State, committedSince generation: UInt64?) throws(AdmissionError) {
        if s.pending[tx.id] != nil { throw .duplicate }
        if generation != s.committedGeneration, s.committed.contains(tx.id) { throw .duplicate }
        if s.pending.count >= limits.maxTransactions || s.totalBytes + tx.bytes.count > limits.maxBytes {
            throw .full(limit: limits.maxTransactions)
        }
        if s.perAccount[tx.sender, default: 0] >= limits.maxPerAccount { throw .accountLimit(limit: limits.maxPerAccount) }
    }

    private static func remove(_ id: Hash256, from s: inout State) {
        guard let tx = s.pending.removeValue(forKey: id) else { return }
        s.totalBytes -= tx.bytes.count
        let left = (s.perAccount[tx.sender] ?? 1) - 1
        s.perAccount[tx.sender] = left > 0 ? left : nil
    }

    /// Drops already-removed ids from the front of the arrival order, and rebuilds
    /// the order when more than half of it is stale.
    private static func compact(_ s: inout State) {
        while s.orderStart < s.order.count, s.pending[s.order[s.orderStart]] == nil { s.orderStart += 1 }
        let live = s.order.count - s.orderStart
        if s.orderStart > 1024 || (s.order.count > 1024 && s.pending.count * 2 < live) {
            s.order = s.order[s.orderStart...].filter { s.pending[$0] != nil }
            s.orderStart = 0
        }
    }

    /// The Hyperliquid window: (now - 2 days, now + 1 day), in milliseconds.
    static func nonceInWindow(_ nonce: UInt64, nowMs: Int64) -> Bool {
        let n = Int128(nonce), t = Int128(nowMs)
        return n > t - 2 * 86_400_000 && n < t + 86_400_000
    }
}

/// One verdict slot per candidate; each worker writes only its own slots.
private final class VerdictBuffer: @unchecked Sendable {
    private var slots: [AdmissionError?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ value: AdmissionError?) { slots.withUnsafeMutableBufferPointer { $0[i] = value } }
    func get(_ i: Int) -> AdmissionError? { slots[i] }
}

enum System {
    /// Cores available to this process.
    static let coreCount: Int = {
        #if canImport(Glibc)
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
        return 2
        #endif
    }()
}

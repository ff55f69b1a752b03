import Codec
import BallastCrypto
import Ledger
import Mempool
import TestSupport
import Testing

private let now: Int64 = 1_764_000_000_000
private let chain = "ballast-test"

private func key(_ i: UInt8) -> SigningKey {
    guard let key = try? SigningKey(seed: [UInt8](repeating: i, count: 32)) else { preconditionFailure("seed") }
    return key
}

private func tx(_ signer: SigningKey, nonce: UInt64, chainID: String = chain, amount: Int64 = 1) -> [UInt8] {
    Transaction(chainID: chainID, signer: signer.publicKey, nonce: nonce, action: .supply(asset: 0, amount: amount))
        .signed(with: signer).canonicalBytes
}

@Suite struct MempoolTests {
    @Test func admitsValidTransactionsAndReapsInArrivalOrder() throws {
        let pool = Mempool(chainID: chain)
        let a = key(1), b = key(2)
        let t1 = try pool.admit(tx(a, nonce: UInt64(now)), nowMs: now)
        let t2 = try pool.admit(tx(b, nonce: UInt64(now)), nowMs: now)
        let t3 = try pool.admit(tx(a, nonce: UInt64(now) + 1), nowMs: now)
        #expect(pool.count == 3)
        #expect(pool.reap(maxCount: 10, maxBytes: 1 << 20).map(\.id) == [t1.id, t2.id, t3.id])
        #expect(pool.reap(maxCount: 2, maxBytes: 1 << 20).map(\.id) == [t1.id, t2.id])
        #expect(pool.reap(maxCount: 10, maxBytes: t1.bytes.count + t2.bytes.count).count == 2)
        #expect(pool.reap(maxCount: 10, maxBytes: 1 << 20, excluding: [t2.id]).map(\.id) == [t1.id, t3.id])
        pool.removeCommitted([t2.id])
        #expect(pool.reap(maxCount: 10, maxBytes: 1 << 20).map(\.id) == [t1.id, t3.id])
        #expect(pool.byteCount == t1.bytes.count + t3.bytes.count)
    }

    @Test func refusesWithSpecificErrors() throws {
        let pool = Mempool(chainID: chain)
        let a = key(1)
        let good = tx(a, nonce: UInt64(now))
        _ = try pool.admit(good, nowMs: now)
        #expect(throws: AdmissionError.duplicate) { try pool.admit(good, nowMs: now) }
        #expect(throws: AdmissionError.wrongChain(expected: chain, actual: "other")) {
            try pool.admit(tx(a, nonce: UInt64(now) + 1, chainID: "other"), nowMs: now)
        }
        var flipped = tx(a, nonce: UInt64(now) + 2)
        flipped[flipped.count - 1] ^= 1
        #expect(throws: AdmissionError.badSignature) { try pool.admit(flipped, nowMs: now) }
        #expect(throws: AdmissionError.self) { try pool.admit([1, 2, 3], nowMs: now) }
        let late = UInt64(now - 2 * 86_400_000)
        #expect(throws: AdmissionError.nonceOutOfWindow(nonce: late, nowMs: now)) { try pool.admit(tx(a, nonce: late), nowMs: now) }
        let early = UInt64(now + 86_400_000)
        #expect(throws: AdmissionError.nonceOutOfWindow(nonce: early, nowMs: now)) { try pool.admit(tx(a, nonce: early), nowMs: now) }
        #expect(throws: AdmissionError.nonceRejected("nonce reused")) {
            try pool.admit(tx(a, nonce: UInt64(now) + 3), nowMs: now, nonceCheck: { _ in "nonce reused" })
        }
        var limits = MempoolLimits()
        limits.maxTransactionBytes = 100
        #expect(throws: AdmissionError.tooLarge(size: good.count, maximum: 100)) {
            try Mempool(chainID: chain, limits: limits).admit(good, nowMs: now)
        }
        #expect(pool.count == 1)
    }

    @Test func boundsPerAccountAndInTotal() throws {
        var limits = MempoolLimits()
        limits.maxPerAccount = 2
        limits.maxTransactions = 3
        let pool = Mempool(chainID: chain, limits: limits)
        let a = key(1), b = key(2)
        _ = try pool.admit(tx(a, nonce: UInt64(now)), nowMs: now)
        _ = try pool.admit(tx(a, nonce: UInt64(now) + 1), nowMs: now)
        #expect(throws: AdmissionError.accountLimit(limit: 2)) { try pool.admit(tx(a, nonce: UInt64(now) + 2), nowMs: now) }
        _ = try pool.admit(tx(b, nonce: UInt64(now)), nowMs: now)
        #expect(throws: AdmissionError.full(limit: 3)) { try pool.admit(tx(key(3), nonce: UInt64(now)), nowMs: now) }
    }

    @Test func committedTransactionsAreRefusedLater() throws {
        let pool = Mempool(chainID: chain)
        let bytes = tx(key(1), nonce: UInt64(now))
        let t = try pool.admit(bytes, nowMs: now)
        pool.removeCommitted([t.id])
        #expect(pool.count == 0)
        #expect(throws: AdmissionError.duplicate) { try pool.admit(bytes, nowMs: now) }
    }

    /// A block that commits a transaction while its signature is checked (after the cheap checks,
    /// before the insert) keeps it out: the insert looks at the committed ids again when a block
    /// committed meanwhile. Another transaction of the same batch still goes in.
    @Test func aTransactionCommittedDuringItsAdmissionIsRefused() throws {
        let pool = Mempool(chainID: chain)
        let committed = tx(key(1), nonce: UInt64(now)), other = tx(key(2), nonce: UInt64(now))
        let id = Blake2b.hash256(committed)
        // The nonce check runs between the cheap checks and the insert: the block commits there.
        let results = pool.admitBatch([committed, other], nowMs: now) { _ in
            pool.removeCommitted([id])
            return nil
        }
        guard case .failure(.duplicate) = results[0], case .success(let admitted) = results[1] else {
            Issue.record("expected the committed one refused as a duplicate and the other admitted: \(results)")
            return
        }
        #expect(pool.count == 1 && pool.contains(admitted.id) && !pool.contains(id))
    }

    @Test func expiryDropsOutOfWindowAndUsedNonces() throws {
        let pool = Mempool(chainID: chain)
        let old = try pool.admit(tx(key(1), nonce: UInt64(now - 86_400_000)), nowMs: now)
        let fresh = try pool.admit(tx(key(2), nonce: UInt64(now)), nowMs: now)
        let used = try pool.admit(tx(key(3), nonce: UInt64(now)), nowMs: now)
        let dropped = pool.expire(nowMs: now + 86_400_000 + 1) { $0.signer == key(3).publicKey ? "used" : nil }
        #expect(dropped == 2)
        #expect(!pool.contains(old.id) && pool.contains(fresh.id) && !pool.contains(used.id))
    }

    /// A batch is verified in parallel; the results line up with the inputs, and
    /// duplicates within the batch are admitted once.
    @Test func batchAdmissionInParallel() throws {
        let pool = Mempool(chainID: chain)
        var g = SplitMix64(seed: 5)
        var batch: [[UInt8]] = []
        var expectedGood = 0
        for i in 0..<400 {
            var bytes = tx(key(UInt8(1 + i % 50)), nonce: UInt64(now) + UInt64(i), amount: Int64(i + 1))
            if g.next() % 4 == 0 { bytes[bytes.count - 10] ^= 0x40 } else { expectedGood += 1 }
            batch.append(bytes)
        }
        batch.append(batch[0])
        let results = pool.admitBatch(batch, nowMs: now)
        #expect(results.count == batch.count)
        var good = 0
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let p): good += 1; #expect(p.bytes == batch[i])
            case .failure(let e): #expect(e == .badSignature || (i == batch.count - 1 && e == .duplicate))
            }
        }
        #expect(good == expectedGood)
        #expect(pool.count == expectedGood)
    }
}

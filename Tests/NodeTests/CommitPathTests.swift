import BallastCrypto
import Codec
import Foundation
import Ledger
import Mempool
@testable import Node
import Storage
import Testing

/// The commit path's pieces on their own: the stored receipt form and the choice of a payload's
/// executable transactions (the batched "committed at an earlier height" check).
@Suite struct CommitPathTests {
    private static let id = Blake2b.hash256([7, 7, 7])

    @Test func aStoredReceiptDecodesToTheRecordItWasMadeFrom() throws {
        let records = [
            ReceiptRecord(txId: "0x" + Self.id.hex, height: 12, index: 3, ok: false, code: "insufficient_margin",
                          message: "needs 5 more", orders: [], notice: "the chain refuses new risk"),
            ReceiptRecord(txId: "0x" + Self.id.hex, height: 12, index: 3, ok: true, code: nil, message: nil,
                          orders: [.init(orderId: 41, filled: 1_500, resting: -2, code: nil, message: nil),
                                   .init(orderId: nil, filled: 0, resting: 0, code: "bad_tick", message: "price ünder tick")],
                          notice: nil),
        ]
        for record in records {
            let row = StoredTransaction(id: Self.id, height: 12, index: 3, receipt: StoredReceipt(record).canonicalBytes)
            #expect(try ReceiptRecord(stored: row) == record)
        }
        // The API's JSON is made from the record, so a decoded record serves the same bytes.
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let row = StoredTransaction(id: Self.id, height: 12, index: 3, receipt: StoredReceipt(records[1]).canonicalBytes)
        #expect(try encoder.encode(ReceiptRecord(stored: row)) == encoder.encode(records[1]))
    }

    @Test func aStoredReceiptHasItsDocumentedLayout() throws {
        let filled: Int64 = 2_000_000, resting: Int64 = -1
        let record = ReceiptRecord(txId: "0x" + Self.id.hex, height: 1, index: 0, ok: true, code: nil, message: nil,
                                   orders: [.init(orderId: 258, filled: filled, resting: resting, code: nil, message: nil)], notice: nil)
        let bytes = StoredReceipt(record).canonicalBytes
        let expected: [UInt8] = [1, 0x01, 1, 0x01, 2, 1, 0, 0, 0, 0, 0, 0]
            + withUnsafeBytes(of: filled.littleEndian, Array.init) + withUnsafeBytes(of: resting.littleEndian, Array.init)
        #expect(bytes == expected)
        let failed = StoredReceipt(ok: false, code: "x", message: nil, orders: [], notice: "n")
        #expect(failed.canonicalBytes == [1, 0x0a, 1, UInt8(ascii: "x"), 1, UInt8(ascii: "n"), 0])
    }

    @Test func aDamagedStoredReceiptIsRefused() {
        let good = StoredReceipt(ok: true, code: nil, message: nil, orders: [], notice: nil).canonicalBytes
        #expect(good == [1, 1, 0])
        #expect(throws: CodecError.unsupportedVersion(type: "stored receipt", version: 2)) { try StoredReceipt(canonicalBytes: [2, 1, 0]) }
        #expect(throws: CodecError.invalidValue(field: "receipt flags", reason: "unknown flag bits in 17")) {
            try StoredReceipt(canonicalBytes: [1, 0x11, 0])
        }
        #expect(throws: CodecError.invalidValue(field: "order flags", reason: "unknown flag bits in 8")) {
            try StoredReceipt(canonicalBytes: [1, 1, 1, 8])
        }
        #expect(throws: CodecError.trailingBytes(count: 1)) { try StoredReceipt(canonicalBytes: good + [0]) }
        #expect(throws: CodecError.unexpectedEnd(needed: 1, remaining: 0)) { try StoredReceipt(canonicalBytes: [1, 1]) }
        // JSON, as stores before format 3 held, is not a stored receipt.
        #expect(throws: CodecError.self) { try StoredReceipt(canonicalBytes: Array(#"{"ok":true}"#.utf8)) }
    }

    /// A payload with every kind of entry the executor must skip, checked against a store in
    /// which one of them committed at an earlier height: one read answers for all of them.
    @Test func thePayloadsExecutableTransactionsSkipWhatCommittedEarlier() throws {
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "genesis/testnet.json")
        let faucet = Testnet.faucet
        let base = UInt64(Date().timeIntervalSince1970 * 1000)
        func transfer(_ i: Int, chain: String? = nil) -> SignedTransaction {
            Transaction(chainID: chain ?? genesis.chainID, signer: faucet.publicKey, nonce: base + UInt64(i),
                        action: .transfer(to: Testnet.key("r\(i)").address, asset: 0, amount: 1_000)).signed(with: faucet)
        }
        let earlier = transfer(0), fresh = transfer(1), later = transfer(2)
        let forged = SignedTransaction(transaction: transfer(3).transaction, signature: transfer(4).signature)
        let otherChain = transfer(5, chain: "another-chain")
        let payload: [[UInt8]] = [earlier.canonicalBytes, fresh.canonicalBytes, [1, 2, 3], fresh.canonicalBytes,
                                  otherChain.canonicalBytes, forged.canonicalBytes, later.canonicalBytes]
        let ids = payload.map { Blake2b.hash256($0) }

        // The earlier transaction is stored in the index file; the index reads through it.
        let store = try CommitIndex(store: IndexStore(directory: NSTemporaryDirectory() + "ballast-commit-\(UUID().uuidString)"))
        store.append(IndexedBlock(height: 1, transactions: [StoredTransaction(id: earlier.id, height: 1, index: 0, receipt: [1, 1, 0])], history: []))
        try store.flush()
        #expect(try store.store.committedHeights(of: ids) == [1, nil, nil, nil, nil, nil, nil])

        // At height 2 the transaction committed at height 1 is skipped, with the duplicate, the
        // undecodable, the other chain's and the forged entries.
        let atTwo = try ValidatorRuntime.validTransactions(payload, ids: ids, height: 2, chainID: genesis.chainID, index: store, mempool: nil)
        #expect(atTwo.map(\.id) == [fresh.id, later.id])
        #expect(atTwo.map(\.transaction) == [fresh, later])
        // Replaying height 1 itself, its own transaction is not "earlier".
        let atOne = try ValidatorRuntime.validTransactions(payload, ids: ids, height: 1, chainID: genesis.chainID, index: store, mempool: nil)
        #expect(atOne.map(\.id) == [earlier.id, fresh.id, later.id])

        // Taken from the mempool (already decoded and verified) the answer is the same.
        let mempool = Mempool(chainID: genesis.chainID)
        for tx in [earlier, fresh] { _ = try mempool.admit(tx.canonicalBytes, nowMs: Int64(base)) }
        #expect(mempool.pending(ids).map { $0?.id } == [earlier.id, fresh.id, nil, fresh.id, nil, nil, nil])
        let pooled = try ValidatorRuntime.validTransactions(payload, ids: ids, height: 2, chainID: genesis.chainID, index: store, mempool: mempool)
        #expect(pooled.map(\.transaction) == [fresh, later])

        // The replay's form, with its own record of what committed.
        let replayed = ValidatorRuntime.validTransactions(payload, ids: ids, chainID: genesis.chainID, mempool: nil,
                                                          committedEarlier: ids.map { $0 == later.id })
        #expect(replayed.map(\.id) == [earlier.id, fresh.id])
    }
}

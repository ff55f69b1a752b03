import BallastCrypto
import Foundation
import Ledger
@testable import Node
import Storage
import TestSupport
import Testing

/// Snapshots are written off the consensus actor from a copy of the ledger: what is stored is the
/// state handed over, whatever the actor executes meanwhile, and a failed write is reported.
@Suite struct SnapshotWriterTests {
    private func waitFor(_ condition: () -> Bool) async throws {
        for _ in 0..<500 where !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test func theStateHandedOverIsWhatIsStored() async throws {
        let store = try NodeStore(directory: NSTemporaryDirectory() + "ballast-snapshots-\(UUID().uuidString)")
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "genesis/testnet.json")
        var ledger = try Ledger(genesis: genesis)
        let faucet = Testnet.faucet
        let transfer = Transaction(chainID: genesis.chainID, signer: faucet.publicKey, nonce: 1_700_000_000_000,
                                   action: .transfer(to: Testnet.key("snapshot-recipient").address, asset: 0, amount: 5_000)).signed(with: faucet)
        let handedOver = ledger.apply(block: BlockInput(timeMs: 1_700_000_000_000, transactions: [transfer])).stateRoot

        let writer = SnapshotWriter(store: store, crashPoint: nil)
        writer.save(height: 7, stateRoot: handedOver, ledger: ledger)
        // The actor goes on changing its copy at once.
        let next = ledger.apply(block: BlockInput(timeMs: 1_700_000_001_000, transactions: [])).stateRoot
        try #require(next != handedOver)

        try await waitFor { writer.writtenHeight == 7 }
        #expect(writer.writtenHeight == 7 && writer.failure == nil)
        let stored = try #require(try store.latestSnapshot())
        #expect(stored.height == 7 && stored.stateRoot == handedOver)
        #expect(try Ledger(snapshot: stored.bytes).stateRoot == handedOver)
    }

    @Test func aFailedWriteIsReported() async throws {
        let store = try NodeStore(directory: NSTemporaryDirectory() + "ballast-snapshots-\(UUID().uuidString)")
        // A file where the snapshot directory should be: the write fails.
        try FileManager.default.removeItem(atPath: store.snapshotDirectory)
        try Data([1]).write(to: URL(fileURLWithPath: store.snapshotDirectory))
        let genesis = try NodeHome.parseGenesis(Testnet.genesisBytes, source: "genesis/testnet.json")
        let ledger = try Ledger(genesis: genesis)
        let writer = SnapshotWriter(store: store, crashPoint: nil)
        writer.save(height: 3, stateRoot: ledger.stateRoot, ledger: ledger)
        try await waitFor { writer.failure != nil }
        #expect(writer.failure != nil && writer.writtenHeight == 0)
        #expect(try store.latestSnapshot() == nil)
    }
}

import BallastCrypto
import Dispatch
import Foundation
@testable import Node
import Synchronization
import Testing

@Suite struct SyncedOutboxTests {
    final class Recorder: PeerTransport, Sendable {
        let sent = Mutex<[[UInt8]]>([])
        func send(_ bytes: [UInt8], to peer: PublicKey) { sent.withLock { $0.append(bytes) } }
        func broadcast(_ bytes: [UInt8]) { sent.withLock { $0.append(bytes) } }
        func connectedPeers() -> [PublicKey] { [] }
    }

    struct SyncFailed: Error {}

    let peer: PublicKey = {
        guard let key = try? SigningKey(seed: Blake2b.hash256([7]).bytes) else { preconditionFailure("seed") }
        return key.publicKey
    }()

    /// Waits (up to 5 s) until `condition` holds.
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<500 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    @Test func messagesAfterAWriteWaitForItsSyncAndLeaveInOrder() async throws {
        let recorder = Recorder()
        let gate = DispatchSemaphore(value: 0)
        let syncs = Mutex(0)
        let outbox = SyncedOutbox(recorder) {
            gate.wait()
            syncs.withLock { $0 += 1 }
        }
        outbox.send([1], to: peer)                       // nothing written: leaves at once
        #expect(recorder.sent.withLock { $0 } == [[1]])
        outbox.wrote()
        outbox.send([2], to: peer)
        outbox.broadcast([3])
        outbox.wrote()                                   // a second write while the first syncs
        outbox.send([4], to: peer)
        #expect(recorder.sent.withLock { $0 } == [[1]])
        #expect(outbox.heldCount == 3)
        gate.signal()                                    // the first sync: [2] and [3] (maybe [4], if it covered the second write)
        gate.signal()
        #expect(await eventually { recorder.sent.withLock { $0 } == [[1], [2], [3], [4]] })
        #expect(outbox.heldCount == 0)
        #expect((1...2).contains(syncs.withLock { $0 }))
        outbox.send([5], to: peer)                       // caught up: direct again
        #expect(recorder.sent.withLock { $0 }.last == [5])
        #expect(outbox.failure == nil)
    }

    @Test func aFailedSyncHoldsEverythingAfterItAndSaysWhy() async throws {
        let recorder = Recorder()
        let outbox = SyncedOutbox(recorder) { throw SyncFailed() }
        outbox.wrote()
        outbox.send([9], to: peer)
        #expect(await eventually { outbox.failure != nil })
        outbox.send([10], to: peer)
        #expect(recorder.sent.withLock { $0 }.isEmpty)
        #expect(outbox.heldCount == 2)
    }
}

import Testing

@testable import PeerNetwork

@Suite struct OutboundQueueTests {
    @Test func dropsOldestWhenFullByCount() {
        var queue = OutboundQueue(capacity: 3, byteLimit: 1_000)
        for i: UInt8 in 0..<3 { #expect(queue.append([i]) == 0) }
        #expect(queue.append([3]) == 1)
        #expect(queue.append([4]) == 1)
        #expect(queue.count == 3)
        #expect(queue.droppedCount == 2)
        #expect(queue.byteCount == 3)
        #expect([queue.popFirst(), queue.popFirst(), queue.popFirst(), queue.popFirst()] == [[2], [3], [4], nil])
        #expect(queue.byteCount == 0)
    }

    @Test func dropsOldestUntilTheBytesFit() {
        var queue = OutboundQueue(capacity: 100, byteLimit: 10)
        queue.append([UInt8](repeating: 1, count: 4))
        queue.append([UInt8](repeating: 2, count: 4))
        queue.append([UInt8](repeating: 3, count: 2))
        #expect(queue.byteCount == 10)
        // 7 bytes need 7 free: both 4-byte messages go, the 2-byte one stays.
        #expect(queue.append([UInt8](repeating: 4, count: 7)) == 2)
        #expect(queue.byteCount == 9)
        #expect(queue.popFirst() == [3, 3])
        #expect(queue.popFirst() == [UInt8](repeating: 4, count: 7))
    }

    @Test func aMessageAboveTheByteLimitIsDroppedAlone() {
        var queue = OutboundQueue(capacity: 10, byteLimit: 4)
        queue.append([1, 2])
        #expect(queue.append([UInt8](repeating: 0, count: 5)) == 1)
        #expect(queue.count == 1)
        #expect(queue.droppedCount == 1)
        #expect(queue.popFirst() == [1, 2])
    }
}

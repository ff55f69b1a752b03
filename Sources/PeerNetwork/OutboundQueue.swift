import NIOCore

/// A peer's bounded queue of messages waiting for its connection to become
/// writable (or to exist at all).
///
/// Policy: **drop oldest**. When a new message would exceed the message or byte
/// bound, the oldest queued messages are dropped (and counted) to make room: for
/// consensus the newest proposal, vote or timeout is worth more than a stale one,
/// and a peer that is behind catches up through block sync, not through a backlog.
public struct OutboundQueue: Sendable {
    /// The most messages held.
    public let capacity: Int
    /// The most payload bytes held.
    public let byteLimit: Int
    private var messages = CircularBuffer<[UInt8]>()
    /// Payload bytes held.
    public private(set) var byteCount = 0
    /// Messages dropped to make room, over the queue's lifetime.
    public private(set) var droppedCount: UInt64 = 0

    /// A queue bounded to `capacity` messages and `byteLimit` payload bytes (both at least 1).
    public init(capacity: Int, byteLimit: Int) {
        self.capacity = max(1, capacity)
        self.byteLimit = max(1, byteLimit)
    }

    /// Messages held.
    public var count: Int { messages.count }
    public var isEmpty: Bool { messages.isEmpty }

    /// Appends `message`, dropping the oldest messages as needed; returns how many
    /// were dropped. A message larger than `byteLimit` on its own is dropped itself
    /// (and counted) rather than emptying the queue for nothing.
    @discardableResult
    public mutating func append(_ message: [UInt8]) -> Int {
        guard message.count <= byteLimit else {
            droppedCount += 1
            return 1
        }
        var dropped = 0
        while messages.count >= capacity || byteCount + message.count > byteLimit, let oldest = messages.popFirst() {
            byteCount -= oldest.count
            dropped += 1
        }
        messages.append(message)
        byteCount += message.count
        droppedCount += UInt64(dropped)
        return dropped
    }

    /// Removes and returns the oldest message.
    public mutating func popFirst() -> [UInt8]? {
        guard let first = messages.popFirst() else { return nil }
        byteCount -= first.count
        return first
    }
}

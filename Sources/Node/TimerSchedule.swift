import Consensus

/// The consensus timers of one validator: when each running timer fires, and when the runtime's
/// one wake-up task must wake. Starting and cancelling a timer change only this table; a task
/// per timer would cost a task, a sleep and, when cancelled, a thread wake-up for every round
/// (every round starts a round timer and cancels the last one), the commonest wake-ups of a node
/// under load. A round timer is started later than the wake-up already set, so it moves nothing;
/// the wake-up moves earlier only for a timer due before it (an idle leader's), and one that
/// finds nothing due just sets the next.
struct TimerSchedule {
    /// When each running timer fires (node clock, ms).
    private(set) var deadlines: [TimerID: UInt64] = [:]
    /// When the wake-up is set for, nil when none is.
    private(set) var wakeAt: UInt64?

    /// Starts `id` (again) to fire at `deadline`. Returns the time the wake-up must be set for,
    /// or nil when the one set is early enough.
    mutating func start(_ id: TimerID, at deadline: UInt64) -> UInt64? {
        deadlines[id] = deadline
        if let wakeAt, wakeAt <= deadline { return nil }
        wakeAt = deadline
        return deadline
    }

    /// Stops `id`; the wake-up stays (it may find nothing due).
    mutating func cancel(_ id: TimerID) {
        deadlines[id] = nil
    }

    /// At a wake-up: removes and returns the timers due at `now`, earliest first (ties by kind,
    /// then round), and the time to set the next wake-up for (nil when no timer runs).
    mutating func takeDue(now: UInt64) -> (due: [TimerID], nextWake: UInt64?) {
        let due = deadlines.filter { $0.value <= now }
            .sorted { ($0.value, $0.key.kind.rawValue, $0.key.round) < ($1.value, $1.key.kind.rawValue, $1.key.round) }
            .map(\.key)
        for id in due { deadlines[id] = nil }
        wakeAt = deadlines.values.min()
        return (due, wakeAt)
    }
}

/// Requests waiting for a block to be executed (`GET /v1/blocks/{height}/receipts?wait=MS`), each
/// answered when its height is executed or its time is up. Their expiry shares one wake-up: most
/// are answered by the block they wait for long before it.
struct BlockWaiters {
    /// Most requests waiting at once; beyond it a request is answered at once, as without `wait`.
    static let maxWaiting = 10_000

    private struct Waiter {
        var expires: UInt64
        var continuation: CheckedContinuation<Void, Never>
    }

    private var byHeight: [UInt64: [Waiter]] = [:]
    /// Requests waiting.
    private(set) var count = 0
    /// When the expiry wake-up is set for, nil when none is.
    private(set) var wakeAt: UInt64?

    /// Adds a waiter for `height` until `expires` (node clock, ms). Returns the time the expiry
    /// wake-up must be set for, or nil when the one set is early enough.
    mutating func add(height: UInt64, expires: UInt64, _ continuation: CheckedContinuation<Void, Never>) -> UInt64? {
        byHeight[height, default: []].append(Waiter(expires: expires, continuation: continuation))
        count += 1
        if let wakeAt, wakeAt <= expires { return nil }
        wakeAt = expires
        return expires
    }

    /// Answers every waiter for a height at or below `height`. The expiry wake-up stays set: the
    /// next waiter (a follower asks for the next block at once) usually expires after it, and
    /// needs no new one.
    mutating func release(upTo height: UInt64) {
        guard count > 0 else { return }
        for h in byHeight.keys.filter({ $0 <= height }) {
            for waiter in byHeight.removeValue(forKey: h) ?? [] { waiter.continuation.resume() }
        }
        count = byHeight.values.reduce(0) { $0 + $1.count }
    }

    /// Answers the waiters whose time is up at `now`; returns when the next expires (nil: none waits).
    mutating func expire(now: UInt64) -> UInt64? {
        var next: UInt64?
        for h in Array(byHeight.keys) {
            var kept: [Waiter] = []
            for waiter in byHeight[h] ?? [] {
                if waiter.expires <= now {
                    waiter.continuation.resume()
                    count -= 1
                } else {
                    kept.append(waiter)
                    next = min(next ?? waiter.expires, waiter.expires)
                }
            }
            byHeight[h] = kept.isEmpty ? nil : kept
        }
        wakeAt = next
        return next
    }
}

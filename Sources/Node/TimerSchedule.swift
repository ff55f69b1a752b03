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

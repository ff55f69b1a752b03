import Consensus
@testable import Node
import Testing

@Suite struct TimerScheduleTests {
    let round5 = TimerID(kind: .round, round: 5)
    let round6 = TimerID(kind: .round, round: 6)
    let idle6 = TimerID(kind: .idle, round: 6)

    @Test func aLaterTimerLeavesTheWakeUpWhereItIs() {
        var s = TimerSchedule()
        #expect(s.start(round5, at: 1_500) == 1_500)
        // Round 6 starts as round 5's timer is cancelled: no new wake-up, the one at 1,500 finds nothing due.
        s.cancel(round5)
        #expect(s.start(round6, at: 1_520) == nil)
        #expect(s.wakeAt == 1_500)
        let (due, next) = s.takeDue(now: 1_500)
        #expect(due.isEmpty)
        #expect(next == 1_520)
        #expect(s.takeDue(now: 1_519).due.isEmpty)
        let last = s.takeDue(now: 1_521)
        #expect(last.due == [round6])
        #expect(last.nextWake == nil)
        #expect(s.deadlines.isEmpty)
    }

    @Test func anEarlierTimerMovesTheWakeUp() {
        var s = TimerSchedule()
        #expect(s.start(round6, at: 1_520) == 1_520)
        #expect(s.start(idle6, at: 520) == 520)
        #expect(s.wakeAt == 520)
        // Restarting a timer replaces its deadline.
        #expect(s.start(idle6, at: 600) == nil)
        #expect(s.takeDue(now: 520).due.isEmpty)
        #expect(s.wakeAt == 600)
    }

    @Test func dueTimersFireEarliestFirstAndTiesByKindThenRound() {
        var s = TimerSchedule()
        _ = s.start(round6, at: 100)
        _ = s.start(idle6, at: 90)
        _ = s.start(round5, at: 100)
        let later = TimerID(kind: .round, round: 9)
        _ = s.start(later, at: 5_000)
        let (due, next) = s.takeDue(now: 100)
        #expect(due == [idle6, round5, round6])
        #expect(next == 5_000)
        #expect(s.deadlines == [later: 5_000])
    }
}

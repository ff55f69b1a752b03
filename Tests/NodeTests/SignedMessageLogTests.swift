import Node
import Testing

/// The checker the process tests run over what each validator sent must catch
/// every kind of conflicting signature, and pass an honest log across a restart.
@Suite struct SignedMessageLogTests {
    @Test func anHonestLogAcrossARestartHasNoViolations() {
        let log = """
            start 100
            proposal 1 aa
            vote 1 aa
            timeout 2 1
            timeout 2 1
            start 101
            timeout 2 1
            vote 3 bb
            proposal 5 cc
            vote 5 cc
            """
        let entries = SignedMessageLog.entries(log)
        #expect(entries.count == 10)
        #expect(entries[1] == .proposal(round: 1, block: "aa"))
        #expect(entries[3] == .timeout(round: 2, highQCRound: 1))
        #expect(SignedMessageLog.violations(entries) == [])
    }

    @Test func conflictingSignaturesAreReported() {
        let log = """
            start 100
            vote 4 aa
            proposal 6 cc
            timeout 7 4
            start 101
            vote 4 bb
            vote 3 dd
            proposal 6 ee
            vote 7 ff
            vote 9
            """
        #expect(SignedMessageLog.violations(SignedMessageLog.entries(log)) == [
            "line 6: double vote in round 4: bb after aa",
            "line 7: vote in round 3 after a vote in round 4",
            "line 8: second proposal in round 6: ee after cc",
            "line 9: vote in round 7 after timing it out",
            "line 10: not a record",
        ])
    }
}

import Cluster
import Foundation
import Testing

/// The README's walkthrough (cluster/walkthrough.sh) on a fresh 4-validator cluster: keys, faucet
/// funds, a hedged spot+perp pair whose portfolio requirement is under half the standard one, a
/// borrow, and a leveraged account that the keeper liquidates once `cluster prices crash` runs.
@Suite(.serialized) struct WalkthroughTests {
    @Test func walkthroughRunsAsWritten() async throws {
        let scratch = try ScratchCluster("walkthrough")
        defer { scratch.remove() }
        let (dir, rpc) = (scratch.dir, scratch.rpcPort)
        let up = try await scratch.up()
        try #require(up.status == 0, "\(up.output)")

        let script = ClusterCommandTests.repo.appendingPathComponent("cluster/walkthrough.sh").path
        let walk = try await ClusterCommandTests.run("/bin/bash", [script, dir], environment: [
            "BALLAST": try ClusterCommandTests.binary, "BALLAST_NODE": "http://127.0.0.1:\(rpc)",
        ])
        #expect(walk.status == 0, "\(walk.output)")
        #expect(walk.output.contains("walkthrough: done"))
        #expect(walk.output.contains("carol liquidated at height"))

        let down = try await ClusterCommandTests.ballast(["cluster", "down", "--dir", dir])
        #expect(down.status == 0, "\(down.output)")
    }
}

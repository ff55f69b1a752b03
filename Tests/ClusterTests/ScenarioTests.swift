import Cluster
import Foundation
import Ledger
import Node
import Testing

/// The oracle feeders' price paths.
@Suite struct PricePathTests {
    static let start: [Int64] = [62_000_000_000, 3_000_000_000, 40_000_000]

    @Test func calmWalksAtMostOneTenthPercentPerStepAndIsAFunctionOfTimeAndSeed() {
        let path = PricePath(kind: .calm, seed: 5, startPrices: Self.start, stepMs: 1_000)
        #expect(path.prices(atMs: 0).map(\.price) == Self.start)
        #expect(path.prices(atMs: -5).map(\.price) == Self.start)
        #expect(path.prices(atMs: 0).map(\.asset) == [1, 2, 3])
        // Within a step the price holds.
        #expect(path.prices(atMs: 7_000) == path.prices(atMs: 7_999))
        var previous = path.prices(atMs: 0).map(\.price)
        var moved = 0
        for step in 1...600 {
            let now = path.prices(atMs: Int64(step) * 1_000).map(\.price)
            for (p, q) in zip(previous, now) {
                #expect(abs(q - p) <= p / 1_000, "step \(step): \(p) -> \(q)")
                if p != q { moved += 1 }
            }
            previous = now
        }
        #expect(moved > 1_500)   // 1,800 asset-steps: a walk, not a constant
        // The same seed gives the same path in any instance; another seed another path.
        let again = PricePath(kind: .calm, seed: 5, startPrices: Self.start, stepMs: 1_000)
        #expect(again.prices(atMs: 123_456) == path.prices(atMs: 123_456))
        let other = PricePath(kind: .calm, seed: 6, startPrices: Self.start, stepMs: 1_000)
        #expect(other.prices(atMs: 123_456) != path.prices(atMs: 123_456))
    }

    @Test func crashFallsThirtyPercentInAMinuteThenStaysFlat() {
        let crash = PricePath(kind: .crash, seed: 9, startPrices: Self.start, stepMs: 1_000, eventAtMs: 40_000)
        let calm = PricePath(kind: .calm, seed: 9, startPrices: Self.start, stepMs: 1_000, eventAtMs: 40_000)
        // Before the event the crash path is the calm walk.
        #expect(crash.prices(atMs: 39_999) == calm.prices(atMs: 39_999))
        let atEvent = calm.prices(atMs: 40_000).map(\.price)
        #expect(crash.prices(atMs: 40_000).map(\.price) == atEvent)
        // Linear: -15% after 30 s, -30% after 60 s, and flat from there.
        #expect(crash.prices(atMs: 70_000).map(\.price) == atEvent.map { $0 * 850_000 / 1_000_000 })
        #expect(crash.prices(atMs: 100_000).map(\.price) == atEvent.map { $0 * 700_000 / 1_000_000 })
        #expect(crash.prices(atMs: 400_000) == crash.prices(atMs: 100_000))
        // Down all the way, never up.
        var previous = atEvent
        for ms in stride(from: Int64(41_000), through: 100_000, by: 1_000) {
            let now = crash.prices(atMs: ms).map(\.price)
            #expect(zip(previous, now).allSatisfy { $1 < $0 })
            previous = now
        }
    }

    @Test func squeezeRisesFiftyPercentInTwentySeconds() {
        let squeeze = PricePath(kind: .squeeze, seed: 2, startPrices: Self.start, stepMs: 500, eventAtMs: 10_000)
        let atEvent = PricePath(kind: .calm, seed: 2, startPrices: Self.start, stepMs: 500).prices(atMs: 10_000).map(\.price)
        #expect(squeeze.prices(atMs: 20_000).map(\.price) == atEvent.map { $0 * 1_250_000 / 1_000_000 })
        #expect(squeeze.prices(atMs: 30_000).map(\.price) == atEvent.map { $0 * 1_500_000 / 1_000_000 })
        #expect(squeeze.prices(atMs: 90_000) == squeeze.prices(atMs: 30_000))
    }

    @Test func pricesStayPositiveAndStartFromTheGenesis() throws {
        let bytes = try #require(FileManager.default.contents(atPath: ClusterGenesisTests.templatePath))
        let genesis = try NodeHome.parseGenesis([UInt8](bytes), source: "template")
        let path = PricePath(kind: .crash, seed: 1, genesis: genesis, eventAtMs: 0)
        #expect(path.prices(atMs: 0).map(\.price) == genesis.assets.dropFirst().map(\.initialPrice))
        #expect(path.prices(atMs: 3_600_000).allSatisfy { $0.price >= 1 })
        let tiny = PricePath(kind: .crash, seed: 1, startPrices: [1, 2], eventAtMs: 0)
        #expect(tiny.prices(atMs: 120_000).map(\.price) == [1, 1])
    }
}

/// Faults and the state the harness keeps of them.
@Suite struct FaultStateTests {
    @Test func namesResolveToIndicesAndBadOnesAreRefused() throws {
        #expect(try Fault(op: .kill, nodes: ["validator-2", "0", "2"]).resolve(validators: 4) == [0, 2])
        #expect(throws: ClusterError.self) { try Fault(op: .kill, nodes: ["validator-4"]).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .kill, nodes: ["node1"]).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .pause).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .partition, nodes: ["0", "1", "2", "3"]).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .delay, nodes: ["0"]).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .delay, nodes: ["0"], ms: 60_001).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .loss, nodes: ["0"], percent: 101).resolve(validators: 4) }
        #expect(throws: ClusterError.self) { try Fault(op: .restartAll, nodes: ["0"]).resolve(validators: 4) }
        #expect(try Fault(op: .heal).resolve(validators: 4) == [])
    }

    @Test func partitionCutsTheSetFromTheRestAndHealClearsIt() {
        var state = FaultState(validators: 4)
        state.apply(Fault(op: .partition, nodes: ["validator-2"]), nodes: [2])
        #expect(state.links.map(\.link) == [Link(0, 2), Link(1, 2), Link(2, 3)])
        #expect(state.links.allSatisfy { $0.cut && $0.delayMs == 0 && $0.lossPercent == 0 })
        #expect(state.summary(node: 2) == "cut from 0,1,3")
        #expect(state.summary(node: 0) == "cut from 2")
        #expect(state.faultyValidators == [0, 1, 2, 3])   // every node has a cut link
        state.apply(Fault(op: .heal), nodes: [])
        #expect(state.links.isEmpty)
        #expect(state.faultyValidators.isEmpty)

        // Two against two: only the links across.
        state.apply(Fault(op: .partition, nodes: ["0", "1"]), nodes: [0, 1])
        #expect(state.links.map(\.link) == [Link(0, 2), Link(0, 3), Link(1, 2), Link(1, 3)])
    }

    @Test func delayAndLossTakeOneNodesLinksOrTheLinksAmongSeveral() {
        var state = FaultState(validators: 4)
        state.apply(Fault(op: .delay, nodes: ["0"], ms: 150), nodes: [0])
        #expect(state.links.map(\.link) == [Link(0, 1), Link(0, 2), Link(0, 3)])
        #expect(state.links.allSatisfy { $0.delayMs == 150 && !$0.cut })
        state.apply(Fault(op: .loss, nodes: ["1", "2"], percent: 20), nodes: [1, 2])
        #expect(state.links.map(\.link) == [Link(0, 1), Link(0, 2), Link(0, 3), Link(1, 2)])
        #expect(state.link(Link(1, 2)) == FaultState.LinkFault(link: Link(1, 2), lossPercent: 20))
        #expect(state.summary(node: 1) == "+150ms to 0; 20% loss to 2")
        // Healing node 0's links leaves the loss between 1 and 2.
        state.apply(Fault(op: .heal, nodes: ["0"]), nodes: [0])
        #expect(state.links == [FaultState.LinkFault(link: Link(1, 2), lossPercent: 20)])
        // 0% clears the loss.
        state.apply(Fault(op: .loss, nodes: ["1", "2"], percent: 0), nodes: [1, 2])
        #expect(state.links.isEmpty)
    }

    @Test func processFaults() {
        var state = FaultState(validators: 4)
        state.apply(Fault(op: .kill, nodes: ["1"]), nodes: [1])
        state.apply(Fault(op: .pause, nodes: ["3"]), nodes: [3])
        #expect(state.processes == [.running, .killed, .running, .paused])
        #expect(state.summary(node: 1) == "killed" && state.summary(node: 3) == "paused")
        #expect(state.faultyValidators == [1, 3])
        // Pausing a killed node leaves it killed.
        state.apply(Fault(op: .pause, nodes: ["1"]), nodes: [1])
        #expect(state.processes[1] == .killed)
        state.apply(Fault(op: .restart, nodes: ["1"]), nodes: [1])
        state.apply(Fault(op: .resume, nodes: ["3"]), nodes: [3])
        #expect(state.faultyValidators.isEmpty)
        state.apply(Fault(op: .kill, nodes: ["0", "2"]), nodes: [0, 2])
        state.apply(Fault(op: .restartAll), nodes: [])
        #expect(state.processes == Array(repeating: .running, count: 4))
    }
}

/// The manifests in cluster/ and the checks on manifests.
@Suite struct ManifestTests {
    static var clusterFolder: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("cluster").path
    }

    static func decode(_ json: String) throws -> Manifest {
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(json.utf8))
        try manifest.validate()
        return manifest
    }

    @Test func theShippedManifestsLoad() throws {
        let calm = try Manifest.load(path: Self.clusterFolder + "/calm.json")
        #expect(calm.prices.path == .calm && calm.schedule.isEmpty && calm.durationSeconds == nil)
        let crash = try Manifest.load(path: Self.clusterFolder + "/crash.json")
        #expect(crash.prices.path == .crash && crash.validators == 4)
        let squeeze = try Manifest.load(path: Self.clusterFolder + "/squeeze.json")
        #expect(squeeze.prices.path == .squeeze)
        let e2e = try Manifest.load(path: Self.clusterFolder + "/e2e.json")
        #expect(e2e.validators == 4 && e2e.load?.durationSeconds == 30)
        #expect(e2e.schedule.map(\.fault.op) == [.kill, .restart, .partition, .heal, .pause, .resume])
        // The soak: ten minutes, the crash path, every kind of fault.
        let soak = try Manifest.load(path: Self.clusterFolder + "/soak.json")
        #expect(soak.durationSeconds == 600 && soak.prices.path == .crash)
        #expect(Set(soak.schedule.map(\.fault.op)) == Set(Fault.Op.allCases))
    }

    @Test func defaultsFillWhatAManifestLeavesOut() throws {
        let manifest = try Self.decode(#"{"name": "bare"}"#)
        #expect(manifest == Manifest(name: "bare"))
        #expect(manifest.prices == Manifest.Prices(path: .calm, seed: 1, intervalMs: 1_000, eventAtSeconds: 30))
        let load = try Self.decode(#"{"name": "l", "load": {"ratePerSecond": null, "accounts": 3}}"#).load
        #expect(load == Manifest.Load(ratePerSecond: nil, durationSeconds: 60, accounts: 3))
        // A manifest written out reads back the same.
        let full = try Manifest.load(path: Self.clusterFolder + "/soak.json")
        #expect(try JSONDecoder().decode(Manifest.self, from: JSONEncoder().encode(full)) == full)
    }

    @Test func refusesManifestsTheHarnessCouldNotRun() {
        func refused(_ json: String, _ expected: String) {
            do {
                _ = try Self.decode(json)
                Issue.record("accepted: \(json)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        refused(#"{"name": "x", "schedule": [{"at": 5, "op": "kill", "nodes": ["validator-4"]}]}"#, "no validator 'validator-4'")
        refused(#"{"name": "x", "schedule": [{"at": 5, "op": "heal"}, {"at": 4, "op": "heal"}]}"#, "in time order")
        refused(#"{"name": "x", "schedule": [{"at": 5, "op": "delay", "nodes": ["0"]}]}"#, "delay needs ms")
        refused(#"{"name": "x", "durationSeconds": 10, "schedule": [{"at": 11, "op": "heal"}]}"#, "after the end")
        refused(#"{"name": "x", "prices": {"intervalMs": 10}}"#, "intervalMs")
        refused(#"{"name": "x", "load": {"mix": {"maker": 0, "taker": 0, "basis": 0, "borrower": 0, "cancel": 0, "leveraged": 0}}}"#, "not all zero")
        #expect(throws: DecodingError.self) { try Self.decode(#"{"name": "x", "schedule": [{"at": 1, "op": "explode"}]}"#) }
        #expect(throws: DecodingError.self) { try Self.decode(#"{"name": "x", "prices": {"path": "moon"}}"#) }
        #expect(throws: ClusterError.self) { try Manifest.load(path: "/nonexistent/manifest.json") }
    }
}

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Foundation
import Node

/// One look at every node of a cluster: its /v1/status, and its state root at the
/// highest height all answering nodes have, where roots must agree.
public struct ClusterSnapshot: Sendable {
    public struct Row: Sendable {
        public var node: Int
        public var name: String
        /// nil when the node did not answer.
        public var status: NodeStatus?
        /// The node's state root at `commonHeight`, when it answered.
        public var rootAtCommonHeight: String?
        /// True when that root differs from the one most nodes have.
        public var diverges: Bool
    }
    public var rows: [Row]
    /// The highest height every answering node has committed.
    public var commonHeight: UInt64?
    public var takenAt: ContinuousClock.Instant

    /// The highest committed height among the nodes.
    public var maxHeight: UInt64 { rows.compactMap { $0.status?.height }.max() ?? 0 }
    /// True when every node answered, and all have the same root at the common height.
    public var agrees: Bool { rows.allSatisfy { $0.status != nil && $0.rootAtCommonHeight != nil && !$0.diverges } }
}

/// Reads a cluster's nodes over their HTTP APIs.
public struct ClusterStatusClient: Sendable {
    let manifest: ClusterManifest
    let session: URLSession

    public init(manifest: ClusterManifest, timeout: TimeInterval = 2) {
        self.manifest = manifest
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.timeoutIntervalForResource = timeout
        session = URLSession(configuration: configuration)
    }

    private struct BlockAnswer: Decodable { var stateRoot: String }

    private func get<T: Decodable>(_ node: Int, _ path: String, as: T.Type) async -> T? {
        guard let url = URL(string: manifest.rpcURL(node) + path),
              let (data, response) = try? await session.data(from: url),
              (response as? HTTPURLResponse)?.statusCode == 200 else { return nil }
        return try? JSONDecoder().decode(T.self, from: data)
    }

    /// Asks every node at once; nodes that do not answer in time are rows without status.
    public func snapshot() async -> ClusterSnapshot {
        let count = manifest.validators
        let statuses = await withTaskGroup(of: (Int, NodeStatus?).self) { group in
            for i in 0..<count { group.addTask { (i, await get(i, "/v1/status", as: NodeStatus.self)) } }
            return await group.reduce(into: [NodeStatus?](repeating: nil, count: count)) { $0[$1.0] = $1.1 }
        }
        let common = statuses.compactMap { $0?.height }.min()
        var roots = [String?](repeating: nil, count: count)
        if let common {
            roots = await withTaskGroup(of: (Int, String?).self) { group in
                for i in 0..<count where statuses[i] != nil {
                    group.addTask {
                        // Height 0 is genesis, which has no block: every node then reports the genesis root.
                        if common == 0 || statuses[i]?.height == common { return (i, statuses[i]?.stateRoot) }
                        return (i, await get(i, "/v1/blocks/\(common)", as: BlockAnswer.self)?.stateRoot)
                    }
                }
                return await group.reduce(into: [String?](repeating: nil, count: count)) { $0[$1.0] = $1.1 }
            }
        }
        let diverges = ClusterSnapshot.divergent(roots)
        let rows = (0..<count).map { i in
            ClusterSnapshot.Row(node: i, name: statuses[i]?.moniker ?? ClusterLayout.validatorKeyName(i), status: statuses[i],
                                rootAtCommonHeight: roots[i], diverges: diverges[i])
        }
        return ClusterSnapshot(rows: rows, commonHeight: common, takenAt: .now)
    }
}

extension ClusterSnapshot {
    /// For each node's root at the common height (nil: unknown), whether it differs from
    /// the root most nodes have; on a tie the smallest root counts as the majority, so the
    /// marks are stable from one refresh to the next.
    public static func divergent(_ roots: [String?]) -> [Bool] {
        var counts: [String: Int] = [:]
        for case let root? in roots { counts[root, default: 0] += 1 }
        let majority = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first?.key
        return roots.map { $0 != nil && $0 != majority }
    }

    /// The table `cluster status` and the live view print: one line per node.
    /// `exited` names nodes whose process is known to have stopped, with its exit status;
    /// `faults`, when a harness runs, adds each node's injected faults.
    public func table(exited: [Int: Int32] = [:], faults: FaultState? = nil) -> String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        var lines = [pad("NODE", 14) + pad("HEIGHT", 9) + pad("ROUND", 9) + pad("MEMPOOL", 9) + pad("PEERS", 7) + pad("STATE ROOT", 14)
                     + (faults == nil ? "" : "FAULTS")]
        for row in rows {
            let fault = faults.flatMap { row.node < $0.validators ? $0.summary(node: row.node) : nil } ?? ""
            guard let s = row.status else {
                let why = exited[row.node].map { "process exited (status \($0))" } ?? "not answering"
                lines.append(pad(row.name, 14) + pad(why, 48) + fault)
                continue
            }
            let root = String(s.stateRoot.hasPrefix("0x") ? s.stateRoot.dropFirst(2).prefix(12) : s.stateRoot.prefix(12))
            let mark = row.diverges ? "ROOT DIFFERS at height \(commonHeight ?? 0) " : ""
            lines.append(pad(row.name, 14) + pad("\(s.height)", 9) + pad("\(s.round)", 9) + pad("\(s.mempoolSize)", 9)
                         + pad("\(s.peers.count)", 7) + pad(root, 14) + mark + fault)
        }
        return lines.map { String($0.reversed().drop(while: { $0 == " " }).reversed()) }.joined(separator: "\n")
    }
}

import Foundation
import Node

/// `ballast cluster verify`: the replicas agree block by block, and a fresh process that
/// replays one node's block log from genesis reaches the same root.
public enum ClusterVerifier {
    /// A block as the replicas are compared on.
    public struct BlockIdentity: Sendable, Equatable {
        public var hash: String
        public var stateRoot: String
        public init(hash: String, stateRoot: String) {
            self.hash = hash
            self.stateRoot = stateRoot
        }
    }

    /// The first height where a replica's block differs from the others'.
    public struct Divergence: Sendable, Equatable, CustomStringConvertible {
        public var height: UInt64
        /// "hash" or "stateRoot".
        public var field: String
        /// Each node's value at that height.
        public var values: [String]
        /// The nodes whose value differs from the majority's.
        public var nodes: [Int]

        public init(height: UInt64, field: String, values: [String], nodes: [Int]) {
            self.height = height
            self.field = field
            self.values = values
            self.nodes = nodes
        }

        public var description: String {
            let majority = values.indices.first { !nodes.contains($0) }.map { values[$0] } ?? "?"
            return "height \(height): \(field) of node\(nodes.count == 1 ? "" : "s") \(nodes.map(String.init).joined(separator: ", ")) "
                + "is \(nodes.map { String(values[$0].prefix(16)) }.joined(separator: ", ")), the others have \(majority.prefix(16))"
        }
    }

    /// The first divergence among `blocks[node][h - 1]` (heights 1…, the same count per node):
    /// block hash first, then state root; the odd ones out are those not with the majority
    /// (ties: the smallest value counts as the majority).
    public static func firstDivergence(_ blocks: [[BlockIdentity]]) -> Divergence? {
        let heights = blocks.map(\.count).min() ?? 0
        for i in 0..<heights {
            for field in ["hash", "stateRoot"] {
                let values = blocks.map { field == "hash" ? $0[i].hash : $0[i].stateRoot }
                if Set(values).count > 1 {
                    let odd = ClusterSnapshot.divergent(values)
                    return Divergence(height: UInt64(i + 1), field: field, values: values, nodes: odd.indices.filter { odd[$0] })
                }
            }
        }
        return nil
    }

    /// What a verification found.
    public struct Report: Sendable {
        public var validators: Int
        /// The highest height every replica has.
        public var commonHeight: UInt64
        public var divergence: Divergence?
        /// The replay's last height and root, and the roots agreed at that height.
        public var replayedHeight: UInt64?
        public var replayedRoot: String?
        public var replayProblem: String?

        public var passed: Bool { divergence == nil && replayProblem == nil }

        /// The one-line verdict.
        public var verdict: String {
            if let divergence { return "verify FAILED: replicas diverge at \(divergence)" }
            if let replayProblem { return "verify FAILED: \(replayProblem)" }
            return "verify OK: \(validators) replicas agree on the hashes and state roots of blocks 1…\(commonHeight); "
                + "a fresh replay of the block log from genesis reaches the same root \(replayedRoot.map { String($0.prefix(16)) } ?? "?") at height \(replayedHeight ?? 0)"
        }
    }

    /// Compares every replica's blocks up to the common height over the HTTP API, then replays
    /// node `replayNode`'s block log up to that height in a new `ballast ledger replay` process.
    public static func verify(layout: ClusterLayout, replayNode: Int = 0, executable: String) async throws -> Report {
        let connection = try ClusterConnection(layout: layout, connectionsPerNode: 2)
        let count = connection.manifest.validators
        var statuses: [NodeStatus] = []
        for i in 0..<count {
            do { statuses.append(try await connection.clients[i].get("/v1/status", as: NodeStatus.self)) } catch {
                throw ClusterError("node \(i) does not answer (\(error)): verify compares running replicas")
            }
        }
        let common = statuses.map(\.height).min() ?? 0
        var report = Report(validators: count, commonHeight: common)
        var blocks = [[BlockIdentity]](repeating: [], count: count)
        // Height 0 is the genesis state, which has no block.
        var agreed = statuses.first { $0.height == 0 }?.stateRoot
        var from: UInt64 = 1
        while from <= common {
            let to = min(common, from + 255)
            for i in 0..<count {
                let futures = (from...to).map { connection.clients[i].request(.GET, "/v1/blocks/\($0)") }
                for (h, future) in zip(from...to, futures) {
                    let answer = try await future.get()
                    guard answer.status == 200 else { throw ClusterError("node \(i) has no block \(h): \(answer.errorCode)") }
                    let view = try answer.decode(BlockView.self)
                    blocks[i].append(BlockIdentity(hash: view.hash, stateRoot: view.stateRoot))
                }
            }
            if let divergence = firstDivergence(blocks) {
                report.divergence = divergence
                return report
            }
            agreed = blocks[0].last?.stateRoot
            from = to + 1
        }
        let replay = try runReplay(executable: executable, home: layout.home(replayNode), upTo: common)
        report.replayedHeight = replay.height
        report.replayedRoot = replay.stateRoot
        if let mismatch = replay.mismatch {
            report.replayProblem = "replaying node\(replayNode)'s block log from genesis: \(mismatch)"
        } else if replay.height != common {
            report.replayProblem = "the replay of node\(replayNode)'s block log ended at height \(replay.height), not \(common)"
        } else if replay.stateRoot != agreed {
            report.replayProblem = "the replay of node\(replayNode)'s block log reaches root \(replay.stateRoot) at height \(common); the replicas agree on \(agreed ?? "?")"
        }
        return report
    }

    /// What `ballast ledger replay --blocks-from HOME --json` prints.
    public struct ReplayOutput: Codable, Sendable {
        public var height: UInt64
        public var stateRoot: String
        public var transactions: Int
        public var mismatch: String?
        public init(height: UInt64, stateRoot: String, transactions: Int, mismatch: String?) {
            self.height = height
            self.stateRoot = stateRoot
            self.transactions = transactions
            self.mismatch = mismatch
        }
    }

    /// Runs `ballast ledger replay --blocks-from HOME --to H --json` and reads its answer.
    static func runReplay(executable: String, home: String, upTo height: UInt64) throws -> ReplayOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["ledger", "replay", "--blocks-from", home, "--to", "\(height)", "--json"]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { throw ClusterError("cannot start \(executable): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let output = try? JSONDecoder().decode(ReplayOutput.self, from: data) else {
            throw ClusterError("the replay process failed (status \(process.terminationStatus)): "
                + String(decoding: errors + data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return output
    }
}

import Foundation

/// One fault the harness injects into a running cluster: by `ballast cluster kill|restart|…`
/// or as a step of a manifest's schedule.
public struct Fault: Codable, Sendable, Equatable, CustomStringConvertible {
    public enum Op: String, Codable, Sendable, CaseIterable {
        /// SIGKILL the nodes' processes (kill -9).
        case kill
        /// Start the nodes again (a running one is stopped with SIGTERM first).
        case restart
        /// SIGSTOP: the process is frozen, its sockets stay open.
        case pause
        /// SIGCONT.
        case resume
        /// Cut every link between the named set and the rest.
        case partition
        /// Clear every link fault (cut, delay, loss) of the named nodes' links; no names: all links.
        case heal
        /// Delay every byte on the links (one node: all its links; more: the links among them) by `ms`.
        case delay
        /// Drop `percent` of the consensus and gossip messages on the links, chosen as for `delay`.
        case loss
        /// SIGKILL every node, then start them all at once.
        case restartAll = "restart-all"
    }

    public var op: Op
    /// Validator names (`validator-I`) or indices (`I`).
    public var nodes: [String]
    /// For `delay`: milliseconds (0 clears).
    public var ms: Int?
    /// For `loss`: percent of messages dropped (0 clears).
    public var percent: Int?

    public init(op: Op, nodes: [String] = [], ms: Int? = nil, percent: Int? = nil) {
        self.op = op
        self.nodes = nodes
        self.ms = ms
        self.percent = percent
    }

    public var description: String {
        var text = ([op.rawValue] + nodes).joined(separator: " ")
        if let ms { text += " \(ms) ms" }
        if let percent { text += " \(percent)%" }
        return text
    }

    /// The validator index a name stands for: `validator-I` or `I`, below `validators`.
    public static func index(of name: String, validators: Int) throws -> Int {
        let digits = name.hasPrefix("validator-") ? String(name.dropFirst("validator-".count)) : name
        guard let i = Int(digits), (0..<validators).contains(i) else {
            throw ClusterError("no validator '\(name)': use validator-0 … validator-\(validators - 1) (or 0 … \(validators - 1))")
        }
        return i
    }

    /// The validator indices this fault names, sorted and without repeats, after checking the
    /// fault has what its operation needs.
    public func resolve(validators: Int) throws -> [Int] {
        let indices = Array(Set(try nodes.map { try Fault.index(of: $0, validators: validators) })).sorted()
        switch op {
        case .kill, .restart, .pause, .resume:
            guard !indices.isEmpty else { throw ClusterError("\(op.rawValue) needs at least one validator") }
        case .partition:
            guard !indices.isEmpty, indices.count < validators else {
                throw ClusterError("partition needs a set of validators that is not empty and not all of them")
            }
        case .heal:
            break
        case .delay:
            guard !indices.isEmpty else { throw ClusterError("delay needs at least one validator") }
            guard let ms, (0...60_000).contains(ms) else { throw ClusterError("delay needs ms between 0 and 60000") }
            if indices.count == 1, validators == 1 { throw ClusterError("a single validator has no links") }
        case .loss:
            guard !indices.isEmpty else { throw ClusterError("loss needs at least one validator") }
            guard let percent, (0...100).contains(percent) else { throw ClusterError("loss needs percent between 0 and 100") }
        case .restartAll:
            guard indices.isEmpty else { throw ClusterError("restart-all takes no validator names") }
        }
        return indices
    }
}

/// A link between two validators, `a < b`.
public struct Link: Codable, Sendable, Hashable, Comparable {
    public var a: Int
    public var b: Int
    public init(_ x: Int, _ y: Int) {
        a = min(x, y)
        b = max(x, y)
    }
    public static func < (l: Link, r: Link) -> Bool { (l.a, l.b) < (r.a, r.b) }
    public func touches(_ i: Int) -> Bool { a == i || b == i }
    public func other(than i: Int) -> Int { a == i ? b : a }
}

/// What is wrong with the cluster right now, as the harness made it: each node's process
/// state and each link's faults. The harness writes it to `DIR/faults.json` on every change;
/// `cluster status` shows it.
public struct FaultState: Codable, Sendable, Equatable {
    public enum Process: String, Codable, Sendable {
        case running, killed, paused
        /// The process ended without the harness stopping it (a crash, a port in use, a halt).
        case exited
    }

    public struct LinkFault: Codable, Sendable, Equatable {
        public var link: Link
        /// No bytes pass: connections are closed and new ones refused.
        public var cut: Bool = false
        public var delayMs: Int = 0
        public var lossPercent: Int = 0

        public init(link: Link, cut: Bool = false, delayMs: Int = 0, lossPercent: Int = 0) {
            self.link = link
            self.cut = cut
            self.delayMs = delayMs
            self.lossPercent = lossPercent
        }

        public var isClear: Bool { !cut && delayMs == 0 && lossPercent == 0 }
    }

    public var processes: [Process]
    /// Only links with a fault, sorted.
    public var links: [LinkFault]
    /// The harness's process id, so readers can tell a stale file.
    public var harnessPID: Int32?
    /// True once every step of the manifest's schedule has been applied.
    public var scheduleFinished: Bool = false

    public init(validators: Int, harnessPID: Int32? = nil) {
        processes = Array(repeating: .running, count: validators)
        links = []
        self.harnessPID = harnessPID
    }

    public var validators: Int { processes.count }

    public func link(_ link: Link) -> LinkFault { links.first { $0.link == link } ?? LinkFault(link: link) }

    /// Validators that are faulty: not running, or with any link fault.
    public var faultyValidators: [Int] {
        (0..<validators).filter { i in processes[i] != .running || links.contains { $0.link.touches(i) } }
    }

    /// The links a link fault over `nodes` applies to: for a partition, those between the set
    /// and the rest; for delay and loss, one node's links, or the links among two or more;
    /// for heal, the links touching the set (no set: every link).
    public static func links(for op: Fault.Op, nodes: [Int], validators: Int) -> [Link] {
        let all = (0..<validators).flatMap { a in ((a + 1)..<max(a + 1, validators)).map { Link(a, $0) } }
        let set = Set(nodes)
        switch op {
        case .partition: return all.filter { set.contains($0.a) != set.contains($0.b) }
        case .delay, .loss: return nodes.count == 1 ? all.filter { set.contains($0.a) || set.contains($0.b) }
                                                    : all.filter { set.contains($0.a) && set.contains($0.b) }
        case .heal: return nodes.isEmpty ? all : all.filter { set.contains($0.a) || set.contains($0.b) }
        default: return []
        }
    }

    /// The state after `fault`, applied to the validators `nodes` (already resolved).
    public mutating func apply(_ fault: Fault, nodes: [Int]) {
        func update(_ targets: [Link], _ change: (inout LinkFault) -> Void) {
            for target in targets {
                var entry = link(target)
                change(&entry)
                links.removeAll { $0.link == target }
                if !entry.isClear { links.append(entry) }
            }
            links.sort { $0.link < $1.link }
        }
        let targets = FaultState.links(for: fault.op, nodes: nodes, validators: validators)
        switch fault.op {
        case .kill: for i in nodes { processes[i] = .killed }
        case .restart, .resume: for i in nodes { processes[i] = .running }
        case .pause: for i in nodes where processes[i] == .running { processes[i] = .paused }
        case .restartAll: processes = Array(repeating: .running, count: validators)
        case .partition: update(targets) { $0.cut = true }
        case .heal: update(targets) { $0 = LinkFault(link: $0.link) }
        case .delay: update(targets) { $0.delayMs = fault.ms ?? 0 }
        case .loss: update(targets) { $0.lossPercent = fault.percent ?? 0 }
        }
    }

    /// One short phrase for node `i`'s faults ("" when none), for the status table.
    public func summary(node i: Int) -> String {
        var parts: [String] = []
        if processes[i] != .running { parts.append(processes[i].rawValue) }
        let mine = links.filter { $0.link.touches(i) }
        let cut = mine.filter(\.cut).map { "\($0.link.other(than: i))" }
        if !cut.isEmpty { parts.append("cut from " + cut.joined(separator: ",")) }
        for l in mine where l.delayMs > 0 { parts.append("+\(l.delayMs)ms to \(l.link.other(than: i))") }
        for l in mine where l.lossPercent > 0 { parts.append("\(l.lossPercent)% loss to \(l.link.other(than: i))") }
        return parts.joined(separator: "; ")
    }

    public static func path(_ layout: ClusterLayout) -> String { layout.directory + "/faults.json" }

    /// The state a live harness wrote, or nil (no harness, or the one that wrote it is gone).
    public static func load(_ layout: ClusterLayout) -> FaultState? {
        guard let data = FileManager.default.contents(atPath: path(layout)),
              let state = try? JSONDecoder().decode(FaultState.self, from: data) else { return nil }
        if let pid = state.harnessPID, !NodeProcesses.isAlive(pid) { return nil }
        return state
    }

    public func write(_ layout: ClusterLayout) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: FaultState.path(layout)), options: .atomic)
    }
}

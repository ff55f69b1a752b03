import BallastCrypto

/// The blocks a replica knows: the committed chain (a window of it, to serve
/// peers that are catching up) and the tree of uncommitted blocks above it.
/// Invariant: every stored block's parent is stored too, except the oldest
/// retained committed block.
struct BlockStore {
    private var blocks: [Hash256: Proposal] = [:]
    private var uncommittedByRound = RoundIndexed<[Hash256]>()
    private var committedByHeight = RoundIndexed<Hash256>()
    /// The last committed block.
    private(set) var committed: Block

    /// A store whose committed chain is `committedChain` (oldest first, not empty).
    init(committedChain: [Proposal]) {
        precondition(!committedChain.isEmpty, "a block store needs a committed root")
        committed = committedChain[committedChain.count - 1].block
        for p in committedChain {
            blocks[p.block.id] = p
            committedByHeight[p.block.height] = p.block.id
        }
    }

    func proposal(_ id: Hash256) -> Proposal? { blocks[id] }
    func block(_ id: Hash256) -> Block? { blocks[id]?.block }
    func contains(_ id: Hash256) -> Bool { blocks[id] != nil }

    /// Adds an uncommitted block whose parent is stored. Returns false if it was already stored.
    @discardableResult
    mutating func insert(_ p: Proposal) -> Bool {
        let id = p.block.id
        guard blocks[id] == nil, blocks[p.block.parentID] != nil else { return false }
        blocks[id] = p
        uncommittedByRound[p.block.round] = (uncommittedByRound[p.block.round] ?? []) + [id]
        return true
    }

    /// The uncommitted blocks from just above the committed block up to `id`,
    /// oldest first; nil when `id` does not descend from the committed block.
    func uncommittedChain(to id: Hash256) -> [Proposal]? {
        var chain: [Proposal] = []
        var cursor = id
        while true {
            guard let p = blocks[cursor] else { return nil }
            if p.block.height <= committed.height {
                guard p.block.id == committed.id else { return nil }
                break
            }
            chain.append(p)
            cursor = p.block.parentID
        }
        return chain.reversed()
    }

    /// Records `chain` (from `uncommittedChain`) as committed, drops the forks it
    /// rules out, and forgets committed blocks beyond `retention`.
    mutating func commit(_ chain: [Proposal], retention: Int) {
        guard let tip = chain.last?.block else { return }
        for p in chain { committedByHeight[p.block.height] = p.block.id }
        committed = tip
        // Uncommitted blocks at or below the committed round can never be committed.
        for ids in uncommittedByRound.removeAll(below: tip.round + 1) {
            for id in ids {
                guard let b = blocks[id]?.block, committedByHeight[b.height] != id else { continue }
                blocks[id] = nil
            }
        }
        if tip.height >= UInt64(max(retention, 1)) {
            for id in committedByHeight.removeAll(below: tip.height - UInt64(max(retention, 1)) + 1) {
                blocks[id] = nil
            }
        }
    }

    /// The stored chain ending at `target`, above height `knownHeight`: its
    /// oldest `limit` blocks, oldest first (what a peer at `knownHeight` needs next).
    func chain(to target: Hash256, above knownHeight: UInt64, limit: Int) -> [Proposal] {
        var chain: [Proposal] = []
        var cursor = target
        while let p = blocks[cursor], p.block.height > knownHeight {
            chain.append(p)
            cursor = p.block.parentID
        }
        return Array(chain.reversed().prefix(limit))
    }

    /// The committed block at `height`, if still retained.
    func committedBlock(atHeight height: UInt64) -> Proposal? {
        committedByHeight[height].flatMap { blocks[$0] }
    }
}

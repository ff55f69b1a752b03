extension Replica {
    /// A peer's certificates: catch up to them.
    mutating func onSyncInfo(_ s: SyncInfo, from peer: ValidatorIndex) {
        if isValid(s.highQC) { process(s.highQC, from: peer) }
        if let tc = s.highTC, tc.round >= round, isValid(tc) { process(tc, from: peer) }
    }

    /// A peer asks for blocks: send what we hold of the chain it names.
    mutating func onBlockRequest(_ r: BlockRequest, from peer: ValidatorIndex) {
        guard peer != index else { return }
        let limit = min(Int(r.maxBlocks), ConsensusLimits.maxBlocksPerResponse)
        let chain = store.chain(to: r.targetID, above: r.knownHeight, limit: limit)
        guard !chain.isEmpty else { return }
        effects.append(.send(.blockResponse(BlockResponse(targetID: r.targetID, proposals: chain)), to: peer))
    }

    /// Blocks we asked for: each must extend a stored block, be signed by its
    /// round's leader and carry a valid QC for its parent; that QC may commit.
    /// Stops at the first block that fails.
    mutating func onBlockResponse(_ r: BlockResponse, from peer: ValidatorIndex) {
        var lastHeight: UInt64? = nil
        for p in r.proposals {
            let b = p.block
            if store.contains(b.id) { lastHeight = b.height; continue }
            guard let parent = store.block(b.parentID), extendsParent(b, parent),
                  signatureIsValid(p), isValid(b.justify) else { break }
            store.insert(p)
            lastHeight = b.height
            process(b.justify, from: peer)
            blockInserted(b.id)
        }
        // A long gap arrives in batches: ask for the next one from the same peer.
        if let m = missing, m.id == r.targetID, !store.contains(r.targetID), let lastHeight,
           lastHeight > store.committed.height || !r.proposals.isEmpty {
            sendBlockRequest(r.targetID, knownHeight: lastHeight, to: peer)
        }
    }
}

extension Replica {
    /// Whether the committed block at `height` is still in memory, so that a
    /// peer's block request from just below it can be served from here; the host
    /// serves older heights from its own storage.
    public func retainsCommittedBlock(atHeight height: UInt64) -> Bool {
        store.committedBlock(atHeight: height) != nil
    }
}

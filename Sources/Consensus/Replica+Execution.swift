import BallastCrypto

extension Replica {
    /// The host executed a committed block. Leaders put the latest root in
    /// their proposals; voters refuse a block whose root differs from their own.
    mutating func onBlockExecuted(height: UInt64, blockID: Hash256, stateRoot: Hash256) {
        guard store.committedBlock(atHeight: height)?.block.id == blockID || height <= store.committed.height else { return }
        executedRoots[height] = stateRoot
        if height > lastExecuted.height { lastExecuted = (height, stateRoot) }
        if height > 1_000 { executedRoots.removeAll(below: height - 1_000) }
    }
}

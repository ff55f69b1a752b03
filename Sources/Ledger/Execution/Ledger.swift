import Codec
import BallastCrypto

/// The deterministic portfolio-margin state machine: the whole state, and the rules that
/// move it from block to block (`apply(block:)`).
///
/// Pure: no IO, clock or randomness; dictionaries are used for lookup only and never iterated
/// unsorted. Every mutation goes through `touch(_:)`, which records the entry's old value in
/// the current transaction's journal (for rollback) and marks it dirty (for the state root).
public struct Ledger: Sendable {
    public let config: LedgerConfig
    public internal(set) var global: GlobalState
    var accounts = AccountTable()
    var pools: [LendingPool]
    /// The insurance fund's balance per asset (fees, reserve sweeps, liquidation shares).
    var insurance: [Int64]
    var oracles: [OracleState]
    var markets: [MarketState]
    var books: [OrderBook]

    var tree: StateTree
    /// Entries changed since the last root (duplicates allowed).
    var dirty: [StateKey] = []
    /// Slots of the accounts changed since the last root (duplicates allowed).
    var dirtyAccounts: [Int32] = []
    var journal = Journal()
    /// Accounts by exposed asset (derived, not part of the root).
    var exposure: ExposureIndex
    /// History events of the block being applied (output, not state).
    var events: [AccountEvent] = []
    /// The transaction being executed, for its events (nil during block steps).
    var eventTxIndex: UInt32?
    /// Trades settled so far in the block being applied (numbers the fill events).
    var tradeCount: UInt32 = 0
    /// Account slots of recent signers' public keys (derived, not state; lookup only, never
    /// iterated). Valid as long as `accounts` is the table they were taken from: a snapshot
    /// restore builds a new ledger, whose cache starts empty.
    var senderCache: [PublicKey: Int32] = [:]
    static let senderCacheLimit = 1 << 17

    /// The state at genesis. The genesis is validated first.
    public init(genesis: Genesis) throws(GenesisError) {
        try genesis.validate()
        config = try LedgerConfig(genesis: genesis)
        let t = genesis.genesisTimeMs
        global = GlobalState(genesisHash: Blake2b.hash256(genesis.encodeJSON()), timeMs: t,
                             lastFundingMs: t - t % genesis.funding.intervalMs)
        pools = genesis.assets.indices.map { LendingPool(asset: AssetID($0), timeMs: t) }
        insurance = [Int64](repeating: 0, count: genesis.assets.count)
        oracles = genesis.assets.enumerated().map { OracleState(asset: AssetID($0), price: $1.initialPrice) }
        markets = genesis.markets.indices.map { MarketState(market: MarketID($0)) }
        books = genesis.markets.indices.map { OrderBook(market: MarketID($0)) }
        tree = StateTree()
        exposure = ExposureIndex(assetCount: genesis.assets.count)
        // Validation bounded every total by Int64, so these sums cannot overflow.
        for b in genesis.balances {
            var account = accounts[b.address] ?? Account()
            var h = account.holding(b.asset)
            h.wallet += b.amount
            account.setHolding(h)
            accounts[b.address] = account
        }
        for f in genesis.insuranceFund { insurance[Int(f.asset)] += f.amount }
        rebuildTree()
        rebuildExposure()
    }

    // MARK: Reading

    /// The account at `address` (an empty standard account when it never appeared).
    public func account(_ address: Address) -> Account {
        guard let s = accounts.slot(address) else { return Account() }
        return accounts.values[s]
    }

    /// The nonces used by the account at `address`, read in place (no copy of the account, whose
    /// arrays a copy would retain): the mempool checks them for every transaction it admits.
    public func nonces(of address: Address) -> NonceSet {
        guard let s = accounts.slot(address) else { return NonceSet() }
        return accounts.values[s].nonces
    }

    /// The holding of `asset` of the account at `address`, read in place (no copy of the account).
    func holding(_ address: Address, _ asset: AssetID) -> AssetHolding {
        guard let s = accounts.slot(address) else { return AssetHolding(asset: asset) }
        return accounts.values[s].holding(asset)
    }

    /// The position in `market` of the account at `address`, read in place.
    func position(_ address: Address, _ market: MarketID) -> PerpPosition {
        guard let s = accounts.slot(address) else { return PerpPosition(market: market) }
        return accounts.values[s].position(market)
    }

    /// The margin mode of the account at `address`.
    func mode(_ address: Address) -> MarginMode {
        guard let s = accounts.slot(address) else { return .standard }
        return accounts.values[s].mode
    }
    public func pool(_ asset: AssetID) -> LendingPool? { Int(asset) < pools.count ? pools[Int(asset)] : nil }
    public func book(_ market: MarketID) -> OrderBook? { Int(market) < books.count ? books[Int(market)] : nil }
    public func marketState(_ market: MarketID) -> MarketState? { Int(market) < markets.count ? markets[Int(market)] : nil }
    public func oracle(_ asset: AssetID) -> OracleState? { Int(asset) < oracles.count ? oracles[Int(asset)] : nil }
    public var insuranceFund: [Int64] { insurance }
    /// Every account address, sorted.
    public var addresses: [Address] { accounts.sortedAddresses() }
    public var accountCount: Int { accounts.count }

    // MARK: State root

    /// The commitment to the state after the last block (maintained incrementally).
    public var stateRoot: Hash256 { tree.root }

    /// Every entry's key, sorted.
    func allKeys() -> [StateKey] {
        var keys: [StateKey] = [.global, .insurance]
        keys += pools.indices.map { .pool(AssetID($0)) }
        keys += oracles.indices.map { .oracle(AssetID($0)) }
        keys += markets.indices.map { .market(MarketID($0)) }
        for (m, book) in books.enumerated() {
            var ids: [OrderID] = []
            ids.reserveCapacity(book.count)
            book.forEachOrder { ids.append($0.id) }
            keys += ids.sorted().map { .order(MarketID(m), $0) }
        }
        keys += accounts.sortedAddresses().map { .account($0) }
        return keys
    }

    /// The canonical bytes of an entry, nil when it does not exist.
    func value(of key: StateKey) -> [UInt8]? {
        var w = ByteWriter()
        return encodeValue(of: key, to: &w) ? w.bytes : nil
    }

    /// Appends the canonical bytes of an entry to `w`; false (nothing written) when it does not exist.
    func encodeValue(of key: StateKey, to w: inout ByteWriter) -> Bool {
        switch key {
        case .global: global.encode(to: &w)
        case .insurance: w.write(insurance)
        case .pool(let a): pools[Int(a)].encode(to: &w)
        case .oracle(let a): oracles[Int(a)].encode(to: &w)
        case .market(let m): markets[Int(m)].encode(to: &w)
        case .order(let m, let id):
            guard let order = books[Int(m)].order(id: id) else { return false }
            order.encode(to: &w)
        case .account(let a):
            guard let s = accounts.slot(a) else { return false }
            return encodeAccount(slot: s, to: &w)
        }
        return true
    }

    /// Appends the canonical bytes of the account in slot `s`; false (nothing written) when it
    /// does not exist.
    func encodeAccount(slot s: Int, to w: inout ByteWriter) -> Bool {
        guard accounts.exists[s], !accounts.values[s].isEmpty else { return false }
        accounts.values[s].encode(to: &w)
        return true
    }

    /// Root computed from scratch over every entry; must equal `stateRoot`.
    public func recomputeRoot() -> Hash256 {
        var fresh = StateTree(bits: tree.bits)
        for key in allKeys() {
            if let v = value(of: key) { fresh.set(key, leaf: StateTree.leaf(key: key, value: v)) }
        }
        fresh.rebuildAll()
        return fresh.root
    }

    mutating func rebuildTree() {
        tree = StateTree(bits: tree.bits)
        for key in allKeys() {
            if let v = value(of: key) { tree.set(key, leaf: StateTree.leaf(key: key, value: v)) }
        }
        tree.rebuildAll()
        dirty.removeAll()
        dirtyAccounts.removeAll()
    }

    /// The root step of a block applied with `applyDeferringRoot(block:)`.
    @_spi(Benchmarks)
    public mutating func updateStateRoot() -> Hash256 { updateRoot() }

    /// Re-hashes the entries changed since the last call and returns the new root.
    mutating func updateRoot() -> Hash256 {
        // Each key once. A block lists the same keys many times (the global entry once per
        // order, an account once per change): the fixed entries are deduplicated by flag,
        // accounts by slot mark, orders by a set. No sort: the tree's result does not depend
        // on the order its leaves are set in (each bucket is kept sorted by key).
        let fixed = 2 + pools.count + oracles.count + markets.count
        var seenFixed = [Bool](repeating: false, count: fixed)
        var seen = Set<StateKey>()
        var entries: [StateKey] = []
        for key in dirty {
            let slot: Int
            switch key {
            case .global: slot = 0
            case .insurance: slot = 1
            case .pool(let a) where Int(a) < pools.count: slot = 2 + Int(a)
            case .oracle(let a) where Int(a) < oracles.count: slot = 2 + pools.count + Int(a)
            case .market(let m) where Int(m) < markets.count: slot = 2 + pools.count + oracles.count + Int(m)
            default: slot = fixed
            }
            if slot < fixed {
                if seenFixed[slot] { continue }
                seenFixed[slot] = true
            } else if !seen.insert(key).inserted {
                continue
            }
            entries.append(key)
        }
        var accountSlots: [Int] = []
        let mark = exposure.nextMark(slotCount: accounts.slotCount)
        for s32 in dirtyAccounts {
            let s = Int(s32)
            if exposure.seen[s] == mark { continue }
            exposure.seen[s] = mark
            accountSlots.append(s)
        }
        dirtyAccounts.removeAll(keepingCapacity: true)
        dirty.removeAll(keepingCapacity: true)
        // Encoded and hashed a chunk at a time: the bytes of a whole block's entries (an account
        // is about 1 KB with its nonces) would not stay in the core's cache between the two.
        var leaves = LeafBatch(capacity: 1024 * LeafBatch.chunk)
        func flushIfFull() {
            guard leaves.keys.count >= LeafBatch.chunk else { return }
            leaves.hash { key, leaf in tree.set(key, leaf: leaf) }
            leaves.removeAll()
        }
        for key in entries {
            if !leaves.add(key, ledger: self) { tree.set(key, leaf: nil) }
            flushIfFull()
        }
        for s in accountSlots {
            let key = StateKey.account(accounts.addresses[s])
            // Encoded by slot: no address lookup.
            if !leaves.add(key, ledger: self, slot: s) { tree.set(key, leaf: nil) }
            flushIfFull()
        }
        leaves.hash { key, leaf in tree.set(key, leaf: leaf) }
        tree.commit()
        return tree.root
    }
}

/// The leaves a root update re-hashes: each entry's `key ‖ value` bytes in one buffer, hashed
/// together in SIMD lanes (`Blake2b.hash256Many`), entries of the same number of blocks side by
/// side so that no lane waits long for a longer neighbour. The leaf of each is
/// `StateTree.leaf(key:value:)`.
struct LeafBatch {
    /// Entries per batch in a root update: enough to fill the SIMD lanes of every length group.
    static let chunk = 512

    var keys: [StateKey] = []
    /// End of each entry's bytes in `bytes`.
    var ends: [Int] = []
    var bytes: ByteWriter

    init(capacity: Int) { bytes = ByteWriter(capacity: capacity) }

    /// Empties the batch, keeping its storage.
    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
        bytes.removeAll()
    }

    /// Appends the bytes of `key`'s entry; false (nothing added) when the entry does not exist.
    /// `slot` is the account slot of an account key, when known.
    mutating func add(_ key: StateKey, ledger: Ledger, slot: Int? = nil) -> Bool {
        let start = bytes.count
        key.encode(to: &bytes)
        let exists = if let slot { ledger.encodeAccount(slot: slot, to: &bytes) } else { ledger.encodeValue(of: key, to: &bytes) }
        guard exists else {
            bytes.truncate(to: start)
            return false
        }
        keys.append(key)
        ends.append(bytes.count)
        return true
    }

    /// Hashes every entry added and hands each key its leaf (in no particular order).
    func hash(_ body: (StateKey, Hash256) -> Void) {
        let count = keys.count
        guard count > 0 else { return }
        // Counting sort by block count (1...16, the rest together), stable.
        func blocks(_ i: Int) -> Int {
            let length = ends[i] - (i == 0 ? 0 : ends[i - 1])
            return min(16, max(1, (length + 127) / 128))
        }
        var starts = [Int](repeating: 0, count: 18)
        for i in 0..<count { starts[blocks(i) + 1] += 1 }
        for b in 1..<18 { starts[b] += starts[b - 1] }
        var order = [Int](repeating: 0, count: count)
        for i in 0..<count {
            let b = blocks(i)
            order[starts[b]] = i
            starts[b] += 1
        }
        let all = bytes.bytes
        all.withUnsafeBufferPointer { raw in
            var inputs: [UnsafePointer<UInt8>?] = []
            var lengths: [Int] = []
            inputs.reserveCapacity(count)
            lengths.reserveCapacity(count)
            for i in order {
                let start = i == 0 ? 0 : ends[i - 1]
                inputs.append(raw.baseAddress.map { $0 + start })
                lengths.append(ends[i] - start)
            }
            withUnsafeTemporaryAllocation(byteCount: 32 * count, alignment: 8) { digests in
                Blake2b.hash256Many(inputs, lengths: lengths, count: count, digests: digests.baseAddress!)
                for (j, i) in order.enumerated() {
                    body(keys[i], Hash256(storage: digests.load(fromByteOffset: 32 * j, as: Hash256.Storage.self)))
                }
            }
        }
    }
}

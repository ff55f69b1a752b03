import BallastCrypto

/// The undo log of the transaction being applied: the value each entry had before its first
/// change, so a failed action can be rolled back exactly. Savepoints nest (a maker fill that
/// must be undone inside an order that succeeds).
///
/// An existing account is saved field by field (one holding, one position, or its scalars),
/// not whole: a whole copy would share the account's arrays, so the change that follows would
/// copy them (copy-on-write) on every transaction. Rolling back newest first restores each
/// field; an account the transaction created is saved whole (as absent) and so removed.
struct Journal: Sendable {
    enum Saved: Sendable {
        case global(GlobalState)
        case insurance([Int64])
        /// One asset's insurance balance (a fee or a share): saving the whole array would make
        /// the change that follows copy it.
        case insuranceBalance(AssetID, Int64)
        case pool(LendingPool)
        case oracle(OracleState)
        case market(MarketState)
        case order(MarketID, OrderID, BookOrder?)
        case account(Address, Account?)
        case holding(Int32, AssetHolding)
        case position(Int32, PerpPosition)
        case scalars(Int32, AccountScalars)
    }

    /// What one save covers: a state entry, or one field of the account in a slot.
    enum Key: Hashable, Sendable {
        case state(StateKey)
        case insuranceBalance(AssetID)
        case holding(Int32, AssetID)
        case position(Int32, MarketID)
        case scalars(Int32)
    }

    var entries: [(key: Key, saved: Saved)] = []
    /// Index in `entries` of each key's latest save (lookup only), kept only once a transaction
    /// saved more than `scanLimit` entries: below that a scan is cheaper than hashing the key.
    var savedAt: [Key: Int] = [:]
    var indexed = false
    /// Entries before this index belong to enclosing savepoints.
    var floor = 0
    /// Off between transactions: block-level steps are not rolled back.
    var active = false
    /// Events of the block before the current transaction began.
    var eventsAtBegin = 0

    static let scanLimit = 32

    /// Whether `key` needs saving before it changes: not when this savepoint level saved it.
    func needsSave(_ key: Key) -> Bool {
        guard active else { return false }
        if indexed {
            if let i = savedAt[key], i >= floor { return false }
            return true
        }
        var i = entries.count - 1
        while i >= floor {
            if entries[i].key == key { return false }
            i -= 1
        }
        return true
    }

    mutating func record(_ key: Key, _ saved: Saved) {
        if !indexed && entries.count >= Journal.scanLimit {
            for (i, e) in entries.enumerated() { savedAt[e.key] = i }
            indexed = true
        }
        if indexed { savedAt[key] = entries.count }
        entries.append((key, saved))
    }

    /// Empties the log (between transactions).
    mutating func reset() {
        entries.removeAll(keepingCapacity: true)
        if indexed {
            savedAt.removeAll(keepingCapacity: true)
            indexed = false
        }
    }

    /// Forgets the save at `index` of `key`, which a rollback just undid.
    mutating func forget(_ key: Key, at index: Int) {
        if indexed && savedAt[key] == index { savedAt[key] = nil }
    }
}

/// A point the journal can roll back to.
struct Savepoint {
    let start: Int
    let previousFloor: Int
    /// Events emitted before the savepoint (later ones are dropped on rollback).
    let events: Int
}

extension Ledger {
    /// Records the current value of `key` (once per savepoint) and marks it dirty.
    mutating func touch(_ key: StateKey) {
        guard journal.needsSave(.state(key)) else {
            if !journal.active { markDirty(key) }
            return
        }
        markDirty(key)
        let saved: Journal.Saved
        switch key {
        case .global: saved = .global(global)
        case .insurance: saved = .insurance(insurance)
        case .pool(let a): saved = .pool(pools[Int(a)])
        case .oracle(let a): saved = .oracle(oracles[Int(a)])
        case .market(let m): saved = .market(markets[Int(m)])
        case .order(let m, let id): saved = .order(m, id, books[Int(m)].order(id: id))
        case .account(let a): saved = .account(a, accounts[a])
        }
        journal.record(.state(key), saved)
    }

    /// Records the current insurance balance of `asset` (once per savepoint) and marks the
    /// insurance entry dirty.
    mutating func touchInsurance(_ asset: AssetID) {
        let key = Journal.Key.insuranceBalance(asset)
        guard journal.needsSave(key) else {
            if !journal.active { markDirty(.insurance) }
            return
        }
        markDirty(.insurance)
        journal.record(key, .insuranceBalance(asset, insurance[Int(asset)]))
    }

    /// Lists `key` as changed since the last root: accounts by slot (and flagged for
    /// re-indexing), the rest by key.
    mutating func markDirty(_ key: StateKey) {
        if case .account(let a) = key {
            markAccountDirty(accounts.slotCreating(a), exposureMayChange: true)
        } else {
            dirty.append(key)
        }
    }

    /// Lists the account in slot `s` as changed since the last root; `exposureMayChange` when
    /// its holdings or positions are about to change (only those move it in the exposure index).
    @inline(__always)
    mutating func markAccountDirty(_ s: Int, exposureMayChange: Bool) {
        dirtyAccounts.append(Int32(truncatingIfNeeded: s))
        if exposureMayChange { exposure.markStale(s) }
    }

    /// Which field of an account a change is about to modify (see `Journal`).
    enum AccountField {
        case holding(AssetID)
        case position(MarketID)
        case scalars
    }

    /// Records the current value of one field of the account at `address` (once per
    /// savepoint), marks the account dirty, and returns its slot.
    mutating func touch(_ address: Address, _ field: AccountField) -> Int {
        let s = accounts.slotCreating(address)
        let exposureMayChange: Bool
        if case .scalars = field { exposureMayChange = false } else { exposureMayChange = true }
        guard journal.active else {
            markAccountDirty(s, exposureMayChange: exposureMayChange)
            return s
        }
        guard accounts.exists[s] else {
            // Created by this transaction: saved whole (as absent), so a rollback removes it.
            touch(.account(address))
            return s
        }
        let slot = Int32(truncatingIfNeeded: s)
        let key: Journal.Key
        let saved: Journal.Saved
        switch field {
        case .holding(let asset):
            key = .holding(slot, asset)
            guard journal.needsSave(key) else { return s }
            saved = .holding(slot, accounts.values[s].holding(asset))
        case .position(let market):
            key = .position(slot, market)
            guard journal.needsSave(key) else { return s }
            saved = .position(slot, accounts.values[s].position(market))
        case .scalars:
            key = .scalars(slot)
            guard journal.needsSave(key) else { return s }
            saved = .scalars(slot, accounts.values[s].scalars)
        }
        markAccountDirty(s, exposureMayChange: exposureMayChange)
        journal.record(key, saved)
        return s
    }

    /// Starts a transaction: everything until `commitTransaction` or `rollbackTransaction`.
    mutating func beginTransaction() {
        journal.reset()
        journal.floor = 0
        journal.active = true
        journal.eventsAtBegin = events.count
    }

    mutating func commitTransaction() {
        journal.reset()
        journal.active = false
    }

    mutating func rollbackTransaction() {
        rollback(to: Savepoint(start: 0, previousFloor: 0, events: journal.eventsAtBegin))
        journal.active = false
    }

    mutating func savepoint() -> Savepoint {
        let sp = Savepoint(start: journal.entries.count, previousFloor: journal.floor, events: events.count)
        journal.floor = journal.entries.count
        return sp
    }

    /// Keeps the changes since `sp`, which now belong to the enclosing level.
    mutating func release(_ sp: Savepoint) {
        journal.floor = sp.previousFloor
    }

    /// Restores every entry changed since `sp`, newest first, and drops the events emitted since.
    mutating func rollback(to sp: Savepoint) {
        var i = journal.entries.count - 1
        while i >= sp.start {
            let (key, saved) = journal.entries[i]
            switch saved {
            case .global(let v): global = v
            case .insurance(let v): insurance = v
            case .insuranceBalance(let a, let v): insurance[Int(a)] = v
            case .pool(let v): pools[Int(v.asset)] = v
            case .oracle(let v): oracles[Int(v.asset)] = v
            case .market(let v): markets[Int(v.market)] = v
            case .order(let m, let id, let order):
                books[Int(m)].cancel(id: id)
                // Re-inserting at its id keeps its time priority. It rested before, so it fits.
                if let order { try? books[Int(m)].insert(order) }
            case .account(let a, let v): accounts[a] = v
            case .holding(let s, let h): accounts.modify(slot: Int(s)) { $0.setHolding(h) }
            case .position(let s, let p): accounts.modify(slot: Int(s)) { $0.setPosition(p) }
            case .scalars(let s, let v): accounts.modify(slot: Int(s)) { $0.scalars = v }
            }
            journal.forget(key, at: i)
            i -= 1
        }
        journal.entries.removeLast(journal.entries.count - sp.start)
        journal.floor = sp.previousFloor
        if events.count > sp.events { events.removeSubrange(sp.events...) }
    }
}

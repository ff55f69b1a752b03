import BallastCrypto

/// The ledger's accounts, stored densely: each address gets a slot (an index into arrays) the
/// first time it appears, and keeps it.
///
/// Why: an account is read and changed a dozen times per order. A dictionary of `Account`
/// values hands out a copy on every read (retaining its three arrays); here one hashed lookup
/// finds the slot and the rest reads the array element in place. Slots also key the exposure
/// index and the per-block "seen" marks, which need no hashing at all.
///
/// Slot numbers depend on the order addresses appeared (and differ after a snapshot restore),
/// so nothing that reaches a result may depend on them: every walk that matters is sorted by
/// address first. The address map is for lookup only and never iterated.
struct AccountTable: Sendable {
    private var slotOf: [Address: Int32] = [:]
    /// Address of each slot.
    private(set) var addresses: [Address] = []
    /// Account of each slot (an empty account where `exists` is false). Read in place as
    /// `values[slot].field`: a copy of an `Account` retains its three arrays.
    private(set) var values: [Account] = []
    /// Whether the slot's account exists (a rollback can remove one created by the failed action).
    private(set) var exists: [Bool] = []
    /// Number of existing accounts.
    private(set) var count = 0
    /// The two addresses last looked up by `slotCreating` and their slots (-1: none), newest
    /// first. A transaction changes the same account several times in a row, and a trade
    /// alternates between its two sides; comparing three words is much cheaper than hashing the
    /// address and probing the table.
    private var recentAddress = Address.zero
    private var recentSlot = -1
    private var olderAddress = Address.zero
    private var olderSlot = -1

    init() {}

    /// Number of slots handed out (existing accounts and removed ones).
    var slotCount: Int { addresses.count }

    /// The slot of `address`, if it ever had one.
    @inline(__always)
    func slot(_ address: Address) -> Int? {
        if recentSlot >= 0 && AccountTable.same(address, recentAddress) { return recentSlot }
        if olderSlot >= 0 && AccountTable.same(address, olderAddress) { return olderSlot }
        return slotOf[address].map { Int($0) }
    }

    @inline(__always)
    static func same(_ a: Address, _ b: Address) -> Bool {
        a.storage.0 == b.storage.0 && a.storage.1 == b.storage.1 && a.storage.2 == b.storage.2
    }

    /// The slot of `address`, handing out a new one (holding no account) if needed.
    mutating func slotCreating(_ address: Address) -> Int {
        if recentSlot >= 0 && AccountTable.same(address, recentAddress) { return recentSlot }
        if olderSlot >= 0 && AccountTable.same(address, olderAddress) {
            let s = olderSlot
            remember(address, s)
            return s
        }
        if let s = slotOf[address] {
            remember(address, Int(s))
            return Int(s)
        }
        let s = addresses.count
        slotOf[address] = Int32(truncatingIfNeeded: s)
        addresses.append(address)
        values.append(Account())
        exists.append(false)
        return s
    }

    /// Makes slot `s` the remembered one (see `recentSlot`), as if just looked up.
    mutating func noteRecent(_ s: Int) {
        if s != recentSlot { remember(addresses[s], s) }
    }

    private mutating func remember(_ address: Address, _ s: Int) {
        olderAddress = recentAddress
        olderSlot = recentSlot
        recentAddress = address
        recentSlot = s
    }

    /// The account at `address`, nil when there is none.
    subscript(address: Address) -> Account? {
        get {
            guard let s = slot(address), exists[s] else { return nil }
            return values[s]
        }
        set {
            if let v = newValue {
                let s = slotCreating(address)
                if !exists[s] { exists[s] = true; count += 1 }
                values[s] = v
            } else if let s = slot(address), exists[s] {
                exists[s] = false
                count -= 1
                values[s] = Account()
            }
        }
    }

    /// The account at `address`, created as `defaultValue` when there is none; changed in place.
    subscript(address: Address, default defaultValue: @autoclosure () -> Account) -> Account {
        get { self[address] ?? defaultValue() }
        _modify {
            let s = slotCreating(address)
            if !exists[s] {
                exists[s] = true
                count += 1
                values[s] = defaultValue()
            }
            yield &values[s]
        }
    }

    /// Changes the account in slot `s` in place, creating it if needed.
    @inline(__always)
    mutating func modify<R, E: Error>(slot s: Int, _ body: (inout Account) throws(E) -> R) throws(E) -> R {
        if !exists[s] { exists[s] = true; count += 1 }
        return try body(&values[s])
    }

    /// Every existing account's address, sorted.
    func sortedAddresses() -> [Address] {
        var out: [Address] = []
        out.reserveCapacity(count)
        for s in addresses.indices where exists[s] { out.append(addresses[s]) }
        out.sort()
        return out
    }
}

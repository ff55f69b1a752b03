import BallastCrypto

/// Whether a debit may borrow what the account lacks.
/// Runs checked arithmetic, mapping its failure to the ledger's overflow error.
@inline(__always)
func ck<T>(_ body: () throws(LedgerMathError) -> T) throws(LedgerError) -> T {
    do { return try body() } catch { throw .overflow }
}

enum BorrowPolicy {
    /// Never: refuse with `insufficientBalance`.
    case never
    /// A voluntary action (an order, a borrow): portfolio accounts only, caps and pool cash checked.
    case voluntary
    /// A loss, fee, funding or takeover: always posts, as debt if need be.
    case forced
}

extension Ledger {
    /// Supplied (rounded down) and owed (rounded up) amounts of one holding.
    func amounts(_ h: AssetHolding) throws(LedgerError) -> (supplied: Int64, owed: Int64) {
        let pool = pools[Int(h.asset)]
        return (try ck { () throws(LedgerMathError) in try pool.supplied(shares: h.supplyShares) },
                try ck { () throws(LedgerMathError) in try pool.owed(shares: h.debtShares) })
    }

    /// Net amount of `asset`: wallet + supplied - owed.
    func netBalance(_ account: Account, _ asset: AssetID) throws(LedgerError) -> Int64 {
        let h = account.holding(asset)
        let (s, o) = try amounts(h)
        return try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(s).checkedSubtracting(o) }
    }

    /// Changes the account in place, journaling it whole (rare paths: takeovers, mode); the
    /// journal restores it if the transaction fails.
    mutating func modifyAccount(_ address: Address, _ body: (inout Account) throws(LedgerError) -> Void) throws(LedgerError) {
        touch(.account(address))
        try accounts.modify(slot: accounts.slotCreating(address), body)
    }

    /// Changes one holding of the account at `address` in place, journaling only that holding.
    mutating func modifyHolding(_ address: Address, _ asset: AssetID,
                                _ body: (inout AssetHolding) throws(LedgerError) -> Void) throws(LedgerError) {
        let s = touch(address, .holding(asset))
        var h = accounts.values[s].holding(asset)
        try body(&h)
        accounts.modify(slot: s) { $0.setHolding(h) }
    }

    /// Replaces the position of the account at `address` in `position.market`, journaling only it.
    mutating func setPosition(_ address: Address, _ position: PerpPosition) {
        let s = touch(address, .position(position.market))
        accounts.modify(slot: s) { $0.setPosition(position) }
    }

    /// Changes the scalar fields (mode, volume, order count, reserve) of the account at
    /// `address` in place, journaling only them.
    mutating func modifyScalars(_ address: Address,
                                _ body: (inout AccountScalars) throws(LedgerError) -> Void) throws(LedgerError) {
        let s = touch(address, .scalars)
        var v = accounts.values[s].scalars
        try body(&v)
        accounts.modify(slot: s) { $0.scalars = v }
    }

    // MARK: Pool share movements (the only code that changes shares and cash)

    /// Moves `amount` from the wallet into supply shares (rounded down).
    mutating func supplyFromWallet(_ address: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        guard amount > 0 else { return }
        touch(.pool(asset))
        var pool = pools[Int(asset)]
        let shares = try ck { () throws(LedgerMathError) in try pool.supplySharesFor(amount, rounding: .down) }
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            guard h.wallet >= amount else { throw .insufficientBalance(asset: asset, available: h.wallet, needed: amount) }
            h.wallet -= amount
            h.supplyShares = try ck { () throws(LedgerMathError) in try h.supplyShares.checkedAdding(shares) }
        }
        pool.supplyShares = try ck { () throws(LedgerMathError) in try pool.supplyShares.checkedAdding(shares) }
        pool.cash = try ck { () throws(LedgerMathError) in try pool.cash.checkedAdding(amount) }
        pools[Int(asset)] = pool
    }

    /// Moves `amount` of supply into the wallet (shares burnt rounded up, capped at what is held).
    /// A voluntary withdrawal needs the pool to hold the cash; a loss posts regardless.
    mutating func withdrawToWallet(_ address: Address, _ asset: AssetID, _ amount: Int64,
                                   voluntary: Bool = true) throws(LedgerError) {
        guard amount > 0 else { return }
        touch(.pool(asset))
        var pool = pools[Int(asset)]
        if voluntary && pool.cash < amount { throw .insufficientLiquidity(asset: asset, available: max(0, pool.cash)) }
        let h0 = holding(address, asset)
        let supplied = try amounts(h0).supplied
        guard supplied >= amount else { throw .insufficientBalance(asset: asset, available: supplied, needed: amount) }
        let burn = amount == supplied ? h0.supplyShares
            : min(h0.supplyShares, try ck { () throws(LedgerMathError) in try pool.supplySharesFor(amount, rounding: .up) })
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            h.supplyShares -= burn
            h.wallet = try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(amount) }
        }
        pool.supplyShares -= burn
        pool.cash = try ck { () throws(LedgerMathError) in try pool.cash.checkedSubtracting(amount) }
        pools[Int(asset)] = pool
    }

    /// Borrows `amount` into the wallet (debt shares rounded up). Voluntary borrows check pool
    /// cash and caps; forced ones (losses) always post.
    mutating func borrowToWallet(_ address: Address, _ asset: AssetID, _ amount: Int64, voluntary: Bool) throws(LedgerError) {
        guard amount > 0 else { return }
        guard let cfg = config.asset(asset) else { throw .unknownAsset(asset) }
        touch(.pool(asset))
        var pool = pools[Int(asset)]
        let shares = try ck { () throws(LedgerMathError) in try pool.debtSharesFor(amount, rounding: .up) }
        if voluntary, let refusal = borrowRefusal(address, asset, amount, alsoPlanned: 0) { throw refusal }
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            h.debtShares = try ck { () throws(LedgerMathError) in try h.debtShares.checkedAdding(shares) }
            h.wallet = try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(amount) }
        }
        pool.debtShares = try ck { () throws(LedgerMathError) in try pool.debtShares.checkedAdding(shares) }
        pool.cash = try ck { () throws(LedgerMathError) in try pool.cash.checkedSubtracting(amount) }
        pools[Int(asset)] = pool
    }

    /// Why a voluntary borrow of `amount` (on top of `alsoPlanned` already promised from the
    /// same pool) would be refused: no pool, not enough cash, a cap. Nil when it may go ahead.
    func borrowRefusal(_ address: Address, _ asset: AssetID, _ amount: Int64, alsoPlanned: Int64) -> LedgerError? {
        guard let cfg = config.asset(asset) else { return .unknownAsset(asset) }
        guard cfg.borrowable else { return .notBorrowable(asset) }
        let pool = pools[Int(asset)]
        let wanted = Int128(amount) + Int128(alsoPlanned)
        guard Int128(pool.cash) >= wanted else { return .insufficientLiquidity(asset: asset, available: max(0, pool.cash)) }
        guard let total = try? pool.totalBorrowed(), Int128(total) + wanted <= Int128(cfg.borrowCap) else {
            return .capReached(cap: "borrow", limit: cfg.borrowCap)
        }
        guard let mine = try? pool.owed(shares: holding(address, asset).debtShares),
              Int128(mine) + Int128(amount) <= Int128(cfg.userBorrowCap) else {
            return .capReached(cap: "user borrow", limit: cfg.userBorrowCap)
        }
        return nil
    }

    /// Repays up to `amount` of debt from the wallet; returns what was repaid.
    @discardableResult
    mutating func repayFromWallet(_ address: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) -> Int64 {
        let h0 = holding(address, asset)
        guard amount > 0, h0.debtShares > 0, h0.wallet > 0 else { return 0 }
        touch(.pool(asset))
        var pool = pools[Int(asset)]
        let owed = try amounts(h0).owed
        let pay = min(amount, owed, h0.wallet)
        // Paying everything owed clears every share; otherwise burn shares rounded down.
        let burn = pay == owed ? h0.debtShares
            : min(h0.debtShares, try ck { () throws(LedgerMathError) in try pool.debtSharesFor(pay, rounding: .down) })
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            h.debtShares -= burn
            h.wallet -= pay
        }
        pool.debtShares -= burn
        pool.cash = try ck { () throws(LedgerMathError) in try pool.cash.checkedAdding(pay) }
        pools[Int(asset)] = pool
        return pay
    }

    // MARK: Credits and debits (every balance change of a trade, fee, PnL or transfer)

    /// Adds `amount` of `asset`: repays debt first, then a portfolio account supplies the rest
    /// (as far as the caps allow); a standard account keeps it in the wallet.
    mutating func credit(_ address: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        guard amount > 0 else { return }
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            h.wallet = try ck { () throws(LedgerMathError) in try h.wallet.checkedAdding(amount) }
        }
        try settleWallet(address, asset)
    }

    /// Puts the idle wallet balance of `asset` to work: repay debt, then (portfolio) supply.
    mutating func settleWallet(_ address: Address, _ asset: AssetID) throws(LedgerError) {
        let h = holding(address, asset)
        if h.wallet > 0 && h.debtShares > 0 { try repayFromWallet(address, asset, h.wallet) }
        guard mode(address) == .portfolio, let cfg = config.asset(asset), cfg.borrowable else { return }
        let idle = holding(address, asset).wallet
        guard idle > 0 else { return }
        let pool = pools[Int(asset)]
        let total = try ck { () throws(LedgerMathError) in try pool.totalSupplied() }
        let mine = try amounts(holding(address, asset)).supplied
        let room = max(0, min(cfg.supplyCap - total, cfg.userSupplyCap - mine))
        try supplyFromWallet(address, asset, min(idle, room))
    }

    /// Takes `amount` of `asset`: wallet first, then supply, then a borrow as `policy` allows.
    mutating func debit(_ address: Address, _ asset: AssetID, _ amount: Int64, policy: BorrowPolicy) throws(LedgerError) {
        guard amount > 0 else { return }
        let h = holding(address, asset)
        let accountMode = mode(address)
        var missing = amount - min(amount, h.wallet)
        if missing > 0 {
            let supplied = try amounts(h).supplied
            let take = min(missing, supplied)
            try withdrawToWallet(address, asset, take, voluntary: policy != .forced)
            missing -= take
        }
        if missing > 0 {
            switch policy {
            case .never:
                throw .insufficientBalance(asset: asset, available: amount - missing, needed: amount)
            case .voluntary:
                guard accountMode == .portfolio else {
                    throw .insufficientBalance(asset: asset, available: amount - missing, needed: amount)
                }
                try borrowToWallet(address, asset, missing, voluntary: true)
            case .forced:
                try borrowToWallet(address, asset, missing, voluntary: false)
            }
        }
        try modifyHolding(address, asset) { (h: inout AssetHolding) throws(LedgerError) in
            h.wallet -= amount
        }
    }

    /// Nets an asset's buckets: debt is repaid from supply and wallet as far as they go.
    mutating func netDebt(_ address: Address, _ asset: AssetID) throws(LedgerError) {
        let h = holding(address, asset)
        guard h.debtShares > 0 else { return }
        let (supplied, owed) = try amounts(h)
        // Withdrawing to repay at once leaves the pool's cash where it was.
        if supplied > 0 { try withdrawToWallet(address, asset, min(supplied, owed), voluntary: false) }
        try repayFromWallet(address, asset, holding(address, asset).wallet)
    }

    /// Adds `amount` to the insurance fund's `asset` balance.
    mutating func payInsurance(_ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        guard amount != 0 else { return }
        touchInsurance(asset)
        insurance[Int(asset)] = try ck { () throws(LedgerMathError) in try insurance[Int(asset)].checkedAdding(amount) }
    }
}

import BallastCrypto

/// What consensus hands the ledger: the block time and the ordered transactions, whose
/// signatures and chain id the caller has already verified.
public struct BlockInput: Sendable {
    public var timeMs: Int64
    public var transactions: [SignedTransaction]

    public init(timeMs: Int64, transactions: [SignedTransaction]) {
        self.timeMs = timeMs
        self.transactions = transactions
    }
}

/// The outcome of one order of a `placeOrders` action.
public struct OrderOutcome: Equatable, Sendable {
    /// The id the order got (nil when it was rejected before matching).
    public var orderID: OrderID?
    /// Base units filled at once.
    public var filled: Int64
    /// Base units left resting.
    public var resting: Int64
    /// Why it was rejected, when it was.
    public var error: LedgerError?
}

/// One transaction's receipt.
public struct Receipt: Equatable, Sendable {
    /// Position of the transaction in the block.
    public var index: Int
    /// nil on success, else why the action was refused (nothing but the nonce changed).
    public var error: LedgerError?
    /// Per order, for `placeOrders`.
    public var orders: [OrderOutcome] = []
    /// Set while the chain refuses new risk (an unsocialized deficit).
    public var notice: String?

    public var succeeded: Bool { error == nil }
}

/// The result of applying a block.
public struct BlockResult: Sendable {
    public var height: UInt64
    public var stateRoot: Hash256
    /// One per transaction, in the block's order.
    public var receipts: [Receipt]
    /// Accounts taken over by the backstop at the end of the block.
    public var backstopTakeovers: [Address]
    /// Whether positions settled funding in this block.
    public var fundingSettled: Bool
    /// The accounts' history entries, in execution order (see `AccountEvent`).
    public var events: [AccountEvent] = []
}

extension Ledger {
    /// Applies one block: interest accrual, oracle prices, other non-order actions, cancels,
    /// orders (proposal order within each group), funding at an interval boundary, backstop
    /// takeovers, then the state root.
    public mutating func apply(block: BlockInput) -> BlockResult {
        var result = applyDeferringRoot(block: block)
        result.stateRoot = updateRoot()
        return result
    }

    /// `apply(block:)` without its last step: the returned result's `stateRoot` is stale and
    /// `updateStateRoot()` must follow. Lets a benchmark time the root update alone.
    @_spi(Benchmarks)
    public mutating func applyDeferringRoot(block: BlockInput) -> BlockResult {
        let previousTime = global.timeMs
        let now = max(global.timeMs, block.timeMs)
        touch(.global)
        global.height &+= 1
        global.timeMs = now
        events.removeAll(keepingCapacity: true)
        eventTxIndex = nil
        tradeCount = 0

        accrueInterest(to: now)

        // Transactions are read through the buffer, in place rather than copied out.
        let count = block.transactions.count
        var groups: [[Int]] = [[], [], [], []]
        block.transactions.withUnsafeBufferPointer { txs in
            for i in txs.indices { groups[Ledger.group(of: txs[i].transaction.action)].append(i) }
        }
        // The groups partition the indices, so each receipt is initialized exactly once, in
        // place (no placeholder receipts to build and then overwrite).
        var receipts = [Receipt](unsafeUninitializedCapacity: count) { buffer, initialized in
            block.transactions.withUnsafeBufferPointer { txs in
                for (g, indices) in groups.enumerated() {
                    for i in indices { (buffer.baseAddress! + i).initialize(to: execute(txs[i].transaction, index: i)) }
                    if g == 0 { updateOraclePrices() }
                }
            }
            initialized = count
        }

        sampleFundingPremiums(elapsedMs: now - previousTime)
        // Positions opened in this block are indexed before funding walks the holders.
        let beforeFunding = dirtyAccounts.count
        let touched = reindexTouchedAccounts(dirtyAccounts[..<beforeFunding])
        let settled = settleFundingIfDue(blockTimeMs: now)
        let touchedByFunding = reindexTouchedAccounts(dirtyAccounts[beforeFunding...])
        let takeovers = runBackstop(recheck: accountsToRecheck(touched: touched + touchedByFunding))
        if global.deficit > 0 {
            let notice = LedgerError.riskRefused(deficit: global.deficit).description
            for i in receipts.indices { receipts[i].notice = notice }
        }
        return BlockResult(height: global.height, stateRoot: tree.root, receipts: receipts,
                           backstopTakeovers: takeovers, fundingSettled: settled, events: events)
    }

    /// The slots among `slots` (part of the dirty account list), unique, in the order first
    /// listed; those whose holdings or positions changed are re-indexed by exposure.
    mutating func reindexTouchedAccounts(_ slots: ArraySlice<Int32>) -> [Int] {
        let mark = exposure.nextMark(slotCount: accounts.slotCount)
        var unique: [Int] = []
        for s32 in slots {
            let s = Int(s32)
            if exposure.seen[s] != mark {
                exposure.seen[s] = mark
                unique.append(s)
                if exposure.isStale(s) { reindex(slot: s) }
            }
        }
        return unique
    }

    /// The account slot of the signer `key`, remembered in `senderCache`: its address is a
    /// BLAKE2b of the key (which would cost more than many a transaction's action), and the
    /// slot would take a second lookup.
    mutating func senderSlot(_ key: PublicKey) -> Int {
        if let s = senderCache[key] {
            accounts.noteRecent(Int(s))
            return Int(s)
        }
        let s = accounts.slotCreating(key.address)
        // A cache of a pure function (slots never change): emptying it changes no result, and
        // bounds its memory.
        if senderCache.count >= Ledger.senderCacheLimit { senderCache.removeAll(keepingCapacity: true) }
        senderCache[key] = Int32(truncatingIfNeeded: s)
        return s
    }

    /// 0 oracle, 1 other non-order actions, 2 cancels, 3 orders.
    static func group(of action: Action) -> Int {
        switch action {
        case .oraclePrices: return 0
        case .cancel, .cancelAll: return 2
        case .placeOrders: return 3
        default: return 1
        }
    }

    /// Checks and consumes the nonce, then runs the action; a failed action is rolled back.
    mutating func execute(_ tx: Transaction, index: Int) -> Receipt {
        var receipt = Receipt(index: index)
        let slot = senderSlot(tx.signer)
        let sender = accounts.addresses[slot]
        if let error = accounts.values[slot].nonces.check(tx.nonce, blockTimeMs: global.timeMs) {
            receipt.error = error
            return receipt
        }
        // Between transactions (journal off): the nonce stands even if the action fails. Only
        // the nonces change, so the exposure index need not look at the account again.
        markAccountDirty(slot, exposureMayChange: false)
        accounts.modify(slot: slot) { $0.nonces.insert(tx.nonce) }

        beginTransaction()
        eventTxIndex = UInt32(truncatingIfNeeded: index)
        do {
            receipt.orders = try perform(tx.action, sender: sender)
            commitTransaction()
        } catch {
            rollbackTransaction()
            receipt.error = error
        }
        eventTxIndex = nil
        return receipt
    }

    mutating func perform(_ action: Action, sender: Address) throws(LedgerError) -> [OrderOutcome] {
        switch action {
        case .transfer(let to, let asset, let amount): try transfer(from: sender, to: to, asset: asset, amount: amount)
        case .supply(let asset, let amount): try supply(sender, asset, amount)
        case .withdraw(let asset, let amount): try withdraw(sender, asset, amount)
        case .borrow(let asset, let amount): try borrow(sender, asset, amount)
        case .repay(let asset, let amount): try repay(sender, asset, amount)
        case .setMarginMode(let mode): try setMarginMode(sender, mode)
        case .oraclePrices(let prices): try submitOraclePrices(sender, prices)
        case .liquidate(let target): try liquidate(liquidator: sender, target: target)
        case .cancel(let cancels): try cancel(sender, cancels)
        case .cancelAll(let market): try cancelAll(sender, market: market)
        case .placeOrders(let orders): return try placeOrders(sender, orders)
        }
        return []
    }

    func refuseNewRisk() throws(LedgerError) {
        if global.deficit > 0 { throw .riskRefused(deficit: global.deficit) }
    }

    func knownAsset(_ asset: AssetID) throws(LedgerError) -> AssetConfig {
        guard let cfg = config.asset(asset) else { throw .unknownAsset(asset) }
        return cfg
    }

    // MARK: Lending and transfers

    mutating func transfer(from sender: Address, to: Address, asset: AssetID, amount: Int64) throws(LedgerError) {
        _ = try knownAsset(asset)
        guard amount > 0 else { throw .amountNotPositive(amount) }
        guard to != sender else { throw .transferToSelf }
        try refuseNewRisk()
        // Borrowed balances cannot leave: only the wallet and supply pay for a transfer.
        try debit(sender, asset, amount, policy: .never)
        try credit(to, asset, amount)
        try checkRisk(sender)
        let event = TransferEvent(from: sender, to: to, asset: asset, amount: amount)
        emit(sender, .transfer(event))
        emit(to, .transfer(event))
    }

    /// Records a history event of `address` at the current block and transaction.
    mutating func emit(_ address: Address, _ detail: AccountEvent.Detail) {
        events.append(AccountEvent(address: address, height: global.height, timeMs: global.timeMs,
                                   txIndex: eventTxIndex, detail: detail))
    }

    /// The lending event of `amount` of `asset`, with the account's pool position afterwards.
    func lendingEvent(_ address: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) -> LendingEvent {
        let (supplied, owed) = try amounts(holding(address, asset))
        return LendingEvent(asset: asset, amount: amount, suppliedAfter: supplied, owedAfter: owed)
    }

    mutating func supply(_ sender: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        let cfg = try knownAsset(asset)
        guard amount > 0 else { throw .amountNotPositive(amount) }
        guard cfg.borrowable else { throw .notBorrowable(asset) }
        let h = holding(sender, asset)
        if h.wallet < amount { throw .insufficientBalance(asset: asset, available: h.wallet, needed: amount) }
        // Supplying repays debt first.
        let repaid = try repayFromWallet(sender, asset, amount)
        let rest = amount - repaid
        let pool = pools[Int(asset)]
        let total = try ck { () throws(LedgerMathError) in try pool.totalSupplied() }
        if total > cfg.supplyCap - rest { throw .capReached(cap: "supply", limit: cfg.supplyCap) }
        let mine = try amounts(holding(sender, asset)).supplied
        if mine > cfg.userSupplyCap - rest { throw .capReached(cap: "user supply", limit: cfg.userSupplyCap) }
        try supplyFromWallet(sender, asset, rest)
        emit(sender, .supply(try lendingEvent(sender, asset, amount)))
    }

    mutating func withdraw(_ sender: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        _ = try knownAsset(asset)
        guard amount > 0 else { throw .amountNotPositive(amount) }
        try refuseNewRisk()
        try withdrawToWallet(sender, asset, amount)
        try checkRisk(sender)
        emit(sender, .withdraw(try lendingEvent(sender, asset, amount)))
    }

    mutating func borrow(_ sender: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        let cfg = try knownAsset(asset)
        guard amount > 0 else { throw .amountNotPositive(amount) }
        guard cfg.borrowable else { throw .notBorrowable(asset) }
        guard mode(sender) == .portfolio else { throw .borrowingNeedsPortfolioMode }
        try refuseNewRisk()
        // A pool position is supply or debt, never both: own supply is used first.
        let supplied = try amounts(holding(sender, asset)).supplied
        try withdrawToWallet(sender, asset, min(amount, supplied))
        try borrowToWallet(sender, asset, amount - min(amount, supplied), voluntary: true)
        try checkRisk(sender)
        emit(sender, .borrow(try lendingEvent(sender, asset, amount)))
    }

    mutating func repay(_ sender: Address, _ asset: AssetID, _ amount: Int64) throws(LedgerError) {
        _ = try knownAsset(asset)
        guard amount > 0 else { throw .amountNotPositive(amount) }
        let a = account(sender)
        let h = a.holding(asset)
        let owed = try amounts(h).owed
        let pay = min(amount, owed)
        guard pay > 0 else { throw .insufficientBalance(asset: asset, available: 0, needed: amount) }
        let supplied = try amounts(h).supplied
        if h.wallet < pay {
            // Repaying from supply is allowed too (a standard account holding both).
            let fromSupply = min(pay - h.wallet, supplied)
            try withdrawToWallet(sender, asset, fromSupply, voluntary: false)
        }
        let paid = try repayFromWallet(sender, asset, pay)
        if paid < pay { throw .insufficientBalance(asset: asset, available: paid, needed: pay) }
        emit(sender, .repay(try lendingEvent(sender, asset, paid)))
    }

    mutating func setMarginMode(_ sender: Address, _ mode: MarginMode) throws(LedgerError) {
        let a = account(sender)
        guard a.mode != mode else { throw .modeUnchanged }
        guard a.openOrders == 0 else { throw .hasOpenOrders }
        if mode == .portfolio {
            try refuseNewRisk()
            let value = try evaluate(accountRisk(a)).portfolio.liquidationValue
            let e = config.genesis.eligibility
            if value >= e.maxAccountValue {
                throw .notEligible(reason: "account value \(value) is not below the maximum \(e.maxAccountValue)")
            }
            if a.weightedVolume < e.minWeightedVolume && value < e.minAccountValue {
                throw .notEligible(reason: "weighted volume \(a.weightedVolume) < \(e.minWeightedVolume) and account value \(value) < \(e.minAccountValue)")
            }
        }
        try modifyAccount(sender) { (acct: inout Account) throws(LedgerError) in acct.mode = mode }
        if mode == .portfolio {
            // Idle balances go to work.
            for h in account(sender).holdings { try settleWallet(sender, h.asset) }
        }
        try checkRisk(sender)
    }

    // MARK: Interest

    /// Accrues every pool to `now` and sweeps the surplus (reserve and dust) to the insurance fund.
    mutating func accrueInterest(to now: Int64) {
        for i in pools.indices {
            var pool = pools[i]
            guard pool.lastAccrualMs < now else { continue }
            touch(.pool(AssetID(i)))
            do {
                try pool.accrue(to: now, model: config.rateModels[i])
                let sweep = min(try pool.surplus(), pool.cash)
                if sweep > 0 {
                    pool.cash -= sweep
                    touch(.insurance)
                    insurance[i] = try insurance[i].checkedAdding(sweep)
                }
            } catch {
                // An index that would overflow stops growing; the pool keeps its last values.
                pool = pools[i]
                pool.lastAccrualMs = now
            }
            pools[i] = pool
        }
    }
}

import BallastCrypto

extension Ledger {
    /// The largest oracle price accepted (2^60 USDC base units per unit).
    public static let maxOraclePrice: Int64 = 1 << 60

    /// Records a validator's prices (block time is their time). USDC's price is fixed.
    mutating func submitOraclePrices(_ sender: Address, _ prices: [OraclePrice]) throws(LedgerError) {
        guard let validator = config.validatorIndex[sender] else { throw .notValidator }
        for p in prices {
            guard p.asset != 0, Int(p.asset) < oracles.count else { throw .unknownAsset(p.asset) }
            guard p.price > 0 else { throw .amountNotPositive(p.price) }
            // Far beyond any real price; keeps every price +- band and product in range.
            guard p.price <= Ledger.maxOraclePrice else { throw .overflow }
            touch(.oracle(p.asset))
            var state = oracles[Int(p.asset)]
            let entry = OracleSubmission(validator: validator, price: p.price, timeMs: global.timeMs)
            let i = lowerBound(state.submissions, validator, \.validator)
            if i < state.submissions.count && state.submissions[i].validator == validator {
                state.submissions[i] = entry
            } else {
                state.submissions.insert(entry, at: i)
            }
            oracles[Int(p.asset)] = state
        }
    }

    /// Sets each asset's price to the stake-weighted median of the submissions younger than the
    /// oracle's maximum age, when those carry more than 2/3 of the stake; otherwise keeps it.
    mutating func updateOraclePrices() {
        let now = global.timeMs
        let maxAge = config.genesis.oracle.maxAgeMs
        let stakes = config.genesis.validators.map(\.stake)
        for i in oracles.indices.dropFirst() {
            let fresh = oracles[i].submissions.filter { now - $0.timeMs < maxAge }
            let freshStake = fresh.reduce(Int128(0)) { $0 + Int128(stakes[Int($1.validator)]) }
            guard freshStake * 3 > Int128(config.totalStake) * 2 else { continue }
            let sorted = fresh.sorted { ($0.price, $0.validator) < ($1.price, $1.validator) }
            var cumulative: Int128 = 0
            var median = oracles[i].price
            for s in sorted {
                cumulative += Int128(stakes[Int(s.validator)])
                if cumulative * 2 >= freshStake { median = s.price; break }
            }
            if median != oracles[i].price {
                touch(.oracle(AssetID(i)))
                oracles[i].price = median
            }
        }
    }
}

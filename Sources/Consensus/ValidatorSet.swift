import Codec
import BallastCrypto

/// One validator: its signing key and its voting stake.
public struct Validator: Hashable, Sendable {
    public var publicKey: PublicKey
    public var stake: UInt64

    public init(publicKey: PublicKey, stake: UInt64) {
        self.publicKey = publicKey
        self.stake = stake
    }
}

/// Why a validator set was refused.
public enum ValidatorSetError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case tooMany(Int)
    case zeroStake(index: Int)
    case duplicateKey(index: Int)
    case stakeOverflow

    public var description: String {
        switch self {
        case .empty: return "a validator set needs at least one validator"
        case .tooMany(let n): return "\(n) validators exceed the maximum \(ConsensusLimits.maxValidators)"
        case .zeroStake(let i): return "validator \(i) has zero stake"
        case .duplicateKey(let i): return "validator \(i) repeats an earlier public key"
        case .stakeOverflow: return "total stake does not fit in 64 bits"
        }
    }
}

/// The validators of the chain, fixed at genesis, in leader order.
///
/// A quorum is any set holding more than 2/3 of the total stake; with at most
/// 1/3 of the stake Byzantine, two quorums always share an honest validator.
public struct ValidatorSet: Sendable {
    public let validators: [Validator]
    public let totalStake: UInt64
    /// Smallest stake that is more than 2/3 of the total.
    public let quorumStake: UInt64
    /// Smallest stake that is more than 1/3 of the total: such a set holds at least one honest validator.
    public let validityStake: UInt64
    private let indexByKey: [PublicKey: ValidatorIndex]

    public init(_ validators: [Validator]) throws(ValidatorSetError) {
        guard !validators.isEmpty else { throw .empty }
        guard validators.count <= ConsensusLimits.maxValidators else { throw .tooMany(validators.count) }
        var total: UInt64 = 0
        var byKey: [PublicKey: ValidatorIndex] = [:]
        for (i, v) in validators.enumerated() {
            guard v.stake > 0 else { throw .zeroStake(index: i) }
            guard byKey[v.publicKey] == nil else { throw .duplicateKey(index: i) }
            byKey[v.publicKey] = ValidatorIndex(i)
            let (sum, overflow) = total.addingReportingOverflow(v.stake)
            guard !overflow else { throw .stakeOverflow }
            total = sum
        }
        self.validators = validators
        self.totalStake = total
        // floor(2T/3) + 1 and floor(T/3) + 1, computed without overflowing 2T.
        self.quorumStake = (total / 3) * 2 + ((total % 3) * 2) / 3 + 1
        self.validityStake = total / 3 + 1
        self.indexByKey = byKey
    }

    /// Equal stake of 1 for each key.
    public init(equalStake keys: [PublicKey]) throws(ValidatorSetError) {
        try self.init(keys.map { Validator(publicKey: $0, stake: 1) })
    }

    public var count: Int { validators.count }

    /// Round-robin leader of `round`.
    public func leader(of round: Round) -> ValidatorIndex {
        ValidatorIndex(round % UInt64(validators.count))
    }

    /// The index of `key`, if it is a validator.
    public func index(of key: PublicKey) -> ValidatorIndex? { indexByKey[key] }

    /// The validator at `index`, or nil for an index outside the set (data from outside).
    public func validator(_ index: ValidatorIndex) -> Validator? {
        Int(index) < validators.count ? validators[Int(index)] : nil
    }

    /// Whether `stake` is more than 2/3 of the total.
    public func isQuorum(_ stake: UInt64) -> Bool { stake >= quorumStake }
}

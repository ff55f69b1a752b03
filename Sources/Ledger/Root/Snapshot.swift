import Codec
import BallastCrypto

/// Why a snapshot was refused.
public enum SnapshotError: Error, Equatable, Sendable, CustomStringConvertible {
    case codec(CodecError)
    case genesis(GenesisError)
    case inconsistent(String)

    public var description: String {
        switch self {
        case .codec(let e): return "snapshot encoding: \(e)"
        case .genesis(let e): return "snapshot genesis: \(e)"
        case .inconsistent(let why): return "snapshot inconsistent: \(why)"
        }
    }
}

extension Ledger {
    static let snapshotMagic: [UInt8] = Array("ballast/snapshot/v1".utf8)

    /// The whole state in canonical form: the genesis (JSON), then every entry as
    /// (key, value bytes) in key order, the same bytes the state root hashes.
    public func snapshot() -> [UInt8] {
        var w = ByteWriter(capacity: 1 << 16)
        w.writeRaw(Ledger.snapshotMagic)
        w.writeBytes(config.genesis.encodeJSON())
        let keys = allKeys()
        var entries: [(StateKey, [UInt8])] = []
        entries.reserveCapacity(keys.count)
        for key in keys { if let v = value(of: key) { entries.append((key, v)) } }
        w.writeLength(entries.count)
        for (key, v) in entries {
            w.write(key)
            w.writeBytes(v)
        }
        return w.bytes
    }

    /// Restores a state from `snapshot()`; its root equals the original's.
    public init(snapshot bytes: [UInt8]) throws(SnapshotError) {
        var result: Result<Ledger, SnapshotError>!
        bytes.withUnsafeBytes { raw in
            result = Result { () throws(SnapshotError) -> Ledger in try Ledger.decodeSnapshot(raw) }
        }
        self = try result.get()
    }

    private static func decodeSnapshot(_ raw: UnsafeRawBufferPointer) throws(SnapshotError) -> Ledger {
        var r = ByteReader(raw)
        do {
            let magic = try r.readRaw(count: snapshotMagic.count)
            guard Array(magic) == snapshotMagic else { throw SnapshotError.inconsistent("not a Ballast snapshot") }
            let genesisJSON = try r.readBytes(field: "genesis", maximum: 1 << 24)
            var ledger: Ledger
            do { ledger = try Ledger(genesis: try Genesis.decode(json: genesisJSON)) } catch { throw SnapshotError.genesis(error) }
            ledger.accounts = AccountTable()
            ledger.senderCache = [:]
            ledger.books = ledger.books.map { OrderBook(market: $0.market) }
            let count = try r.readLength(field: "entries", maximum: Int.max)
            var previous: StateKey?
            for _ in 0..<count {
                let key: StateKey = try r.read()
                let value = try r.readBytes(field: "value", maximum: 1 << 24)
                if let previous, !(previous < key) { throw SnapshotError.inconsistent("entries out of order") }
                previous = key
                try ledger.load(key, value)
            }
            try r.finish()
            guard ledger.global.genesisHash == Blake2b.hash256(ledger.config.genesis.encodeJSON()) else {
                throw SnapshotError.inconsistent("state is from another genesis")
            }
            ledger.rebuildTree()
            ledger.rebuildExposure()
            return ledger
        } catch let e as SnapshotError {
            throw e
        } catch let e as CodecError {
            throw .codec(e)
        } catch {
            throw .inconsistent("\(error)")
        }
    }

    private mutating func load(_ key: StateKey, _ value: [UInt8]) throws {
        func inRange(_ i: UInt32, _ n: Int) throws {
            if Int(i) >= n { throw SnapshotError.inconsistent("\(key) out of range") }
        }
        switch key {
        case .global: global = try GlobalState(canonicalBytes: value)
        case .insurance:
            let amounts: [Int64] = try value.withUnsafeBytes { raw throws(CodecError) in
                var r = ByteReader(raw)
                let a: [Int64] = try r.readArray(field: "insurance", maximum: insurance.count)
                try r.finish()
                return a
            }
            guard amounts.count == insurance.count else { throw SnapshotError.inconsistent("insurance size") }
            insurance = amounts
        case .pool(let a): try inRange(a, pools.count); pools[Int(a)] = try LendingPool(canonicalBytes: value)
        case .oracle(let a): try inRange(a, oracles.count); oracles[Int(a)] = try OracleState(canonicalBytes: value)
        case .market(let m): try inRange(m, markets.count); markets[Int(m)] = try MarketState(canonicalBytes: value)
        case .order(let m, let id):
            try inRange(m, books.count)
            let order = try BookOrder(canonicalBytes: value)
            guard order.id == id else { throw SnapshotError.inconsistent("order id mismatch") }
            try books[Int(m)].insert(order)
        case .account(let a): accounts[a] = try Account(canonicalBytes: value)
        }
    }
}

import Codec
import BallastCrypto
import Foundation
import Ledger
import TestSupport
import Testing

@Suite struct WireGoldenTests {
    @Test func keyAndAddress() {
        #expect(Golden.key.publicKey.hex == Golden.publicKey)
        #expect(Golden.key.address.description == Golden.address)
    }

    @Test(arguments: Golden.vectors.map(\.name))
    func transactionMatchesPinnedBytes(name: String) throws {
        let vector = try #require(Golden.vectors.first { $0.name == name })
        let tx = Golden.transaction(vector.action)
        #expect(Hex.encode(tx.canonicalBytes) == vector.hex)
        let decoded = try SignedTransaction(canonicalBytes: Hex.decode(vector.hex))
        #expect(decoded == tx)
        #expect(decoded.hasValidSignature)
        #expect(decoded.hasValidSignature(canonicalBytes: try Hex.decode(vector.hex)))
        try decoded.verify(chainID: Golden.chainID)
        #expect(decoded.transaction.action.kind.name == name)
    }

    /// docs/wire.md shows, for every action, the JSON form and the golden bytes;
    /// both must be what the code produces.
    @Test func docsShowTheSameBytes() throws {
        let docs = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/wire.md"), encoding: .utf8)
        let examples = wireExamples(docs)
        #expect(examples.map(\.name) == Golden.vectors.map(\.name))
        for example in examples {
            let vector = try #require(Golden.vectors.first { $0.name == example.name })
            #expect(example.hex == vector.hex, "docs/wire.md hex for \(example.name)")
            let action = try JSONDecoder().decode(Action.self, from: Data(example.json.utf8))
            #expect(action == vector.action, "docs/wire.md JSON for \(example.name)")
        }
    }

    @Test(arguments: Golden.vectors.map(\.name))
    func jsonRoundTrip(name: String) throws {
        let vector = try #require(Golden.vectors.first { $0.name == name })
        let tx = Golden.transaction(vector.action)
        let json = try JSONEncoder().encode(tx)
        #expect(try JSONDecoder().decode(SignedTransaction.self, from: json) == tx)
    }

    /// A flipped bit anywhere in a signed transaction makes it fail: either it no
    /// longer decodes, or its signature no longer verifies.
    @Test(arguments: ["order", "transfer", "oracle"])
    func everyFlippedBitFails(name: String) throws {
        let vector = try #require(Golden.vectors.first { $0.name == name })
        let bytes = try Hex.decode(vector.hex)
        for bit in 0..<(bytes.count * 8) {
            var mutated = bytes
            mutated[bit / 8] ^= 1 << UInt8(bit % 8)
            if let tx = try? SignedTransaction(canonicalBytes: mutated) {
                #expect(!tx.hasValidSignature, "bit \(bit) still verifies")
                #expect(!tx.hasValidSignature(canonicalBytes: mutated), "bit \(bit) still verifies from the bytes")
                #expect(throws: (any Error).self) { try tx.verify(chainID: Golden.chainID) }
            }
        }
    }

    @Test func wrongChainFails() throws {
        let tx = Golden.transaction(.setMarginMode(.portfolio))
        #expect(throws: TransactionError.wrongChain(expected: "ballast-mainnet", actual: Golden.chainID)) {
            try tx.verify(chainID: "ballast-mainnet")
        }
        // Re-labelling the chain breaks the signature, since the chain id is signed.
        var relabelled = tx
        relabelled.transaction.chainID = "ballast-mainnet"
        #expect(throws: TransactionError.badSignature) { try relabelled.verify(chainID: "ballast-mainnet") }
    }

    @Test func malformedTransactionsGetTypedErrors() throws {
        let bytes = try Hex.decode(Golden.vectors[0].hex)
        #expect(throws: CodecError.trailingBytes(count: 1)) { try SignedTransaction(canonicalBytes: bytes + [0]) }
        var badVersion = bytes
        badVersion[0] = 2
        #expect(throws: CodecError.unsupportedVersion(type: "SignedTransaction", version: 2)) {
            try SignedTransaction(canonicalBytes: badVersion)
        }
        // The action tag sits after version (1), chain id (1 + 15), signer (32) and nonce (8).
        var badTag = bytes
        badTag[57] = 99
        #expect(throws: CodecError.unknownTag(type: "Kind", tag: 99)) { try SignedTransaction(canonicalBytes: badTag) }
        var longChain = ByteWriter()
        longChain.write(UInt8(1))
        longChain.writeString(String(repeating: "c", count: 65))
        #expect(throws: CodecError.lengthTooLarge(field: "chainId", length: 65, maximum: 64)) {
            try SignedTransaction(canonicalBytes: longChain.bytes)
        }
    }

    @Test func randomTransactionsRoundTrip() throws {
        var g = SplitMix64(seed: 11)
        let key = Golden.key
        for _ in 0..<1_000 {
            let tx = Transaction(chainID: "c\(g.next() % 100)", signer: key.publicKey, nonce: g.next(),
                                 action: randomAction(&g)).signed(with: key)
            let bytes = tx.canonicalBytes
            let decoded = try SignedTransaction(canonicalBytes: bytes)
            #expect(decoded == tx)
            #expect(decoded.canonicalBytes == bytes)
            #expect(decoded.id == tx.id)
            #expect(try JSONDecoder().decode(Action.self, from: JSONEncoder().encode(tx.transaction.action)) == tx.transaction.action)
        }
    }

    /// Random and mutated inputs never crash the decoder; each is refused with a
    /// typed error or, where it decodes, re-encodes to exactly the same bytes.
    /// CI runs 100,000 cases; BALLAST_FUZZ_CASES raises it.
    @Test func fuzzedTransactionsAreRejectedOrCanonical() throws {
        var g = SplitMix64(seed: 12)
        let corpus = try Golden.vectors.map { try Hex.decode($0.hex) }
        var decoded = 0, refused = 0
        for i in 0..<testSize("BALLAST_FUZZ_CASES", default: 100_000) {
            var input: [UInt8]
            if i % 5 == 0 {
                input = g.bytes(Int.random(in: 0...300, using: &g))
                if !input.isEmpty { input[0] = 1 }  // get past the version byte more often
            } else {
                input = corpus[i % corpus.count]
                for _ in 0..<Int.random(in: 1...4, using: &g) where !input.isEmpty {
                    let at = Int.random(in: 0..<input.count, using: &g)
                    switch g.next() % 5 {
                    case 0: input[at] ^= UInt8(truncatingIfNeeded: g.next() | 1)
                    case 1: input.remove(at: at)
                    case 2: input.insert(UInt8(truncatingIfNeeded: g.next()), at: at)
                    case 3: input.removeLast(Int.random(in: 0..<input.count, using: &g))
                    default: input[at] = [0x00, 0x01, 0x7f, 0x80, 0xff][Int(g.next() % 5)]
                    }
                }
            }
            do {
                let tx = try SignedTransaction(canonicalBytes: input)
                decoded += 1
                if tx.canonicalBytes != input { Issue.record("non-canonical decode at case \(i)") }
            } catch {
                refused += 1
            }
        }
        #expect(decoded > 0 && refused > 0)
    }
}

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The `### name`, ```json and ```hex blocks of docs/wire.md's examples.
func wireExamples(_ markdown: String) -> [(name: String, json: String, hex: String)] {
    var out: [(String, String, String)] = []
    var name: String?, json: String?
    var block: String?, lines: [String] = []
    for line in markdown.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if let kind = block {
            if line == "```" {
                if kind == "json" { json = lines.joined() }
                if kind == "hex", let n = name, let j = json { out.append((n, j, lines.joined())) ; name = nil; json = nil }
                block = nil
            } else {
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
        } else if line.hasPrefix("### ") {
            name = String(line.dropFirst(4))
        } else if line == "```json" || line == "```hex" {
            block = String(line.dropFirst(3)); lines = []
        }
    }
    return out
}

func randomAction(_ g: inout SplitMix64) -> Action {
    func cloid(_ g: inout SplitMix64) -> ClientOrderID? {
        Bool.random(using: &g) ? ClientOrderID(bytes: g.bytes(16)) : nil
    }
    func i64(_ g: inout SplitMix64) -> Int64 { Int64(bitPattern: g.next()) }
    let count = Int.random(in: 1...5, using: &g)
    switch g.next() % 11 {
    case 0:
        return .placeOrders((0..<count).map { _ in
            OrderRequest(market: UInt32(truncatingIfNeeded: g.next()), side: Bool.random(using: &g) ? .buy : .sell,
                         price: i64(&g), size: i64(&g), timeInForce: TimeInForce.allCases.randomElement(using: &g)!,
                         reduceOnly: .random(using: &g), clientID: cloid(&g))
        })
    case 1:
        return .cancel((0..<count).map { _ in
            Bool.random(using: &g) ? .order(market: UInt32(truncatingIfNeeded: g.next()), orderID: g.next())
                : .client(market: UInt32(truncatingIfNeeded: g.next()), clientID: ClientOrderID(bytes: g.bytes(16))!)
        })
    case 2: return .cancelAll(market: Bool.random(using: &g) ? UInt32(truncatingIfNeeded: g.next()) : nil)
    case 3: return .transfer(to: Address(bytes: g.bytes(20))!, asset: UInt32(g.next() % 8), amount: i64(&g))
    case 4: return .supply(asset: UInt32(g.next() % 8), amount: i64(&g))
    case 5: return .withdraw(asset: UInt32(g.next() % 8), amount: i64(&g))
    case 6: return .borrow(asset: UInt32(g.next() % 8), amount: i64(&g))
    case 7: return .repay(asset: UInt32(g.next() % 8), amount: i64(&g))
    case 8: return .liquidate(target: Address(bytes: g.bytes(20))!)
    case 9: return .setMarginMode(Bool.random(using: &g) ? .standard : .portfolio)
    default:
        return .oraclePrices((0..<count).map { _ in OraclePrice(asset: UInt32(g.next() % 8), price: i64(&g)) })
    }
}

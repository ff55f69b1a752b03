#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Codec
import Foundation
import Ledger
import Node
import NodeTestSupport
import Testing

/// `POST /v1/txs` (a batch, binary or JSON) and binary `POST /v1/tx`: each transaction gets its
/// own answer, in order, and the admitted ones commit.
@Suite(.serialized) struct BatchSubmitTests {
    struct Answer: Decodable {
        struct Item: Decodable {
            var txId: String?
            var error: [String: String]?
        }
        var accepted: Int
        var results: [Item]
    }

    static func post(_ port: Int, _ path: String, _ body: [UInt8], binary: Bool) async throws -> (Int, Data) {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw NodeHalt("bad URL") }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(body)
        request.setValue(binary ? "application/octet-stream" : "application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    @Test func eachTransactionOfABatchIsAnsweredInOrderAndTheAdmittedOnesCommit() async throws {
        let node = try await SingleNode.start()
        defer { Task { await node.stop() } }
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let receiver = try SingleNode.key("batch-receiver").address
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        func transfer(_ k: UInt64, amount: Int64) -> [UInt8] {
            Transaction(chainID: "ballast-testnet-1", signer: faucet.publicKey, nonce: now + k,
                        action: .transfer(to: receiver, asset: 0, amount: amount)).signed(with: faucet).canonicalBytes
        }
        let good = transfer(0, amount: 1_000)
        var forged = transfer(1, amount: 2_000)
        forged[forged.count - 1] ^= 1  // a bit of the signature
        let binary = TransactionBatch([good, forged, good]).canonicalBytes
        let (status, data) = try await Self.post(node.port, "/v1/txs", binary, binary: true)
        #expect(status == 200)
        let answer = try JSONDecoder().decode(Answer.self, from: data)
        #expect(answer.accepted == 1)
        #expect(answer.results.map(\.txId) == ["0x" + Blake2b.hash256(good).hex, nil, nil])
        #expect(answer.results.map { $0.error?["code"] } == [nil, "bad_signature", "duplicate_tx"])

        // The JSON form: one transaction as hex, one in its JSON form.
        let second = transfer(2, amount: 3_000)
        let third = try SignedTransaction(canonicalBytes: transfer(3, amount: 4_000))
        let json = "[\"0x\(Hex.encode(second))\", \(String(decoding: try JSONEncoder().encode(third), as: UTF8.self))]"
        let (status2, data2) = try await Self.post(node.port, "/v1/txs", Array(json.utf8), binary: false)
        #expect(status2 == 200)
        let answer2 = try JSONDecoder().decode(Answer.self, from: data2)
        #expect(answer2.accepted == 2)
        #expect(answer2.results.map(\.txId) == ["0x" + Blake2b.hash256(second).hex, "0x" + third.id.hex])

        // A single transaction as raw bytes.
        let fourth = transfer(4, amount: 5_000)
        let (status3, _) = try await Self.post(node.port, "/v1/tx", fourth, binary: true)
        #expect(status3 == 202)

        for bytes in [good, second, third.canonicalBytes, fourth] {
            let receipt = await node.runtime.waitForCommit(Blake2b.hash256(bytes), timeout: .seconds(30))
            #expect(receipt?.ok == true)
        }
        let balance = await node.runtime.withLedger { $0.account(receiver).holding(0).wallet }
        #expect(balance == 1_000 + 3_000 + 4_000 + 5_000)
    }

    @Test func malformedBatchesAreRefusedWithACodeAndChangeNothing() async throws {
        let node = try await SingleNode.start()
        defer { Task { await node.stop() } }
        let tooMany = "[" + Array(repeating: "\"00\"", count: HTTPAPI.maxBatchTransactions + 1).joined(separator: ",") + "]"
        let cases: [(body: [UInt8], binary: Bool, code: String)] = [
            ([0x03, 0x01], true, "bad_batch"),                       // says 3 transactions, holds part of one
            (TransactionBatch([[1, 2]]).canonicalBytes + [0], true, "bad_batch"),  // trailing byte
            ([0x80, 0x00], true, "bad_batch"),                       // non-minimal LEB128 count
            (TransactionBatch([]).canonicalBytes, true, "empty_batch"),
            (Array("[".utf8), false, "bad_json"),
            (Array("[\"0xzz\"]".utf8), false, "bad_hex"),
            (Array("[]".utf8), false, "empty_batch"),
            (Array(tooMany.utf8), false, "batch_too_large"),
        ]
        for c in cases {
            let (status, data) = try await Self.post(node.port, "/v1/txs", c.body, binary: c.binary)
            #expect(status == 400, "\(c.code)")
            let code = (try? JSONDecoder().decode([String: [String: String]].self, from: data))?["error"]?["code"]
            #expect(code == c.code)
        }
        #expect(node.runtime.mempool.count == 0)
    }
}

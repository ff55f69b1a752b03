#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Codec
import Foundation
import Ledger
import Node
import NodeTestSupport
import TestSupport
import Testing

/// Malformed requests of every kind get a 4xx with an error code, and change nothing.
@Suite(.serialized) struct HostileHTTPTests {
    @Test func malformedRequestsGet4xxAndChangeNothing() async throws {
        // No rate limit here: every request must reach the parsing it is aimed at.
        let node = try await SingleNode.start { $0.rpc.rateLimitPerSecond = 1_000_000 }
        defer { Task { await node.stop() } }
        let base = "http://127.0.0.1:\(node.port)"
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let good = Transaction(chainID: "ballast-testnet-1", signer: faucet.publicKey, nonce: UInt64(Date().timeIntervalSince1970 * 1000),
                               action: .transfer(to: try SingleNode.key("x").address, asset: 0, amount: 1)).signed(with: faucet).canonicalBytes
        let faucetBefore = await node.runtime.withLedger { $0.account(faucet.address) }
        var g = SplitMix64(seed: 99)

        /// One malformed request of kind `k`.
        func request(_ k: Int) -> URLRequest {
            func post(_ path: String, _ body: Data) -> URLRequest {
                var r = URLRequest(url: URL(string: base + path)!)
                r.httpMethod = "POST"
                r.httpBody = body
                r.timeoutInterval = 30
                return r
            }
            func get(_ path: String) -> URLRequest {
                var r = URLRequest(url: URL(string: base + path)!)
                r.timeoutInterval = 30
                return r
            }
            func postBinary(_ path: String, _ body: [UInt8]) -> URLRequest {
                var r = post(path, Data(body))
                r.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
                return r
            }
            switch k % 15 {
            case 0: return post("/v1/tx", Data(Hex.encode(g.bytes(Int(g.next() % 300))).utf8))          // random bytes as hex
            case 1: return post("/v1/tx", Data("zz\(g.next())".utf8))                                      // not hex
            case 2: return post("/v1/tx", Data("{\"chainId\": 5, \"nonce\": [\(g.next() % 9)]}".utf8))     // bad JSON shape
            case 3: return post("/v1/tx", Data("{\"chainId\":\"ballast-testnet-1\",".utf8))               // truncated JSON
            case 4:                                                                                        // a flipped bit in a good tx
                var bytes = good
                let bit = Int(g.next() % UInt64(bytes.count * 8))
                bytes[bit / 8] ^= 1 << UInt8(bit % 8)
                return post("/v1/tx", Data(Hex.encode(bytes).utf8))
            case 5: return post("/v1/tx", Data(Hex.encode(Array(good.dropLast(Int(g.next() % 20) + 1))).utf8))  // truncated tx
            case 6: return post("/v1/tx", Data(repeating: 0x41, count: 300_000))                           // oversize body
            case 7: return get("/v1/tx/0x\(Hex.encode(g.bytes(Int(g.next() % 40))))")                    // bad or unknown id
            case 8: return get("/v1/accounts/0x\(Hex.encode(g.bytes(Int(g.next() % 30))))zz")             // bad address
            case 9: return get("/v1/markets/\(Int64(bitPattern: g.next()))/book?levels=\(Int64(bitPattern: g.next()))")
            case 10: return get("/v1/blocks/-\(g.next() % 1000)")                                          // bad height
            case 11: return postBinary("/v1/txs", g.bytes(Int(g.next() % 300)))                           // random binary batch
            case 12: return post("/v1/txs", Data("[\"\(Hex.encode(g.bytes(Int(g.next() % 40))))z\"]".utf8))  // bad hex in a batch
            case 13:                                                                                       // a truncated binary batch
                let batch = TransactionBatch([good, good]).canonicalBytes
                return postBinary("/v1/txs", Array(batch.dropLast(Int(g.next() % UInt64(batch.count - 1)) + 1)))
            default: return get("/v1/\(Hex.encode(g.bytes(4)))/nothing")                                  // unknown route
            }
        }

        let total = testSize("BALLAST_HOSTILE_REQUESTS", default: 10_000)
        var statuses: [Int: Int] = [:]
        var withoutCode = 0
        var k = 0
        while k < total {
            let batch = (k..<min(k + 32, total)).map { request($0) }
            k += batch.count
            let answers = try await withThrowingTaskGroup(of: (Int, Data).self) { group in
                for r in batch {
                    group.addTask {
                        let (data, response) = try await URLSession.shared.data(for: r)
                        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
                    }
                }
                return try await group.reduce(into: [(Int, Data)]()) { $0.append($1) }
            }
            for (status, data) in answers {
                statuses[status, default: 0] += 1
                if (try? JSONDecoder().decode([String: [String: String]].self, from: data))?["error"]?["code"] == nil { withoutCode += 1 }
            }
        }
        #expect(statuses.keys.allSatisfy { (400..<500).contains($0) && $0 != 429 }, "statuses: \(statuses)")
        #expect(Set(statuses.keys) == [400, 404, 413], "statuses: \(statuses)")
        #expect(statuses.values.reduce(0, +) == total)
        #expect(withoutCode == 0)
        // Nothing was admitted and the faucet's account is as it was.
        #expect(node.runtime.mempool.count == 0)
        let faucetAfter = await node.runtime.withLedger { $0.account(faucet.address) }
        #expect(faucetAfter == faucetBefore)
        // The node still works: the good transaction commits.
        let id = try await node.runtime.submit(good)
        let receipt = await node.runtime.waitForCommit(id, timeout: .seconds(30))
        #expect(receipt?.ok == true)
    }
}

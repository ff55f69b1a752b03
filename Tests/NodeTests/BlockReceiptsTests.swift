#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Codec
import Foundation
import Ledger
@testable import Node
import NodeTestSupport
import Testing

/// `GET /v1/blocks/{height}/receipts` in its two forms: JSON by default, the binary
/// `BlockReceipts` with `Accept: application/octet-stream`; and the binary form's decoder.
@Suite(.serialized) struct BlockReceiptsTests {
    static func get(_ port: Int, _ path: String, binary: Bool) async throws -> (status: Int, contentType: String?, body: Data) {
        guard let url = URL(string: "http://127.0.0.1:\(port)\(path)") else { throw NodeHalt("bad URL") }
        var request = URLRequest(url: url)
        if binary { request.setValue("application/octet-stream", forHTTPHeaderField: "Accept") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        return (http?.statusCode ?? 0, http?.value(forHTTPHeaderField: "Content-Type"), data)
    }

    @Test func theRouteAnswersJSONByDefaultAndTheBinaryFormWhenAsked() async throws {
        let node = try await SingleNode.start()
        defer { Task { await node.stop() } }
        let genesis = try SingleNode.testnetGenesis()
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let receiver = try SingleNode.key("receipts-receiver").address
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        // A resting spot bid 3% under BTC's price (an order outcome with its id), a transfer that
        // succeeds and one the faucet cannot pay (an error outcome), all in one submission burst.
        let btc = genesis.markets[0], price = genesis.assets[Int(btc.base)].initialPrice * 97 / 100 / btc.tick * btc.tick
        let actions: [Action] = [
            .placeOrders([OrderRequest(market: 0, side: .buy, price: price, size: btc.lot * 1_000)]),
            .transfer(to: receiver, asset: 0, amount: 5_000),
            .transfer(to: receiver, asset: 0, amount: Int64.max),
        ]
        var ids: [Hash256] = []
        for (k, action) in actions.enumerated() {
            let tx = Transaction(chainID: "ballast-testnet-1", signer: faucet.publicKey, nonce: now + UInt64(k), action: action).signed(with: faucet)
            ids.append(try await node.runtime.submit(tx.canonicalBytes))
        }
        var heights = Set<UInt64>()
        for id in ids {
            let receipt = try #require(await node.runtime.waitForCommit(id, timeout: .seconds(30)))
            heights.insert(receipt.height)
        }

        var seen: [ReceiptRecord] = []
        for height in heights.sorted() {
            let json = try await Self.get(node.port, "/v1/blocks/\(height)/receipts", binary: false)
            #expect(json.status == 200 && json.contentType?.hasPrefix("application/json") == true)
            let records = try JSONDecoder().decode([ReceiptRecord].self, from: json.body)

            let binary = try await Self.get(node.port, "/v1/blocks/\(height)/receipts", binary: true)
            #expect(binary.status == 200 && binary.contentType == "application/octet-stream")
            let bytes = [UInt8](binary.body)
            let block = try BlockReceipts(canonicalBytes: bytes)
            #expect(block.height == height)
            #expect(block.records == records)
            // Canonical: the node's copy of the stored outcomes is what encoding the decoded value gives.
            #expect(block.canonicalBytes == bytes)
            #expect(bytes.count < json.body.count)
            seen += records
        }
        let byId = Dictionary(uniqueKeysWithValues: seen.map { ($0.txId, $0) })
        let order = try #require(byId["0x" + ids[0].hex]), paid = try #require(byId["0x" + ids[1].hex]), unpaid = try #require(byId["0x" + ids[2].hex])
        #expect(order.ok && order.orders.count == 1 && order.orders[0].orderId != nil)
        #expect(order.orders.first?.filled == 0 && order.orders.first?.resting == btc.lot * 1_000)
        #expect(paid.ok && paid.orders.isEmpty)
        #expect(!unpaid.ok && unpaid.code != nil && unpaid.message != nil)

        // An unknown height is a JSON error in either form.
        for binary in [false, true] {
            let missing = try await Self.get(node.port, "/v1/blocks/999999/receipts", binary: binary)
            #expect(missing.status == 404)
            let code = (try? JSONDecoder().decode([String: [String: String]].self, from: missing.body))?["error"]?["code"]
            #expect(code == "unknown_block")
        }
    }

    @Test func aRequestWithWaitIsAnsweredWhenItsBlockIsExecutedOrItsTimeIsUp() async throws {
        let node = try await SingleNode.start()
        defer { Task { await node.stop() } }
        let clock = ContinuousClock()
        // A block two heights on: the idle leader proposes empty blocks, so it comes within a second or so.
        let next = await node.runtime.status().height + 2
        var started = clock.now
        let answer = try await Self.get(node.port, "/v1/blocks/\(next)/receipts?wait=10000", binary: true)
        #expect(answer.status == 200)
        #expect(try BlockReceipts(canonicalBytes: [UInt8](answer.body)).height == next)
        #expect(clock.now - started < .seconds(9))
        // A height far off: a 404 once the wait is over, not before.
        started = clock.now
        let missing = try await Self.get(node.port, "/v1/blocks/999999/receipts?wait=300", binary: true)
        #expect(missing.status == 404)
        #expect(clock.now - started >= .milliseconds(290))
        // A height already executed is answered at once, whatever the wait.
        started = clock.now
        #expect(try await Self.get(node.port, "/v1/blocks/\(next)/receipts?wait=10000", binary: false).status == 200)
        #expect(clock.now - started < .seconds(5))
        for bad in ["abc", "-1", "10001"] {
            let refused = try await Self.get(node.port, "/v1/blocks/1/receipts?wait=\(bad)", binary: true)
            #expect(refused.status == 400)
            let code = (try? JSONDecoder().decode([String: [String: String]].self, from: refused.body))?["error"]?["code"]
            #expect(code == "bad_wait")
        }
    }

    static let sample = BlockReceipts(height: 42, entries: [
        .init(id: Blake2b.hash256([1]), index: 0,
              outcome: StoredReceipt(ok: true, code: nil, message: nil, orders: [
                  ReceiptRecord.OrderRecord(orderId: 7, filled: 1_000, resting: 2_000, code: nil, message: nil),
                  ReceiptRecord.OrderRecord(orderId: nil, filled: 0, resting: 0, code: "would_cross", message: "post-only order crosses"),
              ], notice: "partially filled")),
        .init(id: Blake2b.hash256([2]), index: 3,
              outcome: StoredReceipt(ok: false, code: "insufficient_balance", message: "needs 5, has 1", orders: [], notice: nil)),
    ])

    @Test func theBinaryFormRoundTrips() throws {
        let bytes = Self.sample.canonicalBytes
        #expect(try BlockReceipts(canonicalBytes: bytes) == Self.sample)
        // version, height, count, then the first id.
        #expect(Array(bytes.prefix(10)) == [1, 42, 0, 0, 0, 0, 0, 0, 0, 2])
        #expect(Array(bytes[10..<42]) == Blake2b.hash256([1]).bytes)
        #expect(Array(bytes[42..<45]) == [0, 1, 1 | 8])   // index 0, outcome version 1, flags ok + notice
        let records = Self.sample.records
        #expect(records.map(\.txId) == ["0x" + Blake2b.hash256([1]).hex, "0x" + Blake2b.hash256([2]).hex])
        #expect(records.map(\.index) == [0, 3] && records.allSatisfy { $0.height == 42 })
        #expect(records[1].code == "insufficient_balance" && records[0].orders[1].code == "would_cross")
        #expect(try BlockReceipts(canonicalBytes: BlockReceipts(height: 9, entries: []).canonicalBytes).entries.isEmpty)
    }

    @Test func malformedBytesAreRefusedWithATypedError() {
        let good = Self.sample.canonicalBytes
        func refusal(_ bytes: [UInt8]) -> CodecError? {
            do { _ = try BlockReceipts(canonicalBytes: bytes); return nil } catch { return error }
        }
        #expect(refusal(good + [0]) == .trailingBytes(count: 1))
        #expect(refusal(Array(good.dropLast())) == .unexpectedEnd(needed: 1, remaining: 0))
        #expect(refusal([]) == .unexpectedEnd(needed: 1, remaining: 0))
        var version = good
        version[0] = 2
        #expect(refusal(version) == .unsupportedVersion(type: "block receipts", version: 2))
        // A count over the most a block can hold: 65,537 as LEB128.
        #expect(refusal([1] + [UInt8](repeating: 0, count: 8) + [0x81, 0x80, 0x04])
                == .lengthTooLarge(field: "block receipts", length: 65_537, maximum: 65_536))
        // A non-minimal count (0 written in two bytes).
        #expect(refusal([1] + [UInt8](repeating: 0, count: 8) + [0x80, 0x00]) == .nonMinimalLength)
        // The first outcome's flags (after version, height, count, id and index) with an unknown bit.
        var flags = good
        flags[44] |= 0x40
        #expect(refusal(flags) == .invalidValue(field: "receipt flags", reason: "unknown flag bits in 73"))
        // The outcome's own version.
        var outcomeVersion = good
        outcomeVersion[43] = 9
        #expect(refusal(outcomeVersion) == .unsupportedVersion(type: "stored receipt", version: 9))
    }
}

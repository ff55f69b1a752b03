#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import BallastCrypto
import Foundation
import Ledger
import Node
import NodeTestSupport
import Testing

/// `GET /v1/accounts/{address}/history` on a one-validator node: the ledger's events stored at
/// commit and served newest first, in pages.
@Suite(.serialized) struct HistoryAPITests {
    static let usdc: Int64 = 1_000_000

    @Test func fillsAndTransfersAppearNewestFirstInPages() async throws {
        let node = try await SingleNode.start { $0.rpc.rateLimitPerSecond = 1_000_000 }
        do { try await exercise(node) } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    private func exercise(_ node: SingleNode) async throws {
        let base = "http://127.0.0.1:\(node.port)"
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let maker = try SingleNode.key("history-maker"), taker = try SingleNode.key("history-taker")
        var nonce = UInt64(Date().timeIntervalSince1970 * 1000)

        /// Submits `action` signed by `key` and waits for its receipt (its `txId` names the transaction).
        func run(_ key: SigningKey, _ action: Action) async throws -> ReceiptRecord {
            nonce += 1
            let tx = Transaction(chainID: "ballast-testnet-1", signer: key.publicKey, nonce: nonce, action: action).signed(with: key)
            let id = try await node.runtime.submit(tx.canonicalBytes)
            let receipt = try #require(await node.runtime.waitForCommit(id, timeout: .seconds(30)))
            #expect(receipt.ok, "\(action): \(receipt.message ?? "")")
            return receipt
        }
        func get(_ path: String) async throws -> (status: Int, body: Data) {
            let (data, response) = try await URLSession.shared.data(from: URL(string: base + path)!)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        }
        func page(_ path: String) async throws -> HistoryPage {
            let (status, body) = try await get(path)
            #expect(status == 200, "\(path): \(String(decoding: body, as: UTF8.self))")
            return try JSONDecoder().decode(HistoryPage.self, from: body)
        }

        let funded = try await run(faucet, .transfer(to: taker.address, asset: 0, amount: 10_000 * Self.usdc))
        _ = try await run(faucet, .transfer(to: maker.address, asset: 0, amount: 10_000 * Self.usdc))
        let rest = try await run(maker, .placeOrders([OrderRequest(market: 3, side: .sell, price: 62_000 * Self.usdc, size: 10_000_000)]))
        let take = try await run(taker, .placeOrders([OrderRequest(market: 3, side: .buy, price: 62_000 * Self.usdc, size: 10_000_000,
                                                                   timeInForce: .ioc)]))
        #expect(take.orders.first?.filled == 10_000_000)

        // The taker's history: the fill, then the transfer that funded it.
        let all = try await page("/v1/accounts/\(taker.address)/history")
        #expect(all.address == taker.address && all.next == nil)
        #expect(all.events.map(\.kind) == [.fill, .transfer])
        #expect(all.events.map(\.height) == [take.height, funded.height])
        #expect(all.events.map(\.txIndex) == [UInt32(take.index), UInt32(funded.index)])
        #expect(all.txIds == [take.txId, funded.txId])
        // 0.1 BTC at 62,000: notional 6,200 USDC, taker fee 450 ppm = 2.79 USDC.
        #expect(all.events[0].detail == .fill(FillEvent(
            market: 3, orderId: try #require(take.orders.first?.orderId), cloid: nil, side: .buy, price: 62_000 * Self.usdc,
            size: 10_000_000, quote: 6_200 * Self.usdc, fee: 2_790_000, closedPnl: 0, taker: true, counterparty: maker.address,
            startPosition: 0, tradeIndex: 1)))
        #expect(all.events[1].detail == .transfer(TransferEvent(from: faucet.address, to: taker.address, asset: 0, amount: 10_000 * Self.usdc)))
        // The maker sees its side: maker fee 150 ppm = 0.93 USDC.
        let makerFill = try await page("/v1/accounts/\(maker.address)/history?limit=1").events.first
        guard case .fill(let f) = makerFill?.detail else { Issue.record("maker's newest event is not a fill"); return }
        #expect(f.orderId == rest.orders.first?.orderId && f.fee == 930_000 && !f.taker && f.side == .sell && f.counterparty == taker.address)

        // Pages of one: the fill with a cursor, then the transfer and no further page.
        let first = try await page("/v1/accounts/\(taker.address)/history?limit=1")
        #expect(first.events == [all.events[0]])
        let cursor = try #require(first.next)
        #expect(cursor == "\(take.height)-0")   // the block's events: the taker's fill (0), the maker's (1)
        let second = try await page("/v1/accounts/\(taker.address)/history?limit=1&before=\(cursor)")
        #expect(second.events == [all.events[1]] && second.next == nil)
        // An address without events has an empty history.
        #expect(try await page("/v1/accounts/0x\(String(repeating: "00", count: 20))/history").events.isEmpty)

        // Bad cursor, limit and address: 400 with a code.
        for (path, code) in [("before=57", "bad_cursor"), ("before=a-1", "bad_cursor"), ("before=-1-2", "bad_cursor"),
                             ("before=1-99999999999", "bad_cursor"), ("limit=0", "bad_limit"), ("limit=1001", "bad_limit"),
                             ("limit=ten", "bad_limit")] {
            let (status, body) = try await get("/v1/accounts/\(taker.address)/history?\(path)")
            let answer = try JSONDecoder().decode([String: [String: String]].self, from: body)
            #expect(status == 400 && answer["error"]?["code"] == code, "\(path)")
            #expect(answer["error"]?["message"]?.isEmpty == false)
        }
        let (status, body) = try await get("/v1/accounts/0x12/history")
        #expect(status == 400 && String(decoding: body, as: UTF8.self).contains("bad_address"))
    }
}

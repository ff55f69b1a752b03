import BallastCrypto
import Foundation
import Hummingbird
import Ledger
import Logging
import NIOCore
import Node
import Storage
import Synchronization
import NodeTestSupport
import Testing
import WalletClient

/// The client against the node's real router over loopback HTTP: submit, wait for the
/// receipt, read it back through every query the CLI uses, and the error paths.
@Suite(.serialized) struct NodeClientEndToEndTests {
    @Test func submitWaitAndQueryThroughTheAPI() async throws {
        let node = try await SingleNode.start()
        do { try await exercise(try NodeClient(url: "127.0.0.1:\(node.port)", timeout: 40)) } catch {
            await node.stop()
            throw error
        }
        await node.stop()
    }

    private func exercise(_ client: NodeClient) async throws {

        let status = try await client.status()
        #expect(status.chainId == "ballast-testnet-1")
        let params = try await client.get("/v1/params", as: ChainParameters.self)
        #expect(params.assets.map(\.symbol) == ["USDC", "BTC", "ETH", "HYPE"])
        #expect(params.assets[0].decimals == 6 && params.assets[1].decimals == 8)
        let units = Units(params)

        // A faucet transfer of 250.5 USDC, waited for.
        let faucet = try SingleNode.key("ballast-testnet-faucet")
        let recipient = try SingleNode.key("wallet-e2e-recipient").address
        let nonce = UInt64(Date().timeIntervalSince1970 * 1000)
        let tx = Transaction(chainID: status.chainId, signer: faucet.publicKey, nonce: nonce,
                             action: .transfer(to: recipient, asset: 0, amount: 250_500_000)).signed(with: faucet)
        let (answer, json) = try await client.submit(tx.canonicalBytes, wait: true)
        #expect(answer.txId == "0x" + tx.id.hex)
        #expect(answer.status == "committed")
        let receipt = try #require(answer.receipt)
        #expect(receipt.ok && receipt.height >= 1)
        #expect(String(decoding: json, as: UTF8.self).contains(#""status":"committed""#))

        // The same receipt through GET /v1/tx/{id}, and the block that holds it.
        let looked = try await client.get("/v1/tx/0x\(tx.id.hex)", as: TransactionAnswer.self)
        #expect(looked == answer)
        #expect(Report.transaction(looked) == "0x\(tx.id.hex): committed at height \(receipt.height), index \(receipt.index): ok")
        let block = try await client.get("/v1/blocks/\(receipt.height)", as: BlockView.self)
        #expect(block.transactions.contains("0x" + tx.id.hex))

        // The recipient's account, formatted with USDC's 6 decimals.
        let account = try await client.get("/v1/accounts/\(recipient)", as: AccountSummary.self)
        let usdc = try #require(account.balances.first { $0.asset == 0 })
        #expect(usdc.wallet == 250_500_000)
        let text = Report.account(account, units: units)
        let usdcRow = text.split(separator: "\n").first { $0.hasPrefix("USDC") }.map { $0.split(separator: " ").map(String.init) }
        #expect(usdcRow == ["USDC", "250.500000", "0.000000", "0.000000", "250.500000"], "\(text)")
        #expect(text.contains("PORTFOLIO") && text.contains("STANDARD"))
        #expect(text.contains("maintenance requirement"))

        // The recipient's history: the transfer, shown in USDC with its sign and counterparty.
        let history = try await client.history(recipient.description, limit: 10)
        #expect(history.events.map(\.kind) == [.transfer] && history.next == nil)
        let historyText = Report.history(history, units: units)
        let transferRow = historyText.split(separator: "\n").first { $0.contains("transfer") }.map { $0.split(separator: " ").map(String.init) }
        #expect(transferRow?.first == String(receipt.height)
                && transferRow.map { Array($0.dropFirst(2)) } == ["transfer", "USDC", "+250.500000", "from", faucet.address.description],
                "\(historyText)")

        // Markets and pools render one row per genesis entry (plus the header).
        let markets = try await client.get("/v1/markets", as: [MarketView].self)
        #expect(Report.markets(markets, units: units).split(separator: "\n").count == params.markets.count + 1)
        let pools = try await client.get("/v1/pools", as: [PoolView].self)
        #expect(Report.pools(pools, units: units).split(separator: "\n").count == params.assets.count + 2)
        let book = try await client.get("/v1/markets/0/book?levels=5", as: BookView.self)
        #expect(book.market == 0)

        // Errors keep the node's code.
        await expectRejected(404, "unknown_tx") { _ = try await client.get("/v1/tx/0x" + String(repeating: "ab", count: 32), as: TransactionAnswer.self) }
        await expectRejected(400, "bad_tx_id") { _ = try await client.getJSON("/v1/tx/zz") }
        await expectRejected(404, "not_found") { _ = try await client.getJSON("/v1/nothing") }
        await expectRejected(400, "bad_levels") { _ = try await client.getJSON("/v1/markets/0/book?levels=0") }
        await expectRejected(400, "bad_hex") { _ = try await client.send("POST", "/v1/tx", body: Data("xyz".utf8)) }
        let wrongChain = Transaction(chainID: "other-chain", signer: faucet.publicKey, nonce: nonce + 1,
                                     action: .transfer(to: recipient, asset: 0, amount: 1)).signed(with: faucet)
        await expectRejected(400, "wrong_chain") { _ = try await client.submit(wrongChain.canonicalBytes, wait: false) }
    }

    private func expectRejected(_ status: Int, _ code: String, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected HTTP \(status) \(code), got success")
        } catch let NodeClientError.rejected(s, c, _) {
            #expect(s == status && c == code)
        } catch {
            Issue.record("expected HTTP \(status) \(code), got \(error)")
        }
    }
}
